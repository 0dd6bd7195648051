#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh BUILD_DIR — what cairn is for, in about 15 seconds (`make demo`).
#
# Runs the `means` example (the tutorials' job: means of random pairs, then
# the mean of the means) three ways: uninterrupted for the reference answer;
# with a checkpoint store, killed with SIGKILL (as a pool does when it evicts
# a job); then restarted with the same command, which resumes where the last
# checkpoint left it. The two answers must be identical: exit 1 otherwise.
set -euo pipefail

build=$(cd "${1:-build}" && pwd)
ex=$build/examples/means
cli=$build/bin/cairn
[ -x "$ex" ] || { echo "demo: $ex is missing: build first (make build)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo-XXXXXX")
job=
cleanup() {
  if [ -n "$job" ]; then kill -KILL "$job" 2>/dev/null || true; wait "$job" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

say() { printf '\n== %s\n' "$*"; }
show() { printf '   $ %s\n' "$*"; }
indent() { sed 's/^/   | /'; }

# The job: 500 samples, 20 ms each (10 s), a checkpoint every second.
args=(-n 500 -r 2024 -d 0.02)
export CAIRN_INTERVAL=1
cmd="CAIRN_INTERVAL=1 means ${args[*]}"

say "1. The reference answer: the same job, uninterrupted (no pauses, so it is quick)."
show "means -n 500 -r 2024 -d 0 -s reference.ckpt"
"$ex" -n 500 -r 2024 -d 0 -s reference.ckpt >reference.txt 2>/dev/null
indent <reference.txt

say "2. Now the real run, which checkpoints into means.ckpt every second."
show "$cmd"
"$ex" "${args[@]}" >answer.txt 2>run1.err &
job=$!

# Let it write a couple of checkpoints, then pull the plug mid-interval.
newest() { ls means.ckpt 2>/dev/null | sed -n 's/^ckpt-0*\([0-9][0-9]*\)\.cairn$/\1/p' | sort -n | tail -1; }
for _ in $(seq 200); do [ "$(newest)" -ge 2 ] 2>/dev/null && break; sleep 0.05; done
sleep 0.6
say "3. After a few seconds the machine is taken away: kill -KILL (no warning, no cleanup)."
show "kill -KILL $job"
kill -KILL "$job"
wait "$job" 2>/dev/null && status=0 || status=$?
job=
echo "   the job died with status $status (128 + 9 = SIGKILL); it printed no answer:"
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
echo "   ${step:-0} of the 500 samples were not computed again."
indent <answer.txt

say "6. Compare with the reference, bit for bit:"
if cmp -s reference.txt answer.txt && [ -n "$step" ] && [ "$step" -gt 0 ]; then
  echo "   identical. The kill cost at most one checkpoint interval of work."
  ls means.ckpt | tr '\n' ' ' | sed 's/^/   the store now holds: /; s/ $/\n/'
  echo "   (\"finished\" makes a rerun start afresh instead of resuming.)"
else
  echo "   DIFFERENT (or the job did not resume): this is a bug in cairn." >&2
  diff reference.txt answer.txt >&2 || true
  exit 1
fi

# Part two: a program nobody changed, under `cairn run`.
py=/usr/bin/python3
if [ ! -x "$cli" ] || [ ! -x "$py" ] || [ "$(uname -m)" != x86_64 ]; then
  echo; echo "(skipping the cairn run part: needs $cli, $py and x86_64)"; exit 0
fi
printf 's = 0\nfor i in range(1, 30000001):\n    s += i * i %% 7\nprint("sum:", s)\n' >sum.py
say "7. Now a Python script nobody changed. Reference run, without cairn:"
show "python3 sum.py"
"$py" sum.py >py-reference.txt
indent <py-reference.txt
say "8. The same script under cairn run, checkpointed every second, killed with SIGKILL:"
show "cairn run --interval 1 -- python3 sum.py >> py-answer.txt"
"$cli" run --interval 1 -- "$py" sum.py >>py-answer.txt 2>py1.err &
job=$!
for _ in $(seq 200); do ls cairn.ckpt 2>/dev/null | grep -q '^ckpt-' && break; sleep 0.05; done
sleep 1.2
pkill -KILL -P "$job" 2>/dev/null || true
kill -KILL "$job" 2>/dev/null || true
wait "$job" 2>/dev/null || true
job=
echo "   killed; the store holds:"
ls cairn.ckpt | indent
say "9. The same command again restores the Python process and lets it finish:"
show "cairn run --interval 1 -- python3 sum.py >> py-answer.txt"
"$cli" run --interval 1 -- "$py" sum.py >>py-answer.txt 2>py2.err || true
grep -E 'restored' py2.err | indent || true
indent <py-answer.txt
if cmp -s py-reference.txt py-answer.txt && grep -q restored py2.err; then
  echo "   identical to the uninterrupted run, and it resumed rather than started over."
else
  echo "   DIFFERENT (or not resumed): this is a bug in cairn." >&2
  cat py1.err py2.err >&2
  exit 1
fi
