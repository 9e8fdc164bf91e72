/*
** wk_zip.h — what the .keras archive reader (wk_keras_zip.c) and its guard (wk_zip_guard.c)
** share. Private to the core (prefix wk__zip_); only these files and the writer include zip.h.
**
** The archive is opened by libzip from the bytes of a region (a file mapping or caller memory)
** that the handle keeps for its whole life. wk__zip_guard vets every central-directory entry
** before anything is read from it and lists the entries in f->members (arena memory).
*/
#ifndef WK_ZIP_H
#define WK_ZIP_H

#include <zip.h>

#include "wk_file.h"
#include "wk_internal.h"

/*
** Checks the archive open as `za` over `size` bytes at `data` (the same bytes libzip reads),
** and fills f->members / f->member_count. Refused (messages name f->name and the member):
**   WK_ELIMIT   more entries than opts.max_tensors; a possible zip bomb: Keras's rule (declares
**               more than 4 GiB and more than 100x its stored size), or a deflated member
**               declaring more than max(WK__EXPAND_FLOOR, stored size * opts.max_expand_ratio)
**   WK_EFORMAT  a central directory that does not walk from its end record; a name that is
**               empty, absolute ('/', '\\' or a drive letter first), has a ".." component or
**               a NUL byte, or repeats another ('\\' and '/' alike); encryption; a method other
**               than stored (0) or deflated (8); a stored member whose sizes differ
*/
wk_status wk__zip_guard(wk_file *f, zip_t *za, const unsigned char *data, size_t size, wk_error *err);

/* 1 when the stored member name `stored` names `wanted` ('\\' and '/' alike), else 0. */
int wk__zip_name_eq(const char *stored, const char *wanted);

#endif
