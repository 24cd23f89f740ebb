#!/usr/bin/env bash
# Tests of the Python package (crates/spinbat-py) on a machine with Python 3.11 + pip and a
# Rust toolchain:
#   1. makes .venv-py/ in the repository root (gitignored) and installs pinned maturin,
#      pytest, numpy, scipy, QuTiP, mypy (for the stubs), pandas (spinbat.scan's
#      DataFrame) and dask + distributed (scan(executor=Client) on a local cluster) from
#      PyPI (skipped when there);
#   2. builds the CLI, `cargo build --release -p spinbat-cli` (the tests compare with it);
#   3. builds the package with maturin (release, abi3) and installs it into .venv-py;
#   4. runs pytest on crates/spinbat-py/tests (QuTiP and mypy required: missing ones fail).
# Usage: scripts/python-tests.sh [pytest arguments]     e.g. scripts/python-tests.sh -k qutip
# PYTHON=python3.12 picks another interpreter for a new .venv-py.
# The package build shares target/ (or $CARGO_TARGET_DIR) with cargo, so reruns are
# incremental.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
export CARGO_TARGET_DIR="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
venv="$root/.venv-py"
python="${PYTHON:-python3.11}"

# Pinned versions, all wheels for CPython 3.11 on x86_64 Linux (qutip 5.3.1 checked against
# the package's tests; qutip, numpy and scipy as in scripts/compare/run.sh; pandas 3.1.1 has
# a cp311 manylinux_2_28 wheel; dask and distributed are pure-Python wheels (24 MiB installed
# with their dependencies)
pins=(maturin==1.16.0 pytest==9.2.0 numpy==2.4.6 scipy==1.17.1 qutip==5.3.1 mypy==2.4.1 pandas==3.1.1
  dask==2026.8.0 distributed==2026.8.0)

export PIP_DISABLE_PIP_VERSION_CHECK=1
if [ ! -x "$venv/bin/python" ]; then
  command -v "$python" >/dev/null || python=python3
  echo "== creating $venv with $("$python" --version)"
  "$python" -m venv "$venv"
fi
installed="$("$venv/bin/pip" freeze 2>/dev/null || true)"
missing=0
for pin in "${pins[@]}"; do
  grep -qix "$pin" <<<"$installed" || missing=1
done
if [ "$missing" = 1 ]; then
  echo "== installing ${pins[*]}"
  "$venv/bin/pip" install --quiet "${pins[@]}"
fi

echo "== cargo build --release -p spinbat-cli"
(cd "$root" && cargo build --release --quiet -p spinbat-cli)

echo "== building and installing the spinbat package (maturin, release)"
# maturin must be on PATH for the PEP 517 hooks; no build isolation: the pinned maturin
# above builds it, nothing more is downloaded
PATH="$venv/bin:$PATH" "$venv/bin/pip" install --quiet --no-build-isolation --no-deps --force-reinstall "$root/crates/spinbat-py"

echo "== pytest crates/spinbat-py/tests"
cd "$root/crates/spinbat-py"
SPINBAT_CLI="$CARGO_TARGET_DIR/release/spinbat" SPINBAT_REQUIRE_QUTIP=1 SPINBAT_REQUIRE_MYPY=1 SPINBAT_REQUIRE_DASK=1 \
  exec "$venv/bin/python" -m pytest -q "$@"
