/*
** wk_atomic.h — replace a file atomically (private, prefix wk__atomic_).
**
** A writer never touches the target: it writes a temporary file in the target's directory
** (so the final rename stays inside one filesystem), then commits (fsync the data, rename
** over the target, fsync the directory) or aborts (unlink the temporary). Whatever fails, the
** previous target is left byte-identical and no temporary stays behind.
**
**   wk__atomic a;
**   if (wk__atomic_begin(&a, path, overwrite, err) != WK_OK) return ...;   // nothing to undo
**   ... write the file at a.tmp_path (any way), or append to it with wk__atomic_write ...
**   on success: wk__atomic_commit(&a, err)   (aborts by itself when it fails)
**   on failure: wk__atomic_abort(&a)
** Both end the transaction and free its memory.
*/
#ifndef WK_ATOMIC_H
#define WK_ATOMIC_H

#include "wk_internal.h"

typedef struct wk__atomic {
  char *target;   /* where the file lands: the path, or what a symlink at the path points to */
  char *tmp_path; /* the temporary file (exists, empty, until commit/abort) */
  const char *shown; /* the path as the caller gave it, for messages (borrowed) */
  int overwrite;
  int has_mode;   /* the target existed: the new file gets its permission bits */
  unsigned mode;
  int synced;     /* set by the writer: the temporary's data is already durable (its own
                  ** fdatasync), so commit does not fsync it again */
  int fd;         /* the temporary opened by wk__atomic_write, or -1 */
  uint64_t written; /* bytes appended by wk__atomic_write */
} wk__atomic;

/*
** Checks the target and creates an empty temporary file next to it (mode 0666 minus the
** umask, or the existing target's permission bits). Fails with WK_EIO, naming `path`, when
** the target is a directory, when it exists and `overwrite` is 0 ("already exists"), or when
** the temporary cannot be created (no write permission, missing directory, ...).
*/
wk_status wk__atomic_begin(wk__atomic *a, const char *path, int overwrite, wk_error *err);

/*
** Appends `size` bytes to the temporary (opened on the first call, written sequentially from
** its start; a->written counts them). WK_EIO naming the path on a failed write. A writer that
** uses it does not touch a.tmp_path otherwise; commit then fdatasyncs and closes that descriptor.
*/
wk_status wk__atomic_write(wk__atomic *a, const void *data, size_t size, wk_error *err);

/*
** fsyncs the temporary (unless a->synced), moves it to the target (rename; with overwrite 0, link + unlink so
** that a file appearing meanwhile is not replaced: "already exists"), fsyncs the directory.
*/
wk_status wk__atomic_commit(wk__atomic *a, wk_error *err);

/* Removes the temporary file (if any) and frees the transaction. Safe to call twice. */
void wk__atomic_abort(wk__atomic *a);

#endif
