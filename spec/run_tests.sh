#!/bin/sh
# Runs every C test and every busted spec against the build in $1, then prints one line:
#   tests: N passed, N failed
# C tests and busted both speak TAP; this script only counts. WK_ASAN=1 runs busted with the
# ASan runtime preloaded (the Lua interpreter itself is not instrumented).
set -u
build=${1:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

for t in "$build"/tests/test_*; do
  [ -x "$t" ] || continue
  echo "# $t"
  "$t" | tee -a "$log" || status=1
done

export LUA_PATH="$(pwd)/lua/?.lua;$(pwd)/lua/?/init.lua;$(pwd)/spec/?.lua;;"
export LUA_CPATH="$(pwd)/$build/lua/?.so;;"
export WEIGHTKIT_BUILD="$(pwd)/$build"
if [ "${WK_ASAN:-0}" = 1 ]; then
  export LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
  export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0"
fi
echo "# busted"
busted --lua=lua5.4 -o TAP spec 2>&1 | tee -a "$log" || status=1
unset LD_PRELOAD

passed=$(grep -c '^ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
[ "$failed" -eq 0 ] || status=1
[ "$passed" -gt 0 ] || status=1
echo "tests: $passed passed, $failed failed"
exit $status
