/*
** wk_broadcast.c — NumPy broadcasting of two shapes and a C-order walk over the result.
*/
#include <string.h>

#include "wk_internal.h"

wk_status wk__broadcast(const char *op, const wk_tensor *a, const wk_tensor *b, wk__bcast *bc,
                        wk_error *err) {
  int rank = a->rank > b->rank ? a->rank : b->rank;
  int64_t sa = 1, sb = 1, numel = 1;
  int i, overflow = 0;
  memset(bc, 0, sizeof *bc);
  bc->rank = rank;
  /* Right-aligned: result axis i meets a's axis i - (rank - a->rank), if that exists. */
  for (i = rank - 1; i >= 0; i--) {
    int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
    int64_t da = ia >= 0 ? a->shape[ia] : 1;
    int64_t db = ib >= 0 ? b->shape[ib] : 1;
    if (da != db && da != 1 && db != 1) {
      char s1[WK__SHAPE_STR_SIZE], s2[WK__SHAPE_STR_SIZE];
      return wk__error_set(err, WK_ESHAPE, "%s: cannot broadcast shapes %s and %s", op,
                           wk__shape_str(s1, a->rank, a->shape),
                           wk__shape_str(s2, b->rank, b->shape));
    }
    bc->shape[i] = da == 1 ? db : da;
    bc->stride_a[i] = (da == 1) ? 0 : sa;
    bc->stride_b[i] = (db == 1) ? 0 : sb;
    sa *= da; /* cannot overflow: these are the operands' own element counts */
    sb *= db;
  }
  for (i = 0; i < rank; i++) {
    if (bc->shape[i] == 0) { numel = 0; overflow = 0; break; }
    if (!overflow && !wk__mul_i64(numel, bc->shape[i], &numel)) overflow = 1;
  }
  if (overflow) {
    char s1[WK__SHAPE_STR_SIZE], s2[WK__SHAPE_STR_SIZE];
    return wk__error_set(err, WK_ELIMIT, "%s: broadcasting %s and %s is too large", op,
                         wk__shape_str(s1, a->rank, a->shape),
                         wk__shape_str(s2, b->rank, b->shape));
  }
  bc->numel = numel;
  return WK_OK;
}

void wk__bcast_start(wk__bcast_iter *it, const wk__bcast *bc) {
  memset(it, 0, sizeof *it);
  it->bc = bc;
}

/* An odometer over the result index: the last axis moves fastest. */
void wk__bcast_next(wk__bcast_iter *it) {
  const wk__bcast *bc = it->bc;
  int i;
  for (i = bc->rank - 1; i >= 0; i--) {
    it->ia += bc->stride_a[i];
    it->ib += bc->stride_b[i];
    if (++it->idx[i] < bc->shape[i]) return;
    it->ia -= bc->stride_a[i] * bc->shape[i];
    it->ib -= bc->stride_b[i] * bc->shape[i];
    it->idx[i] = 0;
  }
}
