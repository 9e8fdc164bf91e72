/*
** wk_test.h — a tiny TAP harness for the C tests. Each CHECK prints one `ok N - what` or
** `not ok N - what` line; wk_test_done prints the plan and returns the exit status.
*/
#ifndef WK_TEST_H
#define WK_TEST_H

#include <stdio.h>

static int wk_test_count = 0;
static int wk_test_failed = 0;

#define CHECK(cond, what) wk_test_check((cond) != 0, (what), __FILE__, __LINE__)

static void wk_test_check(int ok, const char *what, const char *file, int line) {
  wk_test_count++;
  if (!ok) wk_test_failed++;
  printf("%sok %d - %s\n", ok ? "" : "not ", wk_test_count, what);
  if (!ok) printf("# failed at %s:%d\n", file, line);
}

static int wk_test_done(void) {
  printf("1..%d\n", wk_test_count);
  return wk_test_failed ? 1 : 0;
}

#endif
