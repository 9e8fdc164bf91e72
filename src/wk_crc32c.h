/*
** wk_crc32c.h — CRC-32C (Castagnoli) and the masked form TensorFlow stores (private, prefix wk__).
**
** TF tensor bundles (keras-formats.md §5.2, §5.4) checksum every table block and every tensor with
** CRC-32C (reflected polynomial 0x82F63B78, initial value and final xor 0xFFFFFFFF) and store it
** masked: mask(c) = rotate_right(c, 15) + 0xA282EAD8 (mod 2^32), so that a CRC of data holding
** CRCs does not degenerate.
*/
#ifndef WK_CRC32C_H
#define WK_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues `crc` (0 for a fresh start: the value of an empty input) over size bytes at data. */
uint32_t wk__crc32c_extend(uint32_t crc, const void *data, size_t size);

static inline uint32_t wk__crc32c(const void *data, size_t size) { return wk__crc32c_extend(0, data, size); }

static inline uint32_t wk__crc32c_mask(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u; }

static inline uint32_t wk__crc32c_unmask(uint32_t masked) {
  uint32_t rot = masked - 0xA282EAD8u;
  return (rot >> 17) | (rot << 15);
}

#endif
