#!/usr/bin/env bash
# The before/after sitting of BENCHMARKS.md "Before and after the layer reorganisation,
# completed" (2026-12-06): two builds of the CLI and of the kernel benches, interleaved.
# Usage: scripts/bench/sitting_2026-12-06.sh OLD_SPINBAT NEW_SPINBAT OLD_KERNELS NEW_KERNELS
# (the kernel bench binaries: target/release/deps/kernels-* of `cargo bench --no-run`)
set -euo pipefail
old=$1; new=$2; old_k=$3; new_k=$4
cd "$(dirname "$0")/../.."
scripts/bench/before_after.sh "$old" "$new" 20 22 24
echo "== dicke"
for args in "--n 10000 --p 0 --alpha 1" "--n 10000 --p 0" "--n 2000 --p 0 --alpha 0.9 --g 0.01"; do
  for _ in 1 2 3; do for b in "$old" "$new"; do
    /usr/bin/time -f "%e %M" -o /tmp/dt "$b" charge $args --json /tmp/dj.json >/dev/null
    echo "$b $args: $(cat /tmp/dt) P_max $(python3 -c "import json;print('%.12g'%json.load(open('/tmp/dj.json'))['max_power']['power'])")"
  done; done
done
echo "== kernels"
for round in 1 2 3; do
  for b in "$old_k" "$new_k"; do
    echo "-- $b round $round"
    "$b" --bench "nn-full-m1/24|nn-sector-m1/24|stream_triad" 2>&1 | grep -E "time:|^[a-z_].*/"
  done
done
echo "== rings (P_max only)"
for n in 16 20; do for args in "--boundary periodic --alpha 0.5" "--boundary periodic --coupling nn --alpha 0.5"; do
  for b in "$old" "$new"; do
    /usr/bin/time -f "%e s %M KB" -o /tmp/t "$b" charge --n $n $args --t-max 0.05 --points 2 --json /tmp/o.json >/dev/null
    echo "$b N=$n $args: $(cat /tmp/t) $(python3 -c "import json;d=json.load(open('/tmp/o.json'));print('%.12g'%d['max_power']['power'], d['accuracy'][-50:])")"
  done
done; done
