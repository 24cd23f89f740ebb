#!/usr/bin/env bash
# Mutation check: plants four model bugs, one at a time, and shows that the contract suite
# catches each (the tests must FAIL on the mutant). Run by hand from anywhere:
#   scripts/reference/mutation_check.sh            # all four (4 rebuilds of the contract tests, ~4 min each on 2 cores)
#   scripts/reference/mutation_check.sh alpha-sign # one of: alpha-sign alpha-sign-sector drop-coupling minimum-image
# Each mutation edits one source file of crates/spinbat in place, runs
#   cargo test --release -p spinbat --test contract -- oracle energy_variance
# (the QuTiP oracle, the large QuTiP/QuSpin oracle, and the variance against an
# independent Pauli-string H0), then restores the file (also on Ctrl-C). The working tree
# must be clean in those files. Exit status 0 when every mutant was caught.
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
tests=(oracle energy_variance)

# name | file | sed expression | what it does
mutations=(
  "alpha-sign|crates/spinbat/src/operator/mod.rs|s/amp: -2.0 \* alpha \* g,/amp: 2.0 * alpha * g,/|flip the sign of alpha in the XY term of H_g (full-space operators: dense and Chebyshev)"
  "alpha-sign-sector|crates/spinbat/src/operator/reflection.rs|s/SectorFlip { si, sj, mask_a, mask_b, mask_c, amp: -2.0 \* alpha \* g }/SectorFlip { si, sj, mask_a, mask_b, mask_c, amp: 2.0 * alpha * g }/|the same sign flip in the reflection-even sector only (Chebyshev from N = 14)"
  "drop-coupling|crates/spinbat/src/model/mod.rs|/pub fn coupling(&self, i: usize, j: usize) -> f64 {/a\\        if (i.min(j), i.max(j)) == (1, 3) { return 0.0; }|drop the single coupling g_13 (0-based sites 1 and 3) from Chain::coupling"
  "minimum-image|crates/spinbat/src/model/mod.rs|s/Boundary::Periodic => d.min(self.n_sites - d),/Boundary::Periodic => d.max(self.n_sites - d),/|swap the minimum image: the long way round a ring, max(d, N - d)"
)

want="${1:-all}"
caught_all=0
for m in "${mutations[@]}"; do
  IFS='|' read -r name file expr what <<<"$m"
  [ "$want" = all ] || [ "$want" = "$name" ] || continue
  if ! git diff --quiet -- "$file"; then
    echo "!! $file has local changes; commit or stash them first" >&2
    exit 2
  fi
  cp "$file" "$file.mutation-backup"
  trap 'mv -f "'"$file"'.mutation-backup" "'"$file"'"' INT TERM EXIT
  sed -i -e "$expr" "$file"
  if git diff --quiet -- "$file"; then
    echo "!! mutation $name did not apply to $file (source changed?)" >&2
    mv -f "$file.mutation-backup" "$file"
    trap - INT TERM EXIT
    exit 2
  fi
  echo "== mutation $name: $what"
  git diff --stat -- "$file" | head -1
  log="$(mktemp)"
  cargo test --release -q -p spinbat --test contract -- "${tests[@]}" >"$log" 2>&1
  rc=$?
  mv -f "$file.mutation-backup" "$file"
  trap - INT TERM EXIT
  # the names listed under the second "failures:" heading of libtest's summary
  failed="$(awk '/^failures:$/ { n++; next } n == 2 && /^    [^ ]/ { printf "%s ", $1 }' "$log")"
  if [ "$rc" -ne 0 ] && [ -n "$failed" ]; then
    echo "   caught: failing tests: $failed"
  else
    echo "   NOT CAUGHT (cargo exit $rc); log: $log"
    tail -20 "$log"
    caught_all=1
  fi
done
exit "$caught_all"
