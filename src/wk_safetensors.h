/*
** wk_safetensors.h — the safetensors reader and the facts its writer shares (private, prefix
** wk__safetensors_). The format (huggingface/safetensors):
**
**   8 bytes     N, the header's byte length, unsigned little-endian
**   N bytes     UTF-8 JSON object: tensor name -> {"dtype": "F32", "shape": [2, 3],
**               "data_offsets": [begin, end]}, plus an optional "__metadata__" object of string
**               values; the reference writer pads it with spaces to a multiple of 8 bytes
**   the data    every tensor's bytes, little-endian, C order, at [8 + N + begin, 8 + N + end);
**               the tensors tile the data exactly (no hole, no overlap) up to the end of the file
**
** DETECTION (for wk_file.c): a file is safetensors when its first 8 bytes hold N with
** 2 <= N <= size - 8 and byte 8 is '{' (wk__safetensors_sniff).
*/
#ifndef WK_SAFETENSORS_H
#define WK_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "wk_file.h"

/* Opens the file at `path`: mapped (opts.no_mmap: the header and each tensor pread instead).
** Sets f->format to "safetensors". On failure it leaves `f` for the caller to close. */
wk_status wk__safetensors_open_path(wk_file *f, const char *path, wk_error *err);

/* Parses `size` bytes at `data` (alive and unchanged as long as the handle and its tensors, as
** wk__h5_open_image): f->region already wraps that image (zero-copy reads are windows on it)
** or is NULL (every read copies from `data`). On failure it leaves `f` for the caller. */
wk_status wk__safetensors_open_memory(wk_file *f, const void *data, size_t size, wk_error *err);

/* 1 when `head` (the first head_len bytes of a file of file_size bytes) starts a safetensors
** file by the DETECTION rule above (head_len >= 9 needed). */
int wk__safetensors_sniff(const unsigned char *head, size_t head_len, uint64_t file_size);

/* The header's dtype code of a wk dtype ("F32", "BOOL", ...). */
const char *wk__safetensors_dtype_code(wk_dtype dtype);
/* The place of a wk dtype in the reference's Dtype enum (BOOL lowest, U64 highest: its
** alignment order), by which the writer sorts the tensors, largest first. */
int wk__safetensors_dtype_rank(wk_dtype dtype);

#endif
