#!/bin/sh
# make bench: weightkit against h5py on Keras 2 weight files (issue 3, point 7).
#
#   sh bench/run.sh [BUILD]        (BUILD defaults to build; `make bench` passes $(BUILD))
#
# Environment: WK_BENCH_BIG_MB (1024), WK_BENCH_MANY_LAYERS (20000), WK_BENCH_MID_MB (100),
# WK_BENCH_REPS (5), WK_BENCH_STRICT (1: exit 1 when a target fails; 0: report only),
# WK_BENCH_TMP (directory for the files, default $TMPDIR or /tmp; needs ~2.5 GiB free with defaults).
# The files are generated with Debian's h5py (/usr/bin/python3) in a fresh temporary directory,
# which is removed at the end, whatever happens.
set -eu
BUILD=${1:-build}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
BIG_MB=${WK_BENCH_BIG_MB:-1024}
MANY=${WK_BENCH_MANY_LAYERS:-20000}
MID_MB=${WK_BENCH_MID_MB:-100}

if ! "$PY" -c 'import h5py, numpy' 2>/dev/null; then
  echo "bench: $PY with h5py and numpy is required (Debian: apt-get install python3-h5py)" >&2
  exit 1
fi
[ -x "$BUILD/weightkit" ] || { echo "bench: $BUILD/weightkit missing (run make)" >&2; exit 1; }

# The Lua side's wall clock (bench/wkclock.c), built next to the other outputs.
mkdir -p "$BUILD/bench"
${CC:-cc} -std=c99 -D_POSIX_C_SOURCE=200809L -O2 -fPIC -shared $(pkg-config --cflags lua5.4) \
  -o "$BUILD/bench/wkclock.so" "$HERE/wkclock.c"

DATA=$(mktemp -d "${WK_BENCH_TMP:-${TMPDIR:-/tmp}}/weightkit-bench.XXXXXX")
trap 'rm -rf "$DATA"' EXIT INT TERM

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
  "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" - <<'PYEOF'
import numpy
try:
    import threadpoolctl
    info = threadpoolctl.threadpool_info()
    print("numpy BLAS (threadpoolctl):", ", ".join("%s %s" % (i.get("internal_api"), i.get("architecture")) for i in info) or "none loaded (reference BLAS; sums do not use BLAS)")
except ImportError:
    print("numpy BLAS: threadpoolctl not installed (sums do not use BLAS)")
PYEOF
echo "generating files in $DATA (big ${BIG_MB} MiB, many ${MANY} layers, mid ${MID_MB} MiB) ..."
(cd "$HERE" && "$PY" gen_keras2.py "$DATA" "$BIG_MB" "$MANY" "$MID_MB")
"$PY" "$HERE/bench.py" "$BUILD" "$DATA"
