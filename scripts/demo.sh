#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh BUILD_DIR — what cairn is for, in about 20 seconds (`make demo`).
#
# Runs the `means` example (the tutorials' job: means of random pairs, then
# the mean of the means) three ways: uninterrupted for the reference answer;
# with a checkpoint store, killed with SIGKILL (as a pool does when it evicts
# a job); then restarted with the same command, which resumes where the last
# checkpoint left it. Then the same with a Python script nobody changed,
# under `cairn run`. The answers must be identical to the uninterrupted
# ones, and the restarted runs must say where they resumed: exit 1 otherwise.
#
# The script never guesses how fast the machine is: it kills a job only
# after it has seen a checkpoint committed in the store, while the job still
# has work left (it watches the job's own progress lines), and the Python
# job is sized from a measurement of this machine made first. Should a job
# nevertheless finish before the kill lands, that part is run again.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
ex=$build/examples/means
cli=$build/bin/cairn
[ -x "$ex" ] || { echo "demo: $ex is missing: build first (make build)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo-XXXXXX")
job=
cleanup() {
  if [ -n "$job" ]; then
    pkill -KILL -P "$job" 2>/dev/null || true
    kill -KILL "$job" 2>/dev/null || true
    wait "$job" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

say() { printf '\n== %s\n' "$*"; }
show() { printf '   $ %s\n' "$*"; }
indent() { sed 's/^/   | /'; }
die() { echo "   $*: this is a bug in cairn." >&2; exit 1; }

# until_true SECONDS CMD...: polls CMD every 20 ms (a hang fails the demo).
until_true() {
  local end=$((SECONDS + $1)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$end" ] || die "timed out waiting for: $*"
    sleep 0.02
  done
}
# newest STORE: the number of the newest committed generation (0 if none).
newest() {
  ls "$1" 2>/dev/null | sed -n 's/^ckpt-0*\([0-9][0-9]*\)\.cairn$/\1/p' | sort -n | tail -1 | grep . || echo 0
}
# last_step FILE: K of the last "step K" line the job printed (0 if none).
last_step() { sed -n 's/^step \([0-9]*\)$/\1/p' "$1" 2>/dev/null | tail -1 | grep . || echo 0; }
alive() { kill -0 "$job" 2>/dev/null; }
# tree PID: the processes under PID (cairn run's: its helper, the job).
tree() { local c; for c in $(pgrep -P "$1"); do echo "$c"; tree "$c"; done; }
# gone PID: PID has ended (it is gone, or a zombie).
gone() { local s; s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1); [ -z "$s" ] || [ "$s" = Z ]; }
# kill_job: SIGKILL to the job and everything under it; sets status (its
# exit status) once none of them runs any more.
kill_job() {
  local p pids
  pids="$job $(tree "$job")"
  kill -KILL $pids 2>/dev/null || true
  status=0; wait "$job" 2>/dev/null || status=$?
  job=
  for p in $pids; do until_true 30 gone "$p"; done
}

# The job: 400 samples, 20 ms each (8 s), a checkpoint every second; -v
# makes it print "step K" on stderr after each sample, which this script
# watches.
args=(-n 400 -r 2024 -d 0.02)
export CAIRN_INTERVAL=1
cmd="CAIRN_INTERVAL=1 means ${args[*]}"

say "1. The reference answer: the same job, uninterrupted (no pauses, so it is quick)."
show "means -n 400 -r 2024 -d 0 -s reference.ckpt"
"$ex" -n 400 -r 2024 -d 0 -s reference.ckpt >reference.txt 2>/dev/null
indent <reference.txt

gen_at_least() { [ "$(newest means.ckpt)" -ge "$1" ] || ! alive; }
steps_at_least() { [ "$(last_step run1.err)" -ge "$1" ] || ! alive; }
for attempt in 1 2 3; do
  say "2. Now the real run, which checkpoints into means.ckpt every second."
  show "$cmd"
  rm -rf means.ckpt answer.txt
  "$ex" "${args[@]}" -v >answer.txt 2>run1.err &
  job=$!
  # Two checkpoints committed, then half a second's worth of samples more,
  # so that the plug is pulled between two checkpoints.
  until_true 60 gen_at_least 2
  at_gen2=$(last_step run1.err)
  until_true 60 steps_at_least $((at_gen2 + 25))
  killed_at=$(last_step run1.err)
  if [ "$killed_at" -lt 400 ] && alive; then
    say "3. A few seconds in, the machine is taken away: kill -KILL (no warning, no cleanup)."
    show "kill -KILL $job"
    kill_job
    [ "$status" -eq 137 ] && [ ! -s answer.txt ] && break
  else
    kill_job
  fi
  # Only a machine stopped for seconds between two lines above gets here.
  [ "$attempt" -lt 3 ] || die "the job finished before it could be killed, 3 times"
  echo "   (the job finished before the kill landed: once more)"
done
echo "   the job died with status $status (128 + 9 = SIGKILL) after sample $killed_at;"
echo "   it printed no answer:"
[ -s answer.txt ] && indent <answer.txt || echo "   | (nothing)"

say "4. What it leaves behind: the checkpoint store, with the last two generations."
show "ls -l means.ckpt"
ls -l means.ckpt | indent
if [ -x "$cli" ]; then
  echo "   Each image is checked (checksums) before it is ever restored:"
  show "cairn inspect means.ckpt"
  "$cli" inspect means.ckpt 2>&1 | indent || true
fi

say "5. The scheduler starts the job again, with the SAME command. It resumes:"
show "$cmd"
"$ex" "${args[@]}" >answer.txt 2>run2.err
grep -E 'resumed at step|restored generation' run2.err | indent || true
step=$(sed -n 's/.*resumed at step \([0-9]*\).*/\1/p' run2.err)
echo "   ${step:-0} of the 400 samples were not computed again; the $((killed_at - ${step:-0}))" \
     "done after the last checkpoint were."
indent <answer.txt

say "6. Compare with the reference, bit for bit:"
if cmp -s reference.txt answer.txt && [ -n "$step" ] && [ "$step" -gt 0 ] && [ "$step" -le "$killed_at" ]; then
  echo "   identical. The kill cost at most one checkpoint interval of work."
  ls means.ckpt | tr '\n' ' ' | sed 's/^/   the store now holds: /; s/ $/\n/'
  echo "   (\"finished\" makes a rerun start afresh instead of resuming.)"
else
  diff reference.txt answer.txt >&2 || true
  die "DIFFERENT (or the job did not resume)"
fi

# Part two: a program nobody changed, under `cairn run`.
py=/usr/bin/python3
if [ ! -x "$cli" ] || [ ! -x "$py" ] || [ "$(uname -m)" != x86_64 ]; then
  echo; echo "(skipping the cairn run part: needs $cli, $py and x86_64)"; exit 0
fi
# Size the script to about 4 s on this machine, measured now: 1,000,000
# iterations timed, then as many millions as fit in 4 s (at least 2).
t0=$(date +%s%N)
"$py" -c 's = 0
for i in range(1000000): s += i * i % 7'
per_million=$((($(date +%s%N) - t0) / 1000000))
millions=$((4000 / (per_million > 0 ? per_million : 1)))
[ "$millions" -ge 2 ] || millions=2
n=$((millions * 1000000))
cat >sum.py <<EOF
# Adds up i*i % 7 for i = 1..$n, saying how far it got every tenth.
n = $n
s = 0
for part in range(10):
    for i in range(part * n // 10 + 1, (part + 1) * n // 10 + 1):
        s += i * i % 7
    print(f"{(part + 1) * 10}% done", flush=True)
print("sum:", s)
EOF
say "7. Now a Python script nobody changed (sized to ~4 s here). Reference run, without cairn:"
show "python3 sum.py"
"$py" sum.py >py-reference.txt
indent <py-reference.txt | tail -n 3

say "8. The same script under cairn run, checkpointed every second, killed with SIGKILL:"
show "cairn run --interval 1 -- python3 sum.py >> py-answer.txt"
has_image() { [ "$(newest cairn.ckpt)" -ge 1 ] || ! alive; }
for attempt in 1 2 3; do
  rm -rf cairn.ckpt py-answer.txt
  "$cli" run --interval 1 -- "$py" sum.py >>py-answer.txt 2>py1.err &
  job=$!
  until_true 120 has_image
  # Committed (images appear in the store by an atomic rename), and the
  # job has not printed its sum: it has work left. Pull the plug now.
  if alive && ! grep -q '^sum:' py-answer.txt; then
    kill_job
    ! grep -q '^sum:' py-answer.txt && break
  else
    kill_job
  fi
  [ "$attempt" -lt 3 ] || die "the script finished before it could be killed, 3 times"
  echo "   (the script finished before the kill landed: once more)"
done
echo "   killed after printing \"$(tail -n 1 py-answer.txt 2>/dev/null)\"; the store holds:"
ls cairn.ckpt | indent

say "9. The same command again restores the Python process and lets it finish:"
show "cairn run --interval 1 -- python3 sum.py >> py-answer.txt"
"$cli" run --interval 1 -- "$py" sum.py >>py-answer.txt 2>py2.err || true
grep -E 'restored' py2.err | indent || true
indent <py-answer.txt
if cmp -s py-reference.txt py-answer.txt && grep -q 'job restored from generation' py2.err; then
  echo "   identical to the uninterrupted run, and it resumed rather than started over"
  echo "   (py-answer.txt is appended to: a run started over would repeat its lines)."
else
  cat py1.err py2.err >&2
  die "DIFFERENT (or not resumed)"
fi
