/*
** wk_test_records.h — the expectation records the C tests read from their Python oracles, and
** the file reader they share. Header-only: each test that reads records includes it once.
**
** A record is one line of tab-separated fields written by a Python script in spec/c; a field may
** carry any byte as %XX (hex), so names with tabs, newlines or '%' survive. Fields beyond
** WK_REC_FIELDS are dropped. Every string is malloc'd and lives until the test exits.
*/
#ifndef WK_TEST_RECORDS_H
#define WK_TEST_RECORDS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WK_REC_FIELDS 12

typedef struct rec {
  int n;
  char *f[WK_REC_FIELDS];
} rec;

static rec *recs;
static size_t nrecs;

static inline int hexval(int c) {
  return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A NUL-terminated copy of the first len bytes of s with %XX escapes decoded. */
static inline char *unquote(const char *s, size_t len) {
  char *out = (char *)malloc(len + 1), *o = out;
  size_t i;
  for (i = 0; i < len; i++) {
    if (s[i] == '%' && i + 2 < len + 1 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
      *o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
      i += 2;
    } else {
      *o++ = s[i];
    }
  }
  *o = '\0';
  return out;
}

/* Runs `command` (a Python oracle) and appends its records to recs; 1 when it exited with
** status 0 and wrote at least one record. */
static inline int load_records(const char *command) {
  static char line[1 << 20];
  size_t cap = nrecs;
  FILE *p = popen(command, "r");
  if (p == NULL) return 0;
  while (fgets(line, sizeof line, p) != NULL) {
    rec r;
    char *s = line, *tab;
    size_t len = strcspn(line, "\n");
    line[len] = '\0';
    if (len == 0) continue;
    r.n = 0;
    for (;;) {
      tab = strchr(s, '\t');
      if (r.n < WK_REC_FIELDS) r.f[r.n++] = unquote(s, tab ? (size_t)(tab - s) : strlen(s));
      if (tab == NULL) break;
      s = tab + 1;
    }
    if (nrecs == cap) {
      cap = cap ? cap * 2 : 256;
      recs = (rec *)realloc(recs, cap * sizeof *recs);
    }
    recs[nrecs++] = r;
  }
  return pclose(p) == 0 && nrecs > 0;
}

/* 1 when the record's first field is `tag`. */
static inline int is(const rec *r, const char *tag) { return r->n > 0 && strcmp(r->f[0], tag) == 0; }

#endif
