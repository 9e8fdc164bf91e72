/*
** wk_tfbundle_path.c — which paths name a TensorFlow bundle, and its prefix (keras-formats.md
** §5.1, §5.6, §5.8), for wk_file_open:
**   - a directory holding saved_model.pb or saved_model.pbtxt: a SavedModel, whose bundle is
**     `<dir>/variables/variables` (format "savedmodel");
**   - a directory holding a `checkpoint` file: that file's model_checkpoint_path (protobuf text
**     format, `model_checkpoint_path: "name"`; relative paths are relative to the directory);
**   - a regular file whose name ends in ".index" and that is not HDF5 or zip (checked by the
**     caller first): its name without ".index";
**   - a path P for which P.index exists (P itself need not exist).
** The prefix is malloc'd; the caller frees it.
*/
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wk_file.h"
#include "wk_internal.h"

static char *join(const char *a, const char *sep, const char *b) {
  size_t la = strlen(a), ls = strlen(sep), lb = strlen(b);
  char *s = (char *)malloc(la + ls + lb + 1);
  if (s == NULL) return NULL;
  memcpy(s, a, la);
  memcpy(s + la, sep, ls);
  memcpy(s + la + ls, b, lb + 1);
  return s;
}

static int is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int file_in(const char *dir, const char *name) {
  char *p = join(dir, "/", name);
  int r = p != NULL && is_file(p);
  free(p);
  return r;
}

/* The quoted value at *s (text-format string: '"' or '\'' quotes; escapes \n \t \r \" \' \\,
** octal \ooo and hex \xhh). Written into out (at least strlen(s) + 1 bytes); 0 if malformed. */
static int unquote(const char *s, char *out) {
  char q = *s++;
  size_t n = 0;
  if (q != '"' && q != '\'') return 0;
  for (; *s && *s != q && *s != '\n'; s++) {
    char c = *s;
    if (c == '\\') {
      c = *++s;
      if (c == 'n') c = '\n';
      else if (c == 't') c = '\t';
      else if (c == 'r') c = '\r';
      else if (c >= '0' && c <= '7') {
        int v = 0, k;
        for (k = 0; k < 3 && *s >= '0' && *s <= '7'; k++, s++) v = v * 8 + (*s - '0');
        s--;
        c = (char)v;
      } else if (c == 'x') {
        int v = 0, k;
        for (k = 0, s++; k < 2 && ((*s >= '0' && *s <= '9') || ((*s | 32) >= 'a' && (*s | 32) <= 'f')); k++, s++)
          v = v * 16 + (*s <= '9' ? *s - '0' : (*s | 32) - 'a' + 10);
        if (k == 0) return 0;
        s--;
        c = (char)v;
      } else if (c != '"' && c != '\'' && c != '\\') {
        return 0;
      }
    }
    if (c == '\0') return 0; /* a path cannot hold NUL */
    out[n++] = c;
  }
  if (*s != q) return 0;
  out[n] = '\0';
  return n > 0;
}

/* model_checkpoint_path of the CheckpointState text at `path`, malloc'd, as written. */
static wk_status read_state(const char *path, size_t max_bytes, char **out, wk_error *err) {
  struct stat st;
  char *text, *line, *value = NULL;
  ssize_t got;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return wk__error_set(err, WK_EIO, "%s: cannot open: %s", path, strerror(errno));
  if (fstat(fd, &st) != 0 || (uintmax_t)st.st_size > (uintmax_t)max_bytes) {
    close(fd);
    return wk__error_set(err, WK_ELIMIT, "%s: checkpoint state file too large", path);
  }
  text = (char *)malloc((size_t)st.st_size + 1);
  if (text == NULL) {
    close(fd);
    return wk__error_set(err, WK_ENOMEM, "%s: out of memory", path);
  }
  got = read(fd, text, (size_t)st.st_size);
  close(fd);
  if (got < 0) {
    free(text);
    return wk__error_set(err, WK_EIO, "%s: cannot read: %s", path, strerror(errno));
  }
  text[got] = '\0';
  for (line = text; line != NULL && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    const char *p = line;
    static const char field[] = "model_checkpoint_path";
    while (*p == ' ' || *p == '\t') p++;
    if (strncmp(p, field, sizeof field - 1) != 0) continue;
    p += sizeof field - 1;
    while (*p == ' ' || *p == '\t') p++;
    if (*p++ != ':') continue;
    while (*p == ' ' || *p == '\t') p++;
    value = (char *)malloc(strlen(p) + 1);
    if (value == NULL) {
      free(text);
      return wk__error_set(err, WK_ENOMEM, "%s: out of memory", path);
    }
    if (!unquote(p, value)) {
      free(value);
      free(text);
      return wk__error_set(err, WK_EFORMAT, "%s: malformed model_checkpoint_path", path);
    }
    break;
  }
  free(text);
  if (value == NULL) return wk__error_set(err, WK_EFORMAT, "%s: no model_checkpoint_path", path);
  *out = value;
  return WK_OK;
}

static int ends_with(const char *s, const char *suffix) {
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

wk_status wk__tf_resolve(const char *path, int regular_file, size_t max_bytes, char **prefix, const char **format,
                         wk_error *err) {
  struct stat st;
  char *p;
  *prefix = NULL;
  *format = NULL;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (file_in(path, "saved_model.pb") || file_in(path, "saved_model.pbtxt")) {
      if ((p = join(path, "/", "variables/variables")) == NULL) return wk__error_set(err, WK_ENOMEM, "out of memory");
      if (!file_in(path, "variables/variables.index")) {
        free(p);
        return wk__error_set(err, WK_EFORMAT,
                             "%s: a SavedModel directory without variables (variables/variables.index is missing)",
                             path);
      }
      *prefix = p;
      *format = "savedmodel";
      return WK_OK;
    }
    if (file_in(path, "checkpoint")) {
      char *state = join(path, "/", "checkpoint"), *value = NULL;
      wk_status s;
      if (state == NULL) return wk__error_set(err, WK_ENOMEM, "out of memory");
      s = read_state(state, max_bytes, &value, err);
      free(state);
      if (s != WK_OK) return s;
      p = value[0] == '/' ? value : join(path, "/", value);
      if (p != value) free(value);
      if (p == NULL) return wk__error_set(err, WK_ENOMEM, "out of memory");
      *prefix = p;
      *format = "tf-checkpoint";
      return WK_OK;
    }
    return wk__error_set(err, WK_EFORMAT,
                         "%s: a directory that is neither a SavedModel (saved_model.pb) nor a TensorFlow checkpoint "
                         "directory (a `checkpoint` file)",
                         path);
  }
  if (regular_file && ends_with(path, ".index")) {
    if ((p = (char *)malloc(strlen(path) - 5)) == NULL) return wk__error_set(err, WK_ENOMEM, "out of memory");
    memcpy(p, path, strlen(path) - 6);
    p[strlen(path) - 6] = '\0';
    *prefix = p;
    *format = "tf-checkpoint";
    return WK_OK;
  }
  if ((p = join(path, "", ".index")) == NULL) return wk__error_set(err, WK_ENOMEM, "out of memory");
  if (is_file(p)) {
    p[strlen(path)] = '\0';
    *prefix = p;
    *format = "tf-checkpoint";
    return WK_OK;
  }
  free(p);
  return WK_OK;
}
