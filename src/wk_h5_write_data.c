/*
** wk_h5_write_data.c — one weight dataset of a Keras 2 weights file: the HDF5 type h5py gives
** the numpy dtype, the tensor's shape, contiguous layout, the values.
**
** TYPES (file / memory). The file type is little-endian whatever the host; the memory type is
** the same type in the host's byte order, so libhdf5 swaps bytes only on big-endian hosts.
**   int8..uint64  H5T_STD_{I,U}{8,16,32,64}LE
**   float32/64    H5T_IEEE_F32LE / H5T_IEEE_F64LE
**   float16       h5py's half: a copy of IEEE_F32LE with fields (sign 15, exponent at 10 of 5
**                 bits, mantissa at 0 of 10 bits), size 2, exponent bias 15
**   bool          h5py's numpy-bool enum: base H5T_STD_I8LE, members FALSE = 0, TRUE = 1
**   bfloat16      written as float32 (see weightkit.h "Writing"): the values are widened
**                 exactly with wk_tensor_cast before the write.
*/
#include <string.h>

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

/* A new type id (the caller closes it) for `dtype` (never bfloat16) in file (little-endian)
** or memory (host) byte order; < 0 on failure. */
static hid_t h5_type(wk_dtype dtype, int memory) {
  hid_t base;
  hid_t t;
  switch (dtype) {
    case WK_BOOL: return bool_type(H5T_STD_I8LE);
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

wk_status wk__h5w_dataset(hid_t group, const char *rel, const wk_tensor *t, hid_t lcpl, hid_t dcpl,
                          const char *ctx, wk_error *err) {
  wk_tensor *widened = NULL;
  const wk_tensor *src = t;
  wk_dtype dtype = wk_tensor_dtype(t);
  hsize_t dims[WK_MAX_RANK];
  hid_t ftype = -1, mtype = -1, space = -1, dset = -1;
  int rank = wk_tensor_rank(t), i;
  wk_status s = WK_OK;

  if (dtype == WK_BFLOAT16) {
    s = wk_tensor_cast(t, WK_FLOAT32, &widened, err);
    if (s != WK_OK) return s;
    src = widened;
    dtype = WK_FLOAT32;
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
  dset = H5Dcreate2(group, rel, ftype, space, lcpl, dcpl, H5P_DEFAULT);
  if (dset < 0) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot create the dataset", ctx);
    goto done;
  }
  /* Like h5py's `dset[...] = value`; a 0-element dataset stays unallocated. */
  if (wk_tensor_numel(src) > 0 &&
      H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, wk_tensor_data(src)) < 0) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot write the dataset", ctx);
    goto done;
  }
  if (H5Dclose(dset) < 0) {
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
  return s;
}
