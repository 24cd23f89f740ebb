#!/usr/bin/env bash
# spinbat's MPS solver against TeNPy's two-site TDVP (W(t) on one grid, both timed): mps.py.
# Usage: scripts/compare/mps.sh [mps.py options]   e.g. scripts/compare/mps.sh --n 64 --out r.json
# Makes scripts/compare/.venv-tenpy (Python 3.11, physics-tenpy pinned) on first use; SPINBAT=path
# uses a given binary, otherwise target/release/spinbat is built.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$here/.venv-tenpy"
python="${PYTHON:-python3.11}"
if [ ! -x "$venv/bin/python" ]; then
  command -v "$python" >/dev/null || python=python3
  "$python" -m venv "$venv"
fi
if ! "$venv/bin/pip" freeze 2>/dev/null | grep -qx 'physics-tenpy==1.1.1'; then
  "$venv/bin/pip" install --quiet physics-tenpy==1.1.1 numpy==2.4.6 scipy==1.17.1
fi
if [ -z "${SPINBAT:-}" ]; then
  (cd "$root" && cargo build --release --quiet -p spinbat-cli)
  export SPINBAT="$root/target/release/spinbat"
fi
exec "$venv/bin/python" "$here/mps.py" "$@"
