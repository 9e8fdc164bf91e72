/*
** wk_h5_write_data.c — one weight dataset of a weights file: the HDF5 type h5py gives the numpy
** dtype, the tensor's shape, contiguous layout, the values; and the tensor bytes written
** outside libhdf5 after the file is closed (section "Raw write").
**
** TYPES (file / memory). The file type is little-endian whatever the host; the memory type is
** the same type in the host's byte order, so libhdf5 swaps bytes only on big-endian hosts.
**   int8..uint64  H5T_STD_{I,U}{8,16,32,64}LE
**   float32/64    H5T_IEEE_F32LE / H5T_IEEE_F64LE
**   float16       h5py's half: a copy of IEEE_F32LE with fields (sign 15, exponent at 10 of 5
**                 bits, mantissa at 0 of 10 bits), size 2, exponent bias 15
**   bool          h5py's numpy-bool enum: base H5T_STD_I8LE, members FALSE = 0, TRUE = 1
**   bfloat16      Keras 2 files (WK__H5W_BF16_FLOAT32): written as float32, the values widened
**                 exactly with wk_tensor_cast before the write. Keras 3 files
**                 (WK__H5W_BF16_OPAQUE): what h5py makes of an ml_dtypes bfloat16 array (numpy
**                 kind 'V', 2 bytes): H5T_OPAQUE of size 2 with no tag (H5Tcreate only; h5py
**                 3.7 stores the tag "" for numpy 'V2'), the little-endian bfloat16 bits, and
**                 the dataset attribute dtype = "bfloat16" (vlen UTF-8) Keras reads it by.
**                 Opaque data is never converted, so a big-endian host swaps the bytes itself.
**
** VALUES. On a little-endian host the file bytes of every dtype but widened bfloat16 are the
** tensor's own bytes (float16, opaque bfloat16 and the bool enum included). For such a dataset
** of WK__H5W_DIRECT_MIN bytes or more, only its first element goes through H5Dwrite (which
** allocates its contiguous storage; the creation properties stay h5py's: late allocation, fill
** time "if set"), its address (H5Dget_offset) goes into the save's plan, and the frame writes
** all its bytes after H5Fclose (wk__h5w_raw_write) or patches them into the memory image.
** Smaller datasets, widened bfloat16 and big-endian hosts go through H5Dwrite.
*/
#define _GNU_SOURCE /* sync_file_range (Linux), in wk__h5w_raw_write */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wk_h5.h"
#include "wk_h5_write.h"

static int host_is_big_endian(void) {
  const uint16_t probe = 1;
  return *(const unsigned char *)&probe == 0;
}

static hid_t half_type(hid_t base) {
  hid_t t = H5Tcopy(base);
  if (t < 0) return t;
  if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

static hid_t bool_type(hid_t base) {
  hid_t t = H5Tenum_create(base);
  signed char v;
  if (t < 0) return t;
  v = 0;
  if (H5Tenum_insert(t, "FALSE", &v) < 0) goto fail;
  v = 1;
  if (H5Tenum_insert(t, "TRUE", &v) < 0) goto fail;
  return t;
fail:
  H5Tclose(t);
  return -1;
}

/* A new type id (the caller closes it) for `dtype` in file (little-endian) or memory (host)
** byte order (bfloat16: the opaque type, which libhdf5 never converts); < 0 on failure. */
static hid_t h5_type(wk_dtype dtype, int memory) {
  hid_t base;
  hid_t t;
  switch (dtype) {
    case WK_BOOL: return bool_type(H5T_STD_I8LE);
    case WK_BFLOAT16: return H5Tcreate(H5T_OPAQUE, 2);
    case WK_INT8: base = H5T_STD_I8LE; break;
    case WK_UINT8: base = H5T_STD_U8LE; break;
    case WK_INT16: base = H5T_STD_I16LE; break;
    case WK_UINT16: base = H5T_STD_U16LE; break;
    case WK_INT32: base = H5T_STD_I32LE; break;
    case WK_UINT32: base = H5T_STD_U32LE; break;
    case WK_INT64: base = H5T_STD_I64LE; break;
    case WK_UINT64: base = H5T_STD_U64LE; break;
    case WK_FLOAT32: base = H5T_IEEE_F32LE; break;
    case WK_FLOAT64: base = H5T_IEEE_F64LE; break;
    case WK_FLOAT16: base = H5T_IEEE_F32LE; break;
    default: return -1;
  }
  t = (dtype == WK_FLOAT16) ? half_type(base) : H5Tcopy(base);
  if (t >= 0 && memory && host_is_big_endian() && H5Tset_order(t, H5T_ORDER_BE) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

void wk__h5w_plan_free(wk__h5w_plan *plan) {
  free(plan->items);
  plan->items = NULL;
  plan->count = plan->cap = 0;
}

static wk_status plan_add(wk__h5w_plan *plan, uint64_t offset, const void *data, size_t size, const char *ctx,
                          wk_error *err) {
  if (plan->count == plan->cap) {
    size_t cap = plan->cap ? 2 * plan->cap : 64;
    wk__h5w_piece *items = (wk__h5w_piece *)realloc(plan->items, cap * sizeof *items);
    if (items == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
    plan->items = items;
    plan->cap = cap;
  }
  plan->items[plan->count].offset = offset;
  plan->items[plan->count].data = data;
  plan->items[plan->count].size = size;
  plan->count++;
  return WK_OK;
}

/*
** Writes the dataset's first element only (its true value). With h5py's late allocation this
** allocates the whole contiguous storage; fill time "if set" with the default fill value writes
** nothing else. The dataset then has its address, and its creation properties stay h5py's.
*/
static wk_status first_element(hid_t dset, hid_t mtype, const wk_tensor *t, int rank, const char *ctx,
                               wk_error *err) {
  hsize_t start[WK_MAX_RANK], count[WK_MAX_RANK], one = 1;
  hid_t fspace = -1, mspace = -1;
  int i;
  wk_status s = WK_OK;
  for (i = 0; i < rank; i++) {
    start[i] = 0;
    count[i] = 1;
  }
  fspace = H5Dget_space(dset);
  mspace = H5Screate_simple(1, &one, NULL);
  if (fspace < 0 || mspace < 0 ||
      (rank > 0 && H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0) ||
      H5Dwrite(dset, mtype, mspace, fspace, H5P_DEFAULT, wk_tensor_data(t)) < 0)
    s = wk__h5_error(err, WK_EIO, "%s: cannot write the dataset", ctx);
  if (mspace >= 0) H5Sclose(mspace);
  if (fspace >= 0) H5Sclose(fspace);
  return s;
}

/* The bfloat16 bits in little-endian order (a malloc'd copy, for big-endian hosts); NULL when
** out of memory. */
static void *swapped_bf16(const wk_tensor *t) {
  size_t n = (size_t)wk_tensor_numel(t), i;
  const unsigned char *src = (const unsigned char *)wk_tensor_data(t);
  unsigned char *dst = (unsigned char *)malloc(n ? 2 * n : 1);
  if (dst == NULL) return NULL;
  for (i = 0; i < n; i++) {
    dst[2 * i] = src[2 * i + 1];
    dst[2 * i + 1] = src[2 * i];
  }
  return dst;
}

wk_status wk__h5w_dataset(const wk__h5w *w, hid_t group, const char *rel, const wk_tensor *t,
                          wk__h5w_bf16 bf16, const char *ctx, wk_error *err) {
  wk_tensor *widened = NULL;
  const wk_tensor *src = t;
  const void *bytes;
  void *swapped = NULL;
  wk_dtype dtype = wk_tensor_dtype(t);
  hsize_t dims[WK_MAX_RANK];
  hid_t ftype = -1, mtype = -1, space = -1, dset = -1;
  int rank = wk_tensor_rank(t), i;
  wk_status s = WK_OK;

  if (dtype == WK_BFLOAT16 && bf16 == WK__H5W_BF16_FLOAT32) {
    s = wk_tensor_cast(t, WK_FLOAT32, &widened, err);
    if (s != WK_OK) return s;
    src = widened;
    dtype = WK_FLOAT32;
  }
  bytes = wk_tensor_data(src);
  if (dtype == WK_BFLOAT16 && host_is_big_endian() && wk_tensor_numel(src) > 0) {
    bytes = swapped = swapped_bf16(src);
    if (swapped == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory", ctx);
  }
  for (i = 0; i < rank; i++) dims[i] = (hsize_t)wk_tensor_shape(src)[i];
  ftype = h5_type(dtype, 0);
  mtype = h5_type(dtype, 1);
  if (ftype < 0 || mtype < 0) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot make the HDF5 type for dtype %s", ctx, wk_dtype_name(dtype));
    goto done;
  }
  space = (rank == 0) ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
  if (space < 0) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot make the dataspace", ctx);
    goto done;
  }
  dset = H5Dcreate2(group, rel, ftype, space, w->lcpl, w->dcpl, H5P_DEFAULT);
  if (dset < 0) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot create the dataset", ctx);
    goto done;
  }
  if (wk_tensor_numel(src) > 0) {
    haddr_t at = HADDR_UNDEF;
    size_t nbytes = wk_tensor_nbytes(src);
    if (w->plan != NULL && widened == NULL && !host_is_big_endian() && nbytes >= WK__H5W_DIRECT_MIN) {
      s = first_element(dset, mtype, src, rank, ctx, err);
      if (s != WK_OK) goto done;
      at = H5Dget_offset(dset);
      if (at != HADDR_UNDEF && H5Dget_storage_size(dset) != (hsize_t)nbytes) at = HADDR_UNDEF;
      H5Eclear2(H5E_DEFAULT); /* no address: the whole write goes through H5Dwrite below */
    }
    if (at != HADDR_UNDEF) {
      s = plan_add(w->plan, (uint64_t)at, bytes, nbytes, ctx, err);
      if (s != WK_OK) goto done;
    } else if (H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes) < 0) {
      /* Like h5py's `dset[...] = value`; a 0-element dataset stays unallocated. */
      s = wk__h5_error(err, WK_EIO, "%s: cannot write the dataset", ctx);
      goto done;
    }
  }
  if (dtype == WK_BFLOAT16) s = wk__h5w_vlen_string(dset, "dtype", "bfloat16", H5T_CSET_UTF8, ctx, err);
  if (H5Dclose(dset) < 0 && s == WK_OK) {
    dset = -1;
    s = wk__h5_error(err, WK_EIO, "%s: cannot write the dataset", ctx);
    goto done;
  }
  dset = -1;
done:
  if (dset >= 0) H5Dclose(dset);
  if (space >= 0) H5Sclose(space);
  if (mtype >= 0) H5Tclose(mtype);
  if (ftype >= 0) H5Tclose(ftype);
  wk_tensor_release(widened);
  free(swapped);
  return s;
}

/* {====================================================================
** Raw write
** ===================================================================== */

/*
** The tensor bytes of a save, written after libhdf5 closed the file (wk__h5w_raw_write; the
** plan comes from wk__h5w_dataset).
**
** WHY. libhdf5's H5Dwrite goes through its data path per dataset; the bytes end up in the page
** cache either way, and filling 1 GiB of fresh page-cache pages is what a save costs on a
** virtual machine (first touch of guest memory is slow), then the fsync writes it all at the
** end. Here the bytes go with pwrite straight from the tensors' memory, in file-offset order
** (one sequential stream), and the writeback is pipelined with the copy:
**
**   every WINDOW bytes of file written:  sync_file_range(WRITE) starts writeback of that window;
**   once a window is LAG windows behind: sync_file_range(WAIT_BEFORE|WRITE|WAIT_AFTER) waits
**                                        for it, then POSIX_FADV_DONTNEED drops its (now clean)
**                                        pages,
**
** so the device writes while we copy, at most LAG + 1 windows (40 MiB) of the file are in the
** page cache at once, and the same pages are reused from window to window instead of fresh ones.
** Measured on the bench VM (1 GiB, 2 shared cores): pwrite + fsync 0.55-3 s (fresh pages), this
** pipeline 0.36-0.66 s; without the DONTNEED 0.6-1.1 s; LAG 2 a little slower than 4 or 8 under
** load. The saved file is thus not left in the page cache.
**
** DURABILITY. One fdatasync at the end covers the whole file: writeback errors of the pipeline
** are taken from sync_file_range's own result (its WAIT_AFTER consumes the error the later
** fdatasync would have reported, so it is checked here), the HDF5 metadata written by libhdf5's
** descriptor is the same inode's page cache, and fdatasync flushes the data plus the metadata
** needed to read it back (size, block allocation) and the device's write cache; what it skips
** (timestamps) does not matter for the rename that follows (wk_atomic.c), which is made durable
** by the directory's fsync. Where sync_file_range does not exist (or the filesystem refuses it)
** the pipeline is off: plain pwrite, then fdatasync.
*/

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif

#define WINDOW ((uint64_t)8 << 20)
#define LAG 4 /* windows in writeback while the next one is copied */

typedef struct raw {
  int fd;
  int pipeline;    /* sync_file_range works here */
  uint64_t kicked; /* writeback started for [0, kicked) (a multiple of WINDOW) */
  uint64_t done;   /* [0, done) written back and dropped from the page cache */
  int error;       /* errno of the first failure */
  const char *what;
} raw;

static int cmp_piece(const void *a, const void *b) {
  const wk__h5w_piece *x = (const wk__h5w_piece *)a, *y = (const wk__h5w_piece *)b;
  return (x->offset > y->offset) - (x->offset < y->offset);
}

static int fail(raw *r, const char *what, int e) {
  r->error = e;
  r->what = what;
  return -1;
}

/* The pipeline's step once [0, end) is written. */
static int advance(raw *r, uint64_t end) {
#ifdef SYNC_FILE_RANGE_WRITE
  uint64_t frontier = end - end % WINDOW;
  if (!r->pipeline || frontier <= r->kicked) return 0;
  if (sync_file_range(r->fd, (off_t)r->kicked, (off_t)(frontier - r->kicked), SYNC_FILE_RANGE_WRITE) != 0) {
    if (errno == ENOSYS || errno == EINVAL || errno == ESPIPE || errno == EOPNOTSUPP) {
      r->pipeline = 0; /* not supported here: the final fdatasync does it all */
      return 0;
    }
    return fail(r, "cannot write the tensor data", errno);
  }
  r->kicked = frontier;
  if (r->kicked - r->done > LAG * WINDOW) {
    uint64_t upto = r->kicked - LAG * WINDOW;
    if (sync_file_range(r->fd, (off_t)r->done, (off_t)(upto - r->done),
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0)
      return fail(r, "cannot write the tensor data", errno);
    (void)posix_fadvise(r->fd, (off_t)r->done, (off_t)(upto - r->done), POSIX_FADV_DONTNEED);
    r->done = upto;
  }
#else
  (void)r;
  (void)end;
#endif
  return 0;
}

/* Writes one piece, in steps that end on WINDOW boundaries (so the pipeline keeps pace). */
static int put(raw *r, const wk__h5w_piece *p) {
  const unsigned char *data = (const unsigned char *)p->data;
  uint64_t off = p->offset;
  size_t left = p->size;
  while (left > 0) {
    size_t step = (size_t)(WINDOW - off % WINDOW);
    ssize_t n;
    if (step > left) step = left;
    n = pwrite(r->fd, data, step, (off_t)off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(r, "cannot write the tensor data", errno);
    }
    if (n == 0) return fail(r, "cannot write the tensor data", EIO);
    data += n;
    off += (uint64_t)n;
    left -= (size_t)n;
    if (advance(r, off) != 0) return -1;
  }
  return 0;
}

wk_status wk__h5w_raw_write(const char *path, wk__h5w_plan *plan, const char *shown, wk_error *err) {
  raw r;
  size_t i;
  int rc = 0;
  memset(&r, 0, sizeof r);
  r.pipeline = 1;
  if (plan->count > 1) qsort(plan->items, plan->count, sizeof *plan->items, cmp_piece);
  for (i = 1; i < plan->count; i++)
    if (plan->items[i - 1].offset + plan->items[i - 1].size > plan->items[i].offset)
      return wk__error_set(err, WK_EIO, "%s: libhdf5 gave overlapping dataset addresses", shown);
  r.fd = open(path, O_WRONLY | O_CLOEXEC);
  if (r.fd < 0) return wk__error_set(err, WK_EIO, "%s: cannot reopen the written file: %s", shown, strerror(errno));
  for (i = 0; i < plan->count && rc == 0; i++) rc = put(&r, &plan->items[i]);
  if (rc == 0) {
    int s;
    do {
#if defined(_POSIX_SYNCHRONIZED_IO) && _POSIX_SYNCHRONIZED_IO > 0
      s = fdatasync(r.fd);
#else
      s = fsync(r.fd);
#endif
    } while (s != 0 && errno == EINTR);
    if (s != 0 && errno != EINVAL && errno != EROFS) rc = fail(&r, "cannot flush the written file to disk", errno);
  }
  if (close(r.fd) != 0 && rc == 0 && errno != EINTR) rc = fail(&r, "cannot write the tensor data", errno);
  if (rc != 0) return wk__error_set(err, WK_EIO, "%s: %s: %s", shown, r.what, strerror(r.error));
  return WK_OK;
}

/* }==================================================================== */
