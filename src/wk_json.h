/*
** wk_json.h — a bounded pull reader for JSON text (RFC 8259) and the JSON string escaping of
** the writers (private, prefix wk__json_).
**
** The reader walks the text in place and builds no tree: the caller asks for the value it
** expects next (wk__json_peek tells which kind comes) and skips the rest with wk__json_skip, so
** memory stays what the caller keeps, whatever the text holds. Nesting deeper than max_depth
** (at most WK__JSON_MAX_DEPTH) is refused; wk__json_skip is the only recursion, bounded by it.
** Strings are checked as UTF-8 and decoded (every escape, \uXXXX surrogate pairs joined, a lone
** surrogate refused); numbers follow the JSON grammar and are read as integers only by
** wk__json_integer (a fraction or exponent is refused there). Objects skipped by wk__json_skip
** are checked for duplicate keys; the caller checks the objects it reads itself
** (wk__json_sort_unique).
**
** ERRORS. A failing call returns 0 and leaves a static description in j->error and the byte
** offset in j->error_pos (the first error sticks: later calls fail at once). The caller turns
** them into a wk_error naming its file.
**
** OWNERSHIP. The text is borrowed for the reader's life; decoded strings go to the caller's arena.
*/
#ifndef WK_JSON_H
#define WK_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "wk_file.h"

#define WK__JSON_MAX_DEPTH 64

typedef enum wk__json_kind {
  WK__JSON_ERROR = 0, /* nothing valid comes next (end of text, bad byte) */
  WK__JSON_OBJECT, WK__JSON_ARRAY, WK__JSON_STRING, WK__JSON_NUMBER,
  WK__JSON_TRUE, WK__JSON_FALSE, WK__JSON_NULL
} wk__json_kind;

typedef struct wk__json {
  const unsigned char *text;
  size_t size, pos;
  int depth, max_depth;
  uint64_t is_object; /* bit d: container at depth d+1 is an object */
  uint64_t has_item;  /* bit d: container at depth d+1 has had an element */
  const char *error;  /* static text of the first error; NULL while none */
  size_t error_pos;
} wk__json;

/* A decoded string: `len` bytes (may hold NULs), NUL-terminated after them. */
typedef struct wk__json_str {
  const char *s;
  size_t len;
} wk__json_str;

void wk__json_init(wk__json *j, const void *text, size_t size, int max_depth);

/* The kind of the next value (after whitespace), not consumed. */
wk__json_kind wk__json_peek(wk__json *j);

/* Consumes '{' (wk__json_object) or '[' (wk__json_array); 0 when something else comes or the
** nesting would pass max_depth. */
int wk__json_object(wk__json *j);
int wk__json_array(wk__json *j);

/* Inside the innermost container: 1 when an element follows (the ',' before it consumed; in
** an object the key and ':' are read into *key, decoded into `a`, which may be NULL to skip
** it), 0 when the container ended (its closer consumed) or on an error (j->error set). */
int wk__json_next(wk__json *j, wk__arena *a, wk__json_str *key);

/* A string value decoded into `a` (NULL: checked and skipped). */
int wk__json_string(wk__json *j, wk__arena *a, wk__json_str *out);

/* An integer value: no fraction, no exponent, within int64. */
int wk__json_integer(wk__json *j, int64_t *out);

/* Skips any value (checking its grammar, its depth and its objects' keys for duplicates). */
int wk__json_skip(wk__json *j);

/* Only whitespace remains. */
int wk__json_finish(wk__json *j);

/* Sorts keys bytewise; returns the index (in the sorted array) of the second of two equal keys,
** or (size_t)-1 when all differ. */
size_t wk__json_sort_unique(wk__json_str *keys, size_t n);

/* 1 when the n bytes at p are valid UTF-8 (no surrogates, no overlong forms, <= U+10FFFF). */
int wk__json_utf8_valid(const void *p, size_t n);

/* The JSON string literal of the n bytes at s (quotes included; '"', '\\' and control
** characters escaped, \u00XX in lowercase hex for those without a short form; other bytes as
** they are) appended to buf at *len. With buf NULL only *len advances (to size a buffer). */
void wk__json_quote(char *buf, size_t *len, const char *s, size_t n);

#endif
