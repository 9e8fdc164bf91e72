#!/bin/sh
# Runs every C test and every busted spec against the build in $1, then prints one line:
#   tests: N passed, N failed
# C tests and busted both speak TAP; this script counts their lines. A suite that exits non-zero
# without reporting a failure (a crash, a sanitizer report) counts as one failure.
# WK_ASAN=1 runs busted with the ASan runtime preloaded (the Lua interpreter is not instrumented).
set -u
build=${1:-build}
log=$(mktemp)
out=$(mktemp)
trap 'rm -f "$log" "$out"' EXIT

# run_suite NAME COMMAND...: runs one suite, echoes and logs its TAP.
run_suite() {
  name=$1
  shift
  echo "# $name"
  "$@" >"$out" 2>&1
  rc=$?
  cat "$out"
  cat "$out" >>"$log"
  if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$out"; then
    echo "not ok - $name exited with status $rc" | tee -a "$log"
  fi
}

for t in "$build"/tests/test_*; do
  [ -x "$t" ] && run_suite "$t" "$t"
done

export LUA_PATH="$(pwd)/lua/?.lua;$(pwd)/lua/?/init.lua;$(pwd)/spec/?.lua;;"
export LUA_CPATH="$(pwd)/$build/lua/?.so;;"
export WEIGHTKIT_BUILD="$(pwd)/$build"
if [ "${WK_ASAN:-0}" = 1 ]; then
  (
    export LD_PRELOAD="$(gcc -print-file-name=libasan.so)" ASAN_OPTIONS="detect_leaks=0"
    run_suite busted busted --lua=lua5.4 -o TAP spec
  )
else
  run_suite busted busted --lua=lua5.4 -o TAP spec
fi

passed=$(grep '^ok ' "$log" | grep -vc '# SKIP')
skipped=$(grep '^ok ' "$log" | grep -c '# SKIP')
failed=$(grep -c '^not ok ' "$log")
[ "$skipped" -eq 0 ] || echo "# $skipped skipped"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
