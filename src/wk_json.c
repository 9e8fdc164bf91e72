/*
** wk_json.c — the bounded JSON pull reader and the string quoting of wk_json.h.
**
** Grammar facts (RFC 8259): whitespace is space, tab, LF, CR; a string holds no raw byte below
** 0x20; escapes are \" \\ \/ \b \f \n \r \t \uXXXX, and a character above U+FFFF is escaped as
** a UTF-16 surrogate pair; numbers are -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; the
** literals are true, false, null. Strings must be UTF-8.
*/
#include <stdlib.h>
#include <string.h>

#include "wk_json.h"

void wk__json_init(wk__json *j, const void *text, size_t size, int max_depth) {
  memset(j, 0, sizeof *j);
  j->text = (const unsigned char *)text;
  j->size = size;
  j->max_depth = max_depth < 1 ? 1 : max_depth > WK__JSON_MAX_DEPTH ? WK__JSON_MAX_DEPTH : max_depth;
}

static int fail(wk__json *j, const char *what) {
  if (j->error == NULL) {
    j->error = what;
    j->error_pos = j->pos;
  }
  return 0;
}

static void skip_ws(wk__json *j) {
  while (j->pos < j->size) {
    unsigned char c = j->text[j->pos];
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
    j->pos++;
  }
}

wk__json_kind wk__json_peek(wk__json *j) {
  if (j->error != NULL) return WK__JSON_ERROR;
  skip_ws(j);
  if (j->pos >= j->size) return WK__JSON_ERROR;
  switch (j->text[j->pos]) {
    case '{': return WK__JSON_OBJECT;
    case '[': return WK__JSON_ARRAY;
    case '"': return WK__JSON_STRING;
    case 't': return WK__JSON_TRUE;
    case 'f': return WK__JSON_FALSE;
    case 'n': return WK__JSON_NULL;
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9': return WK__JSON_NUMBER;
    default: return WK__JSON_ERROR;
  }
}

/* {====================================================================
** Containers
** ===================================================================== */

static int enter(wk__json *j, unsigned char open, int object) {
  uint64_t bit;
  if (j->error != NULL) return 0;
  skip_ws(j);
  if (j->pos >= j->size || j->text[j->pos] != open)
    return fail(j, object ? "an object expected" : "an array expected");
  if (j->depth >= j->max_depth) return fail(j, "nesting too deep");
  bit = (uint64_t)1 << j->depth;
  j->is_object = object ? j->is_object | bit : j->is_object & ~bit;
  j->has_item &= ~bit;
  j->depth++;
  j->pos++;
  return 1;
}

int wk__json_object(wk__json *j) { return enter(j, '{', 1); }
int wk__json_array(wk__json *j) { return enter(j, '[', 0); }

int wk__json_next(wk__json *j, wk__arena *a, wk__json_str *key) {
  uint64_t bit;
  int object;
  unsigned char c;
  if (j->error != NULL) return 0;
  if (j->depth == 0) return fail(j, "not inside an object or array");
  bit = (uint64_t)1 << (j->depth - 1);
  object = (j->is_object & bit) != 0;
  skip_ws(j);
  if (j->pos >= j->size) return fail(j, "unexpected end of text");
  c = j->text[j->pos];
  if (c == (object ? '}' : ']')) {
    j->pos++;
    j->depth--;
    return 0;
  }
  if (j->has_item & bit) {
    if (c != ',') return fail(j, object ? "',' or '}' expected" : "',' or ']' expected");
    j->pos++;
  }
  j->has_item |= bit;
  if (object) {
    wk__json_str dummy;
    if (wk__json_peek(j) != WK__JSON_STRING) return fail(j, "a string key expected");
    if (!wk__json_string(j, a, key != NULL ? key : &dummy)) return 0;
    skip_ws(j);
    if (j->pos >= j->size || j->text[j->pos] != ':') return fail(j, "':' expected");
    j->pos++;
  }
  /* an element must follow: a closer right after ',' is refused by the value's reader */
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Strings
** ===================================================================== */

/* Length of the UTF-8 sequence at p (at most n bytes available), 0 when invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n) {
  unsigned c = p[0];
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80) return 0;
    if (c == 0xe0 && p[1] < 0xa0) return 0; /* overlong */
    if (c == 0xed && p[1] >= 0xa0) return 0; /* a surrogate */
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) return 0;
    if (c == 0xf0 && p[1] < 0x90) return 0; /* overlong */
    if (c == 0xf4 && p[1] >= 0x90) return 0; /* above U+10FFFF */
    return 4;
  }
  return 0;
}

int wk__json_utf8_valid(const void *p, size_t n) {
  const unsigned char *s = (const unsigned char *)p;
  size_t i = 0;
  while (i < n) {
    size_t k = utf8_seq(s + i, n - i);
    if (k == 0) return 0;
    i += k;
  }
  return 1;
}

static int hex4(const unsigned char *p, unsigned *out) {
  unsigned v = 0;
  int i;
  for (i = 0; i < 4; i++) {
    unsigned c = p[i], d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return 0;
    v = v << 4 | d;
  }
  *out = v;
  return 1;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (unsigned char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (unsigned char)(0xc0 | cp >> 6);
    o[1] = (unsigned char)(0x80 | (cp & 0x3f));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (unsigned char)(0xe0 | cp >> 12);
    o[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
    o[2] = (unsigned char)(0x80 | (cp & 0x3f));
    return 3;
  }
  o[0] = (unsigned char)(0xf0 | cp >> 18);
  o[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
  o[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
  o[3] = (unsigned char)(0x80 | (cp & 0x3f));
  return 4;
}

/*
** One escape at p (after the backslash, `n` bytes available): its code point in *cp and the
** bytes it used in *used. A high surrogate must be followed by \u and a low one.
*/
static const char *escape(const unsigned char *p, size_t n, unsigned *cp, size_t *used) {
  unsigned hi, lo;
  switch (p[0]) {
    case '"': *cp = '"'; break;
    case '\\': *cp = '\\'; break;
    case '/': *cp = '/'; break;
    case 'b': *cp = 8; break;
    case 'f': *cp = 12; break;
    case 'n': *cp = 10; break;
    case 'r': *cp = 13; break;
    case 't': *cp = 9; break;
    case 'u':
      if (n < 5 || !hex4(p + 1, &hi)) return "a bad \\u escape";
      *used = 5;
      if (hi >= 0xdc00 && hi <= 0xdfff) return "a lone low surrogate in a \\u escape";
      if (hi >= 0xd800 && hi <= 0xdbff) {
        if (n < 11 || p[5] != '\\' || p[6] != 'u' || !hex4(p + 7, &lo) || lo < 0xdc00 || lo > 0xdfff)
          return "a lone high surrogate in a \\u escape";
        *cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
        *used = 11;
      } else {
        *cp = hi;
      }
      return NULL;
    default: return "a bad escape";
  }
  *used = 1;
  return NULL;
}

int wk__json_string(wk__json *j, wk__arena *a, wk__json_str *out) {
  size_t start, end, i;
  unsigned char *o = NULL;
  size_t olen = 0;
  if (wk__json_peek(j) != WK__JSON_STRING) return fail(j, "a string expected");
  start = ++j->pos;
  /* find the closing quote (an escaped byte never closes) */
  for (end = start; end < j->size && j->text[end] != '"'; end++)
    if (j->text[end] == '\\') end++;
  if (end >= j->size) return fail(j, "an unterminated string");
  if (a != NULL) {
    o = (unsigned char *)wk__arena_alloc(a, end - start + 1); /* decoding never grows */
    if (o == NULL) return fail(j, "out of memory");
  }
  for (i = start; i < end;) {
    unsigned char c = j->text[i];
    if (c == '\\') {
      unsigned cp = 0;
      size_t used = 0;
      const char *bad = escape(j->text + i + 1, end - i - 1, &cp, &used);
      if (bad != NULL) {
        j->pos = i;
        return fail(j, bad);
      }
      if (o != NULL) olen += put_utf8(o + olen, cp);
      else olen += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      i += 1 + used;
    } else if (c < 0x20) {
      j->pos = i;
      return fail(j, "a control character in a string");
    } else {
      size_t k = utf8_seq(j->text + i, end - i);
      if (k == 0) {
        j->pos = i;
        return fail(j, "invalid UTF-8 in a string");
      }
      if (o != NULL) memcpy(o + olen, j->text + i, k);
      olen += k;
      i += k;
    }
  }
  j->pos = end + 1;
  if (o != NULL) o[olen] = '\0';
  out->s = (const char *)o;
  out->len = olen;
  return 1;
}

/* }==================================================================== */

/* {====================================================================
** Numbers and literals
** ===================================================================== */

/* Scans a number; *integral when it has no fraction and no exponent. */
static int scan_number(wk__json *j, int *integral) {
  const unsigned char *t = j->text;
  size_t p = j->pos, n = j->size;
  *integral = 1;
  if (p < n && t[p] == '-') p++;
  if (p >= n || t[p] < '0' || t[p] > '9') goto bad;
  if (t[p] == '0') p++;
  else
    while (p < n && t[p] >= '0' && t[p] <= '9') p++;
  if (p < n && t[p] == '.') {
    *integral = 0;
    if (++p >= n || t[p] < '0' || t[p] > '9') goto bad;
    while (p < n && t[p] >= '0' && t[p] <= '9') p++;
  }
  if (p < n && (t[p] == 'e' || t[p] == 'E')) {
    *integral = 0;
    if (++p < n && (t[p] == '+' || t[p] == '-')) p++;
    if (p >= n || t[p] < '0' || t[p] > '9') goto bad;
    while (p < n && t[p] >= '0' && t[p] <= '9') p++;
  }
  j->pos = p;
  return 1;
bad:
  j->pos = p;
  return fail(j, "a malformed number");
}

int wk__json_integer(wk__json *j, int64_t *out) {
  size_t start;
  int integral, neg;
  uint64_t v = 0, limit;
  size_t i;
  if (wk__json_peek(j) != WK__JSON_NUMBER) return fail(j, "an integer expected");
  start = j->pos;
  if (!scan_number(j, &integral)) return 0;
  if (!integral) {
    j->pos = start;
    return fail(j, "a number with a fraction or exponent where an integer is expected");
  }
  neg = j->text[start] == '-';
  limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (i = start + (size_t)neg; i < j->pos; i++) {
    unsigned d = (unsigned)(j->text[i] - '0');
    if (v > (limit - d) / 10) {
      j->pos = start;
      return fail(j, "an integer out of range");
    }
    v = v * 10 + d;
  }
  *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
  return 1;
}

static int literal(wk__json *j, const char *word) {
  size_t n = strlen(word);
  if (j->size - j->pos < n || memcmp(j->text + j->pos, word, n) != 0) return fail(j, "a bad literal");
  j->pos += n;
  return 1;
}

/* }==================================================================== */

static int str_cmp(const void *a, const void *b) {
  const wk__json_str *x = (const wk__json_str *)a, *y = (const wk__json_str *)b;
  size_t n = x->len < y->len ? x->len : y->len;
  int c = n ? memcmp(x->s, y->s, n) : 0;
  if (c != 0) return c;
  return x->len < y->len ? -1 : x->len > y->len;
}

size_t wk__json_sort_unique(wk__json_str *keys, size_t n) {
  size_t i;
  if (n < 2) return (size_t)-1;
  qsort(keys, n, sizeof *keys, str_cmp);
  for (i = 1; i < n; i++)
    if (str_cmp(&keys[i - 1], &keys[i]) == 0) return i;
  return (size_t)-1;
}

/* Skips an object's members, collecting its keys to refuse duplicates. */
static int skip_object(wk__json *j) {
  wk__arena scratch = {NULL};
  wk__json_str *keys = NULL, key;
  size_t n = 0, cap = 0;
  int ok = 1;
  if (!wk__json_object(j)) return 0;
  while (ok && wk__json_next(j, &scratch, &key)) {
    if (n == cap) {
      size_t nc = cap ? cap * 2 : 16;
      wk__json_str *nk = (wk__json_str *)realloc(keys, nc * sizeof *nk);
      if (nk == NULL) {
        ok = fail(j, "out of memory");
        break;
      }
      keys = nk;
      cap = nc;
    }
    keys[n++] = key;
    ok = wk__json_skip(j);
  }
  if (ok && j->error == NULL && wk__json_sort_unique(keys, n) != (size_t)-1) ok = fail(j, "a duplicate key in an object");
  free(keys);
  wk__arena_free(&scratch);
  return ok && j->error == NULL;
}

int wk__json_skip(wk__json *j) {
  int integral;
  switch (wk__json_peek(j)) {
    case WK__JSON_OBJECT: return skip_object(j);
    case WK__JSON_ARRAY:
      if (!wk__json_array(j)) return 0;
      while (wk__json_next(j, NULL, NULL))
        if (!wk__json_skip(j)) return 0;
      return j->error == NULL;
    case WK__JSON_STRING: {
      wk__json_str s;
      return wk__json_string(j, NULL, &s);
    }
    case WK__JSON_NUMBER: return scan_number(j, &integral);
    case WK__JSON_TRUE: return literal(j, "true");
    case WK__JSON_FALSE: return literal(j, "false");
    case WK__JSON_NULL: return literal(j, "null");
    default: return fail(j, j->pos >= j->size ? "unexpected end of text" : "a value expected");
  }
}

int wk__json_finish(wk__json *j) {
  if (j->error != NULL) return 0;
  skip_ws(j);
  if (j->depth != 0) return fail(j, "unexpected end of text");
  return j->pos == j->size ? 1 : fail(j, "text after the value");
}

void wk__json_quote(char *buf, size_t *len, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t i, o = *len;
  if (buf) buf[o] = '"';
  o++;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char short_form = c == '"' ? '"' : c == '\\' ? '\\' : c == 8 ? 'b' : c == 12 ? 'f' : c == 10 ? 'n'
                    : c == 13 ? 'r' : c == 9 ? 't' : 0;
    if (short_form) {
      if (buf) {
        buf[o] = '\\';
        buf[o + 1] = short_form;
      }
      o += 2;
    } else if (c < 0x20) {
      if (buf) {
        memcpy(buf + o, "\\u00", 4);
        buf[o + 4] = hex[c >> 4];
        buf[o + 5] = hex[c & 15];
      }
      o += 6;
    } else {
      if (buf) buf[o] = (char)c;
      o++;
    }
  }
  if (buf) buf[o] = '"';
  *len = o + 1;
}
