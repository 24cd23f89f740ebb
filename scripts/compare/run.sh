#!/usr/bin/env bash
# Side-by-side benchmark of the certified P_max: spinbat vs QuSpin vs QuTiP (see README.md).
# Usage: scripts/compare/run.sh [N] [compare.py options]
#   scripts/compare/run.sh              # N = 20, 3 runs per tool
#   scripts/compare/run.sh 16
#   scripts/compare/run.sh 20 --slow-reps 1 --timeout 1800
#   scripts/compare/run.sh check 8 10   # validate every tool's operators against numpy (small N)
#   scripts/compare/run.sh curve 18     # curve mode: W(t) at 201 times on [0, 2] (results-curve-N.md)
#   scripts/compare/run.sh curve 20 --slow-reps 1 --timeout 600
#   scripts/compare/run.sh check-curve 8 10   # every tool's curve vs numpy eigh (small N)
#   SPINBAT=/path/to/spinbat SPINBAT_REV=abc123 scripts/compare/run.sh 16   # a fixed spinbat build
# Makes scripts/compare/.venv (Python 3.11, pinned versions) on first use and builds
# target/release/spinbat.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3.11}"

# Pinned versions (all install as wheels on Python 3.11, x86_64 Linux)
pins=(qutip==5.3.1 quspin==1.0.1 quspin-extensions==0.1.8 parallel-sparse-tools==0.2.5
      numpy==2.4.6 scipy==1.17.1 numba==0.68.1 llvmlite==0.50.0)

if [ ! -x "$venv/bin/python" ]; then
  command -v "$python" >/dev/null || python=python3
  "$python" -m venv "$venv"
fi
if ! "$venv/bin/python" -c 'import qutip, quspin, numpy, scipy' 2>/dev/null \
   || ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx 'qutip==5.3.1'; then
  "$venv/bin/pip" install --quiet "${pins[@]}"
fi

# $SPINBAT: use that binary instead of building target/release/spinbat (SPINBAT_REV labels it)
if [ -z "${SPINBAT:-}" ]; then
  (cd "$root" && cargo build --release --quiet)
fi

if [ "${1:-}" = check ] || [ "${1:-}" = check-curve ]; then
  mode=$1
  shift
  exec env OMP_NUM_THREADS=1 PYTHONWARNINGS=ignore "$venv/bin/python" "$here/compare.py" "$mode" "$@"
fi
curve=()
if [ "${1:-}" = curve ]; then curve=(--curve); shift; fi
n=20
if [ $# -gt 0 ] && [[ "$1" =~ ^[0-9]+$ ]]; then n=$1; shift; fi
cd "$root"
exec "$venv/bin/python" "$here/compare.py" "${curve[@]}" --n "$n" "$@"
