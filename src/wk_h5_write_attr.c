/*
** wk_h5_write_attr.c — the string attributes of the weights files: for Keras 2 (keras-formats.md
** §1.3, §1.4) name lists (layer_names, weight_names) with Keras's chunking, empty lists as
** float64 (0,), scalar strings (backend, keras_version, weightkit_version); for Keras 3 (§4.1)
** the scalar variable-length UTF-8 strings h5py writes for a Python str (`name`, `dtype`).
**
** Why fixed-length strings: h5py 2 (the Keras <= 2.4 era) stored a Python list of bytes
** through numpy.asarray, i.e. numpy `S<maxlen>`: fixed-length, NULLPAD, ASCII. Every Keras reads
** that (h5py returns numpy bytes, which Keras decodes), while the variable-length strings h5py 3
** writes break Keras <= 2.3's `.decode('utf8')`. Chunks are fixed-length in every version.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wk_h5.h"
#include "wk_h5_write.h"

size_t wk__h5w_chunk_count(size_t count, size_t maxlen) {
  size_t k = 1;
  if (maxlen == 0) maxlen = 1;
  /* numpy.array_split(a, k): the largest chunk has ceil(count / k) items. */
  while (k < count && ((count + k - 1) / k) * maxlen > WK_HDF5_ATTRIBUTE_LIMIT) k++;
  return k;
}

/* Creates attribute `name` of `type` over `space` and writes `buf`. Closes nothing it was given. */
static wk_status put_attr(hid_t obj, const char *name, hid_t type, hid_t space, const void *buf,
                          const char *ctx, wk_error *err) {
  hid_t attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t rc;
  if (attr < 0) return wk__h5_error(err, WK_EIO, "%s: cannot create attribute %s", ctx, name);
  rc = H5Awrite(attr, type, buf);
  if (rc < 0) {
    wk__h5_error(err, WK_EIO, "%s: cannot write attribute %s", ctx, name);
    H5Aclose(attr);
    return WK_EIO;
  }
  if (H5Aclose(attr) < 0) return wk__h5_error(err, WK_EIO, "%s: cannot write attribute %s", ctx, name);
  return WK_OK;
}

/* A fixed-length NULLPAD ASCII string type of `size` bytes; < 0 on failure. */
static hid_t fixed_string_type(size_t size) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return t;
  if (H5Tset_size(t, size) < 0 || H5Tset_strpad(t, H5T_STR_NULLPAD) < 0 ||
      H5Tset_cset(t, H5T_CSET_ASCII) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

static wk_status empty_list(hid_t obj, const char *name, const char *ctx, wk_error *err) {
  hsize_t dims[1] = {0};
  double dummy = 0.0;
  hid_t space = H5Screate_simple(1, dims, NULL);
  wk_status s;
  if (space < 0) return wk__h5_error(err, WK_EIO, "%s: cannot create attribute %s", ctx, name);
  s = put_attr(obj, name, H5T_IEEE_F64LE, space, &dummy, ctx, err);
  H5Sclose(space);
  return s;
}

/* One attribute holding names[0 .. n-1] as `size`-byte strings. */
static wk_status string_array(hid_t obj, const char *name, const char *const *names, size_t n, size_t size,
                              const char *ctx, wk_error *err) {
  hsize_t dims[1];
  size_t total, i;
  char *buf;
  hid_t type, space;
  wk_status s;
  if (!wk__mul_size(n, size, &total))
    return wk__error_set(err, WK_ELIMIT, "%s: attribute %s is too large", ctx, name);
  buf = (char *)calloc(total ? total : 1, 1);
  if (buf == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory for attribute %s", ctx, name);
  for (i = 0; i < n; i++) memcpy(buf + i * size, names[i], strlen(names[i]));
  dims[0] = (hsize_t)n;
  type = fixed_string_type(size);
  space = (type >= 0) ? H5Screate_simple(1, dims, NULL) : -1;
  if (space < 0) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot create attribute %s", ctx, name);
  } else {
    s = put_attr(obj, name, type, space, buf, ctx, err);
  }
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  free(buf);
  return s;
}

wk_status wk__h5w_name_list(hid_t obj, const char *name, const char *const *names, size_t count,
                            const char *ctx, wk_error *err) {
  size_t maxlen = 1, i, k, start;
  if (count == 0) return empty_list(obj, name, ctx, err);
  for (i = 0; i < count; i++) {
    size_t len = strlen(names[i]);
    if (len > WK_HDF5_ATTRIBUTE_LIMIT)
      return wk__error_set(err, WK_ELIMIT,
                           "%s: The following attributes cannot be saved to HDF5 file because they are "
                           "larger than %d bytes: [b'%.40s...'] (%s item %zu, %zu bytes)",
                           ctx, WK_HDF5_ATTRIBUTE_LIMIT, names[i], name, i + 1, len);
    if (len > maxlen) maxlen = len;
  }
  k = wk__h5w_chunk_count(count, maxlen);
  if (k == 1) return string_array(obj, name, names, count, maxlen, ctx, err);
  /* numpy.array_split: the first count % k chunks get one item more. */
  for (i = 0, start = 0; i < k; i++) {
    size_t n = count / k + (i < count % k ? 1 : 0);
    char chunk_name[128];
    wk_status s;
    snprintf(chunk_name, sizeof chunk_name, "%.80s%zu", name, i);
    s = string_array(obj, chunk_name, names + start, n, maxlen, ctx, err);
    if (s != WK_OK) return s;
    start += n;
  }
  return WK_OK;
}

wk_status wk__h5w_scalar_string(hid_t obj, const char *name, const char *value, const char *ctx,
                                wk_error *err) {
  size_t len = strlen(value);
  size_t size = len ? len : 1;
  char *buf = (char *)calloc(size, 1);
  hid_t type, space;
  wk_status s;
  if (buf == NULL) return wk__error_set(err, WK_ENOMEM, "%s: out of memory for attribute %s", ctx, name);
  memcpy(buf, value, len);
  type = fixed_string_type(size);
  space = (type >= 0) ? H5Screate(H5S_SCALAR) : -1;
  if (space < 0) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot create attribute %s", ctx, name);
  } else {
    s = put_attr(obj, name, type, space, buf, ctx, err);
  }
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  free(buf);
  return s;
}

wk_status wk__h5w_vlen_string(hid_t obj, const char *name, const char *value, H5T_cset_t cset,
                              const char *ctx, wk_error *err) {
  hid_t type = H5Tcopy(H5T_C_S1), space = -1;
  wk_status s;
  /* h5py's vlen string types: variable length, NULLTERM (H5T_C_S1's padding), cset UTF-8 for a
  ** str, ASCII for bytes. The buffer of a vlen string attribute is an array of `char *`, here
  ** one. */
  if (type >= 0 && H5Tset_size(type, H5T_VARIABLE) >= 0 && H5Tset_cset(type, cset) >= 0)
    space = H5Screate(H5S_SCALAR);
  if (space < 0) {
    s = wk__h5_error(err, WK_EIO, "%s: cannot create attribute %s", ctx, name);
  } else {
    s = put_attr(obj, name, type, space, &value, ctx, err);
  }
  if (space >= 0) H5Sclose(space);
  if (type >= 0) H5Tclose(type);
  return s;
}
