/*
** wk_status.c — the library version, status names and the error-message setter.
*/
#include <stdarg.h>
#include <stdio.h>

#include "wk_internal.h"

const char *wk_version(void) {
  return WK_VERSION_STRING;
}

const char *wk_status_string(wk_status status) {
  switch (status) {
    case WK_OK: return "ok";
    case WK_ENOMEM: return "out of memory";
    case WK_EINVAL: return "invalid argument";
    case WK_ESHAPE: return "shape mismatch";
    case WK_EDTYPE: return "unsupported dtype";
    case WK_ELIMIT: return "limit exceeded";
    case WK_EIO: return "input/output error";
    case WK_EFORMAT: return "bad file format";
  }
  return "unknown status";
}

/*
** The message is formatted straight into the caller's buffer; vsnprintf truncates and
** always NUL-terminates, so an over-long message is cut, never overflowed.
*/
wk_status wk__error_set(wk_error *err, wk_status code, const char *fmt, ...) {
  if (err != NULL) {
    va_list ap;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
  }
  return code;
}
