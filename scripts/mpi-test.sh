#!/usr/bin/env bash
# One state vector across MPI processes: `mpiexec -n R spinbat charge` for R = 1, 2, 4
# (R = 4 oversubscribes a 2-core machine; MPICH's hydra allows it) against the one-process
# Chebyshev propagator, nearest-neighbour and power-law couplings with flip-flops (alpha != 0:
# they cross the rank boundary), double and single precision.
#
#   1. installs Debian's mpich, libmpich-dev and libclang-dev with apt-get when mpiexec,
#      mpicc or libclang is missing (as root); where they cannot be installed it says so and
#      exits 0: SKIPPED, not passed;
#   2. builds the CLI with the `mpi` feature (cargo build --release -p spinbat-cli
#      --features mpi), copies the binary aside, and rebuilds target/release/spinbat without
#      the feature (a relink: the other checks use the default build); both builds timed;
#   3. checks a build without the feature refuses `mpiexec -n 2` with exit status 2 and a
#      message naming the feature, and the feature build refuses R = 3 with exit status 2;
#   4. runs each chain and precision at R = 1, 2, 4 and compares the JSON records: in double
#      precision P_max, W(T*), the maximal work and every W(t) and P(t) of the curve equal
#      the one-process run (`spinbat charge --solver chebyshev`, no mpiexec) to 1e-12
#      (relative to the largest W or P), the times T* to 1e-6 (the maximum is flat: a
#      change of 1e-14 in W moves it by ~1e-7); in single precision the ranks sum in another
#      order than one process, so every value must agree with the double-precision one within
#      the record's own error_bound (the rounding estimate); `processes` must be R.
# About 1 minute on 2 cores after the first feature build. The git tree is not touched.
#
# Usage: scripts/mpi-test.sh      KEEP=1 keeps the folder of records
# Environment: CARGO_TARGET_DIR (where target/release/spinbat is built).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
start=$SECONDS
say() { echo "   mpi-test: $*"; }
skip() {
  echo "== mpi-test: SKIPPED: $* (the MPI test needs Debian's mpich, libmpich-dev and libclang-dev, or root and apt-get to install them)"
  exit 0
}

# 1. the packages
have_libclang() { ls /usr/lib/llvm-*/lib/libclang*.so* /usr/lib/*/libclang*.so* >/dev/null 2>&1; }
missing() { command -v mpiexec >/dev/null && command -v mpicc >/dev/null && have_libclang && return 1; return 0; }
if missing; then
  [ "$(id -u)" = 0 ] || skip "MPI or libclang is not installed and this is not root"
  command -v apt-get >/dev/null || skip "MPI or libclang is not installed and there is no apt-get"
  echo "== mpi-test: apt-get install mpich libmpich-dev libclang-dev"
  export DEBIAN_FRONTEND=noninteractive
  pkgs=(mpich libmpich-dev libclang-dev)
  if ! { apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null; }; }; then
    skip "apt-get could not install ${pkgs[*]}"
  fi
  missing && skip "the packages were installed but mpiexec, mpicc or libclang is still missing"
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/spinbat-mpi-test.XXXXXX")"
if [ "${KEEP:-0}" = 1 ]; then trap 'echo "mpi-test: kept $tmp"' EXIT; else trap 'rm -rf "$tmp"' EXIT; fi

# 2. the two builds
echo "== mpi-test: cargo build --release -p spinbat-cli --features mpi"
t0=$SECONDS
(cd "$root" && cargo build --release --quiet -p spinbat-cli --features mpi)
say "feature build: $((SECONDS - t0)) s"
cp "$target/release/spinbat" "$tmp/spinbat-mpi"
t0=$SECONDS
(cd "$root" && cargo build --release --quiet -p spinbat-cli)
say "default build restored: $((SECONDS - t0)) s"
plain="$target/release/spinbat"
mpi="$tmp/spinbat-mpi"
run_mpi() { # R, args...
  local r=$1; shift
  mpiexec -n "$r" "$mpi" charge "$@"
}

# 3. refusals
set +e
msg="$(mpiexec -n 2 "$plain" charge --n 6 2>&1 >/dev/null)"; rc=$?
set -e
[ $rc = 2 ] && grep -q -- "--features mpi" <<<"$msg" ||
  { echo "== mpi-test: FAILED: a build without the feature under mpiexec -n 2 gave status $rc: $msg"; exit 1; }
set +e
msg="$(mpiexec -n 3 "$mpi" charge --n 6 2>&1 >/dev/null)"; rc=$?
set -e
[ $rc = 2 ] && grep -q "power of two" <<<"$msg" ||
  { echo "== mpi-test: FAILED: mpiexec -n 3 gave status $rc: $msg"; exit 1; }
say "refusals: no feature under mpiexec -n 2 and R = 3 both exit 2 with a message"

# 4. the charges
model_nn=(--n 10 --alpha 0.6 --g 0.9 --omega 1.3 --coupling nn)
model_pl=(--n 10 --alpha 0.5 --g 0.9 --omega 1.3 --coupling power-law --p 1.5)
common=(--solver chebyshev --tol 1e-12 --t-max 1 --points 11)
for name in nn pl; do
  declare -n model="model_$name"
  "$plain" charge "${model[@]}" "${common[@]}" --json "$tmp/$name-one.json" >/dev/null
  for prec in double single; do
    for r in 1 2 4; do
      t0=$SECONDS
      run_mpi "$r" "${model[@]}" "${common[@]}" --precision "$prec" --json "$tmp/$name-$prec-$r.json" >"$tmp/$name-$prec-$r.out"
      say "$name $prec R = $r: $((SECONDS - t0)) s"
    done
  done
done
python3 - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
bad = []
def load(p):
    with open(p) as f:
        return json.load(f)
for name in ("nn", "pl"):
    one = load(f"{tmp}/{name}-one.json")
    w_scale = max(abs(w) for w in one["series"]["work"])
    p_scale = one["max_power"]["power"]
    for prec in ("double", "single"):
        for r in (1, 2, 4):
            rec = load(f"{tmp}/{name}-{prec}-{r}.json")
            where = f"{name} {prec} R = {r}"
            if rec.get("processes") != r:
                bad.append(f"{where}: processes {rec.get('processes')}")
            if rec["precision"] != prec:
                bad.append(f"{where}: precision {rec['precision']}")
            tol_w = 1e-12 * w_scale if prec == "double" else rec["error_bound"]
            tol_p = 1e-12 * p_scale if prec == "double" else rec["error_bound"] / one["max_power"]["time"]
            pairs = [("max_power.power", rec["max_power"]["power"], one["max_power"]["power"], tol_p),
                     ("max_power.work", rec["max_power"]["work"], one["max_power"]["work"], tol_w),
                     ("max_work.work", rec["max_work"]["work"], one["max_work"]["work"], tol_w)]
            if prec == "double":
                pairs += [("max_power.time", rec["max_power"]["time"], one["max_power"]["time"], 1e-6 * one["max_power"]["time"])]
            pairs += [(f"series.work[{i}]", a, b, tol_w) for i, (a, b) in enumerate(zip(rec["series"]["work"], one["series"]["work"]))]
            if rec["series"]["t"] != one["series"]["t"]:
                bad.append(f"{where}: output times differ")
            worst = 0.0
            for key, a, b, tol in pairs:
                if abs(a - b) > tol:
                    bad.append(f"{where}: {key} {a!r} vs one process {b!r} (tolerance {tol:.1e})")
                worst = max(worst, abs(a - b) / (w_scale if "work" in key else p_scale))
            print(f"   mpi-test: {where}: P_max {rec['max_power']['power']:.15g} (one process {one['max_power']['power']:.15g}), largest difference {worst:.1e} of the scale, error bound {rec['error_bound']:.1e}")
if bad:
    print("== mpi-test: FAILED:\n  " + "\n  ".join(bad))
    sys.exit(1)
PY
echo "== mpi-test: passed: R = 1, 2, 4 equal the one-process run (NN and power law, double and single), $((SECONDS - start)) s"
