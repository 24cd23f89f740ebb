#!/usr/bin/env bash
# A study on a real Slurm: a one-node cluster on this machine, the job array and merge job
# that `spinbat slurm --submit` writes and submits, one array task cancelled mid-way and
# resubmitted (it resumes from its shard file), `spinbat merge` after it, and the merged
# records checked point for point against an unsharded `spinbat run` of the same study.
#
#   1. installs Debian's slurm-wlm and munge with apt-get when slurmctld, slurmd, sbatch or
#      munged is missing (as root); where they cannot be installed (not root, no apt-get,
#      apt-get failing) it says so and exits 0: SKIPPED, not passed;
#   2. writes everything under one mktemp folder: a munge key and munged on its own socket,
#      a slurm.conf for this host (its name, `nproc` CPUs, select/cons_tres, proctrack/
#      linuxproc, no cgroups, no accounting, free ports, state and logs in the folder), and
#      starts slurmctld and slurmd as root;
#   3. runs the study (12 points; shard 4 of 4 holds N = 5, 9 and a slow N = 15) as
#      `spinbat slurm STUDY --tasks 4 --submit`, cancels task 4 (scancel JOB_4) once its
#      first record is on disk and while N = 15 still runs, waits for tasks 1-3, cancels the
#      merge job that now can never start, resubmits task 4 (sbatch --array=4: it must
#      find its stored records and compute only the rest) and a new merge job after it;
#   4. compares the merged records with an unsharded `spinbat run` of the same study: the
#      same keys in the same order, the same text fields and every number equal to 1e-12
#      (relative); provenance and run times are not compared.
# The daemons are stopped, the jobs cancelled and the folder removed whatever happens
# (trap); the git tree is not touched. About 1 minute on 2 cores.
#
# Usage: scripts/slurm-test.sh      KEEP=1 keeps the folder (logs, configs, records)
# Environment: CARGO_TARGET_DIR (where target/release/spinbat is).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
target="$(realpath -m "${CARGO_TARGET_DIR:-$root/target}")"
spinbat="$target/release/spinbat"
start=$SECONDS
say() { echo "   slurm-test: $*"; }
skip() {
  echo "== slurm-test: SKIPPED: $* (the Slurm test needs Debian's slurm-wlm and munge, or root and apt-get to install them)"
  exit 0
}

# 1. the packages
need=(slurmctld slurmd sbatch squeue scancel scontrol sinfo munged)
missing() { for c in "${need[@]}"; do command -v "$c" >/dev/null || return 0; done; return 1; }
export PATH="$PATH:/usr/sbin:/sbin"
if missing; then
  [ "$(id -u)" = 0 ] || skip "slurm or munge is not installed and this is not root"
  command -v apt-get >/dev/null || skip "slurm or munge is not installed and there is no apt-get"
  echo "== slurm-test: apt-get install slurm-wlm munge"
  export DEBIAN_FRONTEND=noninteractive
  if ! { apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 &&
      apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null; }; }; then
    skip "apt-get could not install slurm-wlm and munge"
  fi
  missing && skip "slurm-wlm and munge were installed but $(for c in "${need[@]}"; do command -v "$c" >/dev/null || echo -n "$c "; done)is still missing"
fi
[ "$(id -u)" = 0 ] || skip "slurmd must run as root to start jobs"

if [ ! -x "$spinbat" ]; then
  echo "== slurm-test: $spinbat missing, cargo build --release -p spinbat-cli"
  (cd "$root" && cargo build --release --quiet -p spinbat-cli)
fi

# 2. the cluster, in one folder
tmp="$(mktemp -d "${TMPDIR:-/tmp}/spinbat-slurm-test.XXXXXX")"
export SLURM_CONF="$tmp/slurm.conf"
jobs_to_cancel=()
cleanup() {
  status=$?
  set +e
  if [ -e "$SLURM_CONF" ] && [ "${#jobs_to_cancel[@]}" -gt 0 ]; then
    scancel "${jobs_to_cancel[@]}" 2>/dev/null
    sleep 1
  fi
  for pidfile in "$tmp/slurmd.pid" "$tmp/slurmctld.pid" "$tmp/munge/munged.pid"; do
    [ -s "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null
  done
  if [ "$status" != 0 ]; then
    echo "slurm-test: FAILED (status $status); the daemons' logs:" >&2
    for log in "$tmp"/log/*.log; do
      [ -e "$log" ] && { echo "---- $log (last 15 lines)" >&2; tail -n 15 "$log" | sed 's/^/    /' >&2; }
    done
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "slurm-test: kept $tmp"; else rm -rf "$tmp"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/study" "$tmp/reference" "$tmp/jobs"
chmod 700 "$tmp/munge"
if command -v mungekey >/dev/null; then
  mungekey --create --keyfile="$tmp/munge/munge.key"
else
  dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 600 "$tmp/munge/munge.key"
munged --force --socket="$tmp/munge/munge.socket" --key-file="$tmp/munge/munge.key" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" --seed-file="$tmp/munge/seed"

host="$(hostname -s)"
cpus="$(nproc)"
read -r ctld_port slurmd_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in socks))')
cat >"$SLURM_CONF" <<EOF
# a one-node cluster for scripts/slurm-test.sh (everything under $tmp)
ClusterName=spinbat-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$tmp/munge/munge.socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
ReturnToService=2
KillWait=5
MinJobAge=600
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" -i
slurmd -f "$SLURM_CONF" -N "$host"
for _ in $(seq 150); do
  state="$(sinfo -h -N -o %T 2>/dev/null || true)"
  [ "$state" = idle ] && break
  sleep 0.2
done
[ "$state" = idle ] || { echo "slurm-test: the node is '$state', not idle, after 30 s" >&2; exit 1; }
echo "== slurm-test: one-node cluster up ($host, $cpus CPUs, slurm $(sinfo -V | cut -d' ' -f2)) in $tmp"

# job state from scontrol (no accounting: kept MinJobAge seconds after the end)
job_state() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n1 | cut -d= -f2; }
job_reason() { scontrol -o show job "$1" 2>/dev/null | grep -o 'Reason=[A-Za-z_]*' | head -n1 | cut -d= -f2; }
wait_done() {  # wait_done JOB...: until each is COMPLETED (fails on any other end, after 90 s)
  for job in "$@"; do
    for _ in $(seq 450); do
      s="$(job_state "$job")"
      case "$s" in
      COMPLETED) break ;;
      PENDING | RUNNING | CONFIGURING | COMPLETING | "") sleep 0.2 ;;
      *) echo "slurm-test: job $job ended $s" >&2; cat "$tmp"/jobs/*.out >&2 2>/dev/null; exit 1 ;;
      esac
    done
    [ "$s" = COMPLETED ] || { echo "slurm-test: job $job is still $s after 90 s" >&2; exit 1; }
  done
}

# 3. the study: 12 points, dealt round robin to 4 shards; shard 4 gets N = 5, 9 and 15 (the
# slow one: it is still running when the first two records of the shard are on disk)
study="[model]
coupling = \"power-law\"
p = 1.0
alpha = 0.5
[sweep]
n = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15]
[run]
solvers = [\"quantum\"]
max_work = false"
echo "$study" >"$tmp/study/study.toml"
echo "$study" >"$tmp/reference/study.toml"

submitted="$(cd "$tmp/study" && "$spinbat" slurm study.toml --tasks 4 --time 00:10:00 --output-dir "$tmp/jobs" --submit)"
echo "$submitted" | sed 's/^/   | /'
array="$(echo "$submitted" | sed -n 's/^submitted *array job \([0-9]*\).*/\1/p')"
merge="$(echo "$submitted" | sed -n 's/^submitted *merge job \([0-9]*\).*/\1/p')"
[ -n "$array" ] && [ -n "$merge" ] || { echo "slurm-test: no job ids in spinbat slurm's output" >&2; exit 1; }
jobs_to_cancel+=("$array" "$merge")

# cancel task 4 once it has stored a record and is still running
shard4="$tmp/study/study.shard-4-of-4.jsonl"
lines() { [ -e "$1" ] && wc -l <"$1" || echo 0; }
for _ in $(seq 600); do
  [ "$(lines "$shard4")" -ge 1 ] && break
  sleep 0.1
done
[ "$(lines "$shard4")" -ge 1 ] || { echo "slurm-test: task 4 stored no record in 60 s" >&2; exit 1; }
[ "$(job_state "${array}_4")" = RUNNING ] ||
  { echo "slurm-test: task 4 is $(job_state "${array}_4"), not running, at its first record" >&2; exit 1; }
scancel "${array}_4"
for _ in $(seq 150); do
  s="$(job_state "${array}_4")"
  [ "$s" = CANCELLED ] && break
  sleep 0.2
done
[ "$s" = CANCELLED ] || { echo "slurm-test: task 4 is $s after scancel" >&2; exit 1; }
before="$(lines "$shard4")"
[ "$before" -lt 3 ] || { echo "slurm-test: task 4 finished all 3 jobs before it was cancelled" >&2; exit 1; }
say "cancelled task ${array}_4 with $before of its 3 records stored"

wait_done "${array}_1" "${array}_2" "${array}_3"
say "tasks ${array}_1..3 completed"
# the merge job waits on an array that did not succeed: it can never start
reason="$(job_reason "$merge")"
[ "$(job_state "$merge")" = PENDING ] || { echo "slurm-test: merge job $merge is $(job_state "$merge")" >&2; exit 1; }
say "merge job $merge: PENDING ($reason); cancelled"
scancel "$merge"

# resubmit task 4 (it resumes) and a merge after it
again="$(sbatch --parsable --array=4 "$tmp/jobs/study.array.sbatch" | cut -d';' -f1)"
jobs_to_cancel+=("$again")
merge2="$(sbatch --parsable --dependency="afterok:$again" "$tmp/jobs/study.merge.sbatch" | cut -d';' -f1)"
jobs_to_cancel+=("$merge2")
wait_done "${again}_4" "$merge2"
log="$tmp/jobs/study-${again}_4.out"
summary="$(grep '^records' "$log")"
say "resubmitted task ${again}_4: $(sed 's/^records *//' <<<"$summary")"
grep -q " $before done before, $((3 - before)) computed, 0 failed" <<<"$summary" ||
  { echo "slurm-test: the resubmitted task did not resume from its $before stored records" >&2; cat "$log" >&2; exit 1; }
merged="$(grep -m1 '^merged' "$tmp/jobs/study-merge-$merge2.out")" ||
  { echo "slurm-test: the merge job printed no 'merged' line" >&2; cat "$tmp/jobs/study-merge-$merge2.out" >&2; exit 1; }
say "merge job $merge2 completed: $(sed 's/^merged *//' <<<"$merged")"

# 4. the unsharded run, and the records point for point
(cd "$tmp/reference" && "$spinbat" run study.toml --threads 1 >/dev/null)
python3 - "$tmp/study/study.jsonl" "$tmp/reference/study.jsonl" <<'PY'
import json, math, sys

merged, reference = ([json.loads(l) for l in open(p)] for p in sys.argv[1:3])
IGNORED = {"provenance", "run_time_s"}  # when and how fast, not what
numbers = [0, 0]  # compared, equal to the last bit


def compare(a, b, where):
    if isinstance(a, dict) and isinstance(b, dict):
        keys = (set(a) | set(b)) - IGNORED
        for k in sorted(keys):
            if k not in a or k not in b:
                sys.exit(f"slurm-test: {where}.{k} is in one record only")
            compare(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for k, (x, y) in enumerate(zip(a, b)):
            compare(x, y, f"{where}[{k}]")
    elif isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        if not math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300):
            sys.exit(f"slurm-test: {where}: merged {a!r}, unsharded {b!r}")
        numbers[0] += 1
        numbers[1] += a == b
    elif a != b:
        sys.exit(f"slurm-test: {where}: merged {a!r}, unsharded {b!r}")


if [r["key"] for r in merged] != [r["key"] for r in reference]:
    sys.exit(f"slurm-test: keys differ:\n  merged    {[r['key'] for r in merged]}\n  unsharded {[r['key'] for r in reference]}")
for a, b in zip(merged, reference):
    compare(a, b, a["key"])
print(f"   slurm-test: {len(merged)} merged records equal the unsharded run's point for point: "
      f"{numbers[0]} numbers to 1e-12, {numbers[1]} of them to the last bit "
      f"(P_max at N = 15: {merged[-1]['max_power']['power']:.12g})")
PY
echo "== slurm-test: ok, $((SECONDS - start)) s"
