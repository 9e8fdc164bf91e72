/*
** wk_crc32c.c — CRC-32C in software, eight bytes per step ("slicing by 8": eight 256-entry tables
** built once, on first use, from the reflected polynomial 0x82F63B78).
**
** THREADS. The tables are filled by pthread_once, so concurrent first calls from several threads
** are safe; afterwards they are read-only.
*/
#include <pthread.h>
#include <string.h>

#include "wk_crc32c.h"

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_tables(void) {
  uint32_t i, k;
  for (i = 0; i < 256; i++) {
    uint32_t c = i;
    for (k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
    table[0][i] = c;
  }
  for (i = 0; i < 256; i++)
    for (k = 1; k < 8; k++) table[k][i] = (table[k - 1][i] >> 8) ^ table[0][table[k - 1][i] & 0xFF];
}

uint32_t wk__crc32c_extend(uint32_t crc, const void *data, size_t size) {
  const unsigned char *p = (const unsigned char *)data;
  uint32_t c = ~crc;
  pthread_once(&table_once, build_tables);
  while (size >= 8) {
    /* little-endian assembly byte by byte: correct on any host */
    uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
    c = table[7][lo & 0xFF] ^ table[6][(lo >> 8) & 0xFF] ^ table[5][(lo >> 16) & 0xFF] ^ table[4][lo >> 24] ^
        table[3][hi & 0xFF] ^ table[2][(hi >> 8) & 0xFF] ^ table[1][(hi >> 16) & 0xFF] ^ table[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size-- > 0) c = table[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
  return ~c;
}
