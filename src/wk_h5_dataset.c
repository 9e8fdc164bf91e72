/*
** wk_h5_dataset.c — HDF5 datasets as wk tensors: type mapping, metadata, and the two read
** paths (zero-copy window on the file mapping, or H5Dread with conversion).
*/
#include <string.h>

#include "wk_h5.h"

/* {====================================================================
** Types
** ===================================================================== */

/*
** HDF5 type -> wk dtype. Integers of 1/2/4/8 bytes and IEEE floats of 4/8 bytes map by
** size and sign (precision and byte order are converted by libhdf5 when they differ from the
** native type); 2-byte floats are float16 (5 exponent bits, h5py's type) or bfloat16
** (8 exponent bits); bool is h5py's ENUM over a 1-byte integer with members FALSE=0, TRUE=1.
** Anything else has no wk dtype (WK_DTYPE_COUNT and the class name).
*/
static wk_dtype map_type(hid_t t, const char **name) {
  H5T_class_t c = H5Tget_class(t);
  size_t size = H5Tget_size(t);
  if (c == H5T_INTEGER) {
    int sign = H5Tget_sign(t) == H5T_SGN_2;
    switch (size) {
      case 1: return sign ? WK_INT8 : WK_UINT8;
      case 2: return sign ? WK_INT16 : WK_UINT16;
      case 4: return sign ? WK_INT32 : WK_UINT32;
      case 8: return sign ? WK_INT64 : WK_UINT64;
      default: *name = "integer"; return WK_DTYPE_COUNT;
    }
  }
  if (c == H5T_FLOAT) {
    size_t spos, epos, esize, mpos, msize;
    if (size == 4) return WK_FLOAT32;
    if (size == 8) return WK_FLOAT64;
    if (size == 2 && H5Tget_fields(t, &spos, &epos, &esize, &mpos, &msize) >= 0) {
      if (esize == 5 && msize == 10) return WK_FLOAT16;
      if (esize == 8 && msize == 7) return WK_BFLOAT16;
    }
    *name = "float";
    return WK_DTYPE_COUNT;
  }
  if (c == H5T_ENUM && size == 1 && H5Tget_nmembers(t) == 2) {
    hid_t base = H5Tget_super(t);
    int ok = base >= 0 && H5Tget_class(base) == H5T_INTEGER;
    int i;
    for (i = 0; ok && i < 2; i++) {
      char *mname = H5Tget_member_name(t, (unsigned)i);
      signed char v = 0;
      if (mname == NULL || H5Tget_member_value(t, (unsigned)i, &v) < 0) ok = 0;
      else if (!((strcmp(mname, "FALSE") == 0 && v == 0) || (strcmp(mname, "TRUE") == 0 && v == 1))) ok = 0;
      if (mname != NULL) H5free_memory(mname);
    }
    if (base >= 0) H5Tclose(base);
    if (ok) return WK_BOOL;
  }
  H5Eclear2(H5E_DEFAULT);
  *name = c == H5T_STRING ? "string" : c == H5T_COMPOUND ? "compound" : c == H5T_OPAQUE ? "opaque"
        : c == H5T_VLEN ? "vlen" : c == H5T_ARRAY ? "array" : c == H5T_REFERENCE ? "reference"
        : c == H5T_ENUM ? "enum" : c == H5T_BITFIELD ? "bitfield" : c == H5T_TIME ? "time"
        : c == H5T_INTEGER ? "integer" : c == H5T_FLOAT ? "float" : "unknown";
  return WK_DTYPE_COUNT;
}

/* A 2-byte float in native order: float16 (bias 15) or bfloat16 (bias 127). */
static hid_t half_type(int bf16) {
  hid_t t = H5Tcopy(H5T_NATIVE_FLOAT);
  if (t < 0) return -1;
  if ((bf16 ? H5Tset_fields(t, 15, 7, 8, 0, 7) : H5Tset_fields(t, 15, 10, 5, 0, 10)) < 0 ||
      H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, bf16 ? 127 : 15) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

/* The memory type libhdf5 converts to: the native type of the dtype. *owned tells whether
** the caller must H5Tclose it. bool reads the file's own enum type (raw bytes, normalized by
** the caller). bfloat16 stored as Keras 3 stores it (a 2-byte opaque or integer dataset
** tagged dtype = "bfloat16", wk_h5_keras3.c) reads its raw 2-byte values: an integer type
** through the native integer of its sign (libhdf5 swaps a big-endian one), an opaque one
** as stored (NumPy wrote its bytes little-endian, as on every host Keras runs on). */
static hid_t mem_type(wk_dtype dtype, hid_t ftype, int *owned) {
  *owned = 0;
  switch (dtype) {
    case WK_BOOL: *owned = 1; return H5Tcopy(ftype);
    case WK_INT8: return H5T_NATIVE_INT8;
    case WK_UINT8: return H5T_NATIVE_UINT8;
    case WK_INT16: return H5T_NATIVE_INT16;
    case WK_UINT16: return H5T_NATIVE_UINT16;
    case WK_INT32: return H5T_NATIVE_INT32;
    case WK_UINT32: return H5T_NATIVE_UINT32;
    case WK_INT64: return H5T_NATIVE_INT64;
    case WK_UINT64: return H5T_NATIVE_UINT64;
    case WK_FLOAT16: *owned = 1; return half_type(0);
    case WK_BFLOAT16:
      if (H5Tget_class(ftype) == H5T_OPAQUE) { *owned = 1; return H5Tcopy(ftype); }
      if (H5Tget_class(ftype) == H5T_INTEGER)
        return H5Tget_sign(ftype) == H5T_SGN_2 ? H5T_NATIVE_INT16 : H5T_NATIVE_UINT16;
      *owned = 1;
      return half_type(1);
    case WK_FLOAT32: return H5T_NATIVE_FLOAT;
    case WK_FLOAT64: return H5T_NATIVE_DOUBLE;
    default: return -1;
  }
}

/* }==================================================================== */

wk_status wk__h5_describe(hid_t dset, wk_tensor_info *info, const char *ctx, wk_error *err) {
  hid_t dcpl = -1, space = -1, type = -1;
  hsize_t dims[WK_MAX_RANK];
  wk_status st = WK_OK;
  H5D_layout_t layout;
  H5S_class_t sclass;
  int rank = 0, i;
  int64_t numel = 1;
  const char *tname = NULL;

  /* Fast case first: a defined H5Dget_offset means contiguous storage in this file (libhdf5
  ** returns HADDR_UNDEF for chunked, compact, virtual, external and unallocated data; filters
  ** need chunking), so the creation property list -- a full copy of a property list, a good
  ** part of the per-dataset cost on files with many datasets -- is only fetched otherwise. */
  if (H5Dget_offset(dset) != HADDR_UNDEF) {
    layout = H5D_CONTIGUOUS;
  } else {
    H5Eclear2(H5E_DEFAULT);
    layout = H5D_LAYOUT_ERROR;
  }
  if ((layout == H5D_LAYOUT_ERROR && (dcpl = H5Dget_create_plist(dset)) < 0) ||
      (space = H5Dget_space(dset)) < 0 || (type = H5Dget_type(dset)) < 0) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: cannot read dataset metadata", ctx);
    goto done;
  }
  if (dcpl >= 0) layout = H5Pget_layout(dcpl);
  if (layout == H5D_VIRTUAL) {
    st = wk__error_set(err, WK_EFORMAT, "%s: virtual dataset refused", ctx);
    goto done;
  }
  if (dcpl >= 0 && H5Pget_external_count(dcpl) != 0) {
    st = wk__error_set(err, WK_EFORMAT, "%s: external dataset refused (its data lives in another file)", ctx);
    goto done;
  }
  if (layout != H5D_CONTIGUOUS && layout != H5D_CHUNKED && layout != H5D_COMPACT) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: unknown dataset layout", ctx);
    goto done;
  }
  sclass = H5Sget_simple_extent_type(space);
  if (sclass == H5S_SIMPLE) {
    rank = H5Sget_simple_extent_ndims(space);
    if (rank < 0) {
      st = wk__h5_error(err, WK_EFORMAT, "%s: bad dataspace", ctx);
      goto done;
    }
    if (rank > WK_MAX_RANK) {
      st = wk__error_set(err, WK_ELIMIT, "%s: rank %d exceeds the limit of %d", ctx, rank, WK_MAX_RANK);
      goto done;
    }
    if (H5Sget_simple_extent_dims(space, dims, NULL) != rank) {
      st = wk__h5_error(err, WK_EFORMAT, "%s: bad dataspace", ctx);
      goto done;
    }
  } else if (sclass != H5S_SCALAR) {
    st = wk__error_set(err, WK_EFORMAT, "%s: dataset has no dataspace (null or unknown)", ctx);
    goto done;
  }
  memset(info->shape, 0, sizeof info->shape);
  for (i = 0; i < rank; i++) {
    if (dims[i] > (hsize_t)INT64_MAX || !wk__mul_i64(numel, (int64_t)dims[i], &numel)) {
      st = wk__error_set(err, WK_ELIMIT, "%s: element count overflows", ctx);
      goto done;
    }
    info->shape[i] = (int64_t)dims[i];
  }
  info->rank = rank;
  info->numel = numel;
  info->dtype = map_type(type, &tname);
  info->nbytes = 0;
  if (info->dtype != WK_DTYPE_COUNT) {
    if ((uint64_t)numel > (uint64_t)SIZE_MAX ||
        !wk__mul_size((size_t)numel, wk_dtype_size(info->dtype), &info->nbytes)) {
      st = wk__error_set(err, WK_ELIMIT, "%s: byte size overflows", ctx);
      goto done;
    }
    info->dtype_name = wk_dtype_name(info->dtype);
  } else {
    info->dtype_name = tname;
  }
  info->layout = layout == H5D_CONTIGUOUS ? "contiguous" : layout == H5D_CHUNKED ? "chunked" : "compact";
  info->filtered = dcpl >= 0 && H5Pget_nfilters(dcpl) > 0;
  info->big_endian = H5Tget_class(type) != H5T_STRING && H5Tget_order(type) == H5T_ORDER_BE;
  H5Eclear2(H5E_DEFAULT); /* H5Tget_order fails harmlessly on some classes */
done:
  if (type >= 0) H5Tclose(type);
  if (space >= 0) H5Sclose(space);
  if (dcpl >= 0) H5Pclose(dcpl);
  return st;
}

/* {====================================================================
** Reads
** ===================================================================== */

/*
** Zero-copy window: only for a contiguous, unfiltered dataset whose file type equals the
** native memory type (H5Tequal), whose storage is allocated (H5Dget_offset defined, storage
** size covering the declared bytes) and whose address is aligned to the element size in the
** mapping. *window is 0 when the dataset does not qualify (the caller reads it instead);
** a window that qualifies but does not lie inside the file is an error (a hostile file).
*/
static wk_status try_window(hid_t dset, hid_t ftype, hid_t mtype, wk__region *region,
                            const wk_tensor_info *info, const char *ctx, wk_tensor **out,
                            int *window, wk_error *err) {
  haddr_t off;
  hsize_t stored;
  size_t esize = wk_dtype_size(info->dtype);
  *window = 0;
  if (region == NULL || info->dtype == WK_BOOL || strcmp(info->layout, "contiguous") != 0 ||
      info->filtered || H5Tequal(ftype, mtype) <= 0)
    return WK_OK;
  off = H5Dget_offset(dset);
  H5Eclear2(H5E_DEFAULT);
  if (off == HADDR_UNDEF) return WK_OK;
  stored = H5Dget_storage_size(dset);
  if (stored < (hsize_t)info->nbytes) return WK_OK;
  if ((uint64_t)off > (uint64_t)wk__region_size(region) ||
      info->nbytes > wk__region_size(region) - (size_t)off)
    return wk__error_set(err, WK_EFORMAT,
                         "%s: data [%llu, +%zu) lies outside the file (%zu bytes)", ctx,
                         (unsigned long long)off, info->nbytes, wk__region_size(region));
  if (((uintptr_t)(wk__region_data(region) + off)) % esize != 0) return WK_OK; /* misaligned */
  *window = 1;
  return wk__region_tensor(region, (uint64_t)off, info->dtype, info->rank, info->shape,
                           info->nbytes, out, err);
}

int wk__h5_window(hid_t dset, const wk__region *region, const wk_tensor_info *info,
                  uint64_t *offset) {
  hid_t ftype, mtype;
  haddr_t off;
  hsize_t stored;
  int owned = 0, same;
  if (region == NULL || info->dtype == WK_DTYPE_COUNT || info->dtype == WK_BOOL ||
      info->nbytes == 0 || strcmp(info->layout, "contiguous") != 0 || info->filtered)
    return 0;
  if ((ftype = H5Dget_type(dset)) < 0) {
    H5Eclear2(H5E_DEFAULT);
    return 0;
  }
  mtype = mem_type(info->dtype, ftype, &owned);
  same = mtype >= 0 && H5Tequal(ftype, mtype) > 0;
  if (owned && mtype >= 0) H5Tclose(mtype);
  H5Tclose(ftype);
  off = same ? H5Dget_offset(dset) : HADDR_UNDEF;
  stored = off != HADDR_UNDEF ? H5Dget_storage_size(dset) : 0;
  H5Eclear2(H5E_DEFAULT);
  if (off == HADDR_UNDEF || stored < (hsize_t)info->nbytes) return 0;
  if ((uint64_t)off > (uint64_t)wk__region_size(region) ||
      info->nbytes > wk__region_size(region) - (size_t)off)
    return 0;
  if (((uintptr_t)(wk__region_data(region) + off)) % wk_dtype_size(info->dtype) != 0) return 0;
  *offset = (uint64_t)off;
  return 1;
}

wk_status wk__h5_read(hid_t file, wk__region *region, const wk_open_options *opts,
                      const wk_tensor_info *info, const char *ctx, wk_tensor **out, wk_error *err) {
  hid_t dset = -1, ftype = -1, mtype = -1, space = -1;
  int owned = 0, window = 0;
  wk_tensor *t = NULL;
  wk_status st = WK_OK;

  if (info->dtype == WK_DTYPE_COUNT)
    return wk__error_set(err, WK_EDTYPE, "%s: HDF5 type %s has no weightkit dtype", ctx, info->dtype_name);
  if ((dset = H5Dopen2(file, info->path, H5P_DEFAULT)) < 0 || (ftype = H5Dget_type(dset)) < 0 ||
      (space = H5Dget_space(dset)) < 0) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: cannot open dataset", ctx);
    goto done;
  }
  if (H5Sget_simple_extent_npoints(space) != (hssize_t)info->numel) {
    st = wk__error_set(err, WK_EFORMAT, "%s: dataset changed since the file was opened", ctx);
    goto done;
  }
  if ((mtype = mem_type(info->dtype, ftype, &owned)) < 0) {
    st = wk__h5_error(err, WK_EFORMAT, "%s: cannot build the memory type", ctx);
    goto done;
  }
  if (info->nbytes == 0) {
    st = wk_tensor_new(info->dtype, info->rank, info->shape, out, err);
    goto done;
  }
  st = try_window(dset, ftype, mtype, region, info, ctx, out, &window, err);
  if (st != WK_OK || window) goto done;
  {
    /* Read with conversion. Bound what a small file can make us allocate: chunked and
    ** compressed data expand, unallocated data reads as fill values. */
    hsize_t stored = H5Dget_storage_size(dset);
    size_t limit = WK__EXPAND_FLOOR, scaled;
    void *buf;
    if (wk__mul_size((size_t)stored, opts->max_expand_ratio, &scaled)) {
      if (scaled > limit) limit = scaled;
    } else {
      limit = SIZE_MAX;
    }
    if (info->nbytes > limit) {
      st = wk__error_set(err, WK_ELIMIT,
                         "%s: declares %zu bytes but stores %llu (expansion limit %zux)", ctx,
                         info->nbytes, (unsigned long long)stored, opts->max_expand_ratio);
      goto done;
    }
    st = wk_tensor_new(info->dtype, info->rank, info->shape, &t, err);
    if (st == WK_OK) st = wk_tensor_mutable_data(t, &buf, err);
    if (st != WK_OK) goto done;
    if (H5Dread(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
      st = wk__h5_error(err, WK_EFORMAT, "%s: cannot read dataset", ctx);
      goto done;
    }
    if (info->dtype == WK_BOOL) {
      unsigned char *p = (unsigned char *)buf;
      size_t i;
      for (i = 0; i < info->nbytes; i++) p[i] = p[i] != 0;
    }
    *out = t;
    t = NULL;
  }
done:
  wk_tensor_release(t);
  if (owned && mtype >= 0) H5Tclose(mtype);
  if (space >= 0) H5Sclose(space);
  if (ftype >= 0) H5Tclose(ftype);
  if (dset >= 0) H5Dclose(dset);
  return st;
}

/* }==================================================================== */
