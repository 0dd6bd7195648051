#!/bin/sh
# SPDX-License-Identifier: MIT
# term.sh — SIGTERM/SIGINT sent to the job itself, not to cairn, as a
# scheduler does (Slurm signals every process of the job); runtime/signals.c.
#   1. default action: the job is checkpointed, cairn exits 143 (130 for
#      SIGINT), the rerun restores it and the output equals an uninterrupted
#      run's; with SIGTERM to cairn as well, one checkpoint, one exit; with
#      and without the pid namespace;
#   2. a SIGTERM the job blocks is pending at a checkpoint: the checkpoint
#      becomes the stop, and the restored job is not stopped again;
#   3. a job that ignores SIGTERM goes on, no checkpoint;
#   4. a job with its own handler: sigaction()/signal()/sysv_signal() report
#      its own previous actions, its SA_SIGINFO|SA_RESETHAND handler runs
#      (si_code SI_USER), the action then reads SIG_DFL and the next SIGTERM
#      checkpoints;
#   5. a child the job forked, sent SIGTERM from outside, makes the whole
#      job checkpoint and stop; the rerun resumes it, child alive.
# As root and unprivileged; no process is left behind.
#   term.sh CAIRN TERM_PROG
# The job (progs/term.c) waits before its last line until $W/NAME.gate
# exists, so every signal below reaches it while it runs; each step waits
# for an event (a line of output, a signal pending), never a guessed time.
set -eu
# The job's stdout lines are watched as it writes them: direct output
# (committed output, which reaches the file at commits, has its own tests:
# tests/transparent/output.sh and cycle.sh with OUTPUT=committed).
export CAIRN_OUTPUT=direct
CAIRN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-term.XXXXXX")
cleanup() {
    pkill -9 -f "$W" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$W"/*.err "$W"/*.out >&2 2>/dev/null || true; exit 1; }
cp "$2" "$W/term"
PROG="$W/term"
N=3000

# waitfor FILE PATTERN: until grep finds it (60 s at most).
waitfor() { poll_until 60 "'$2' in $1" has_text "$1" "$2"; }
# start NAME MODE: cairn run in the background; CPID is cairn, JOB the job.
# (A shell starts background commands with SIGINT ignored: undo that.)
start() {
    env --default-signal=INT CAIRN_TEST_GATE="$W/$1.gate" \
        "$CAIRN" run --store "$W/$1.st" -v -- "$PROG" "$2" $N >>"$W/$1.out" 2>>"$W/$1.err" </dev/null &
    CPID=$!
    waitfor "$W/$1.out" '^ready'
    JOB=$(pgrep -o -f "^$PROG $2 ") || fail "$1: no job process"
}
# open_gate NAME: the job may end.
open_gate() { : >"$W/$1.gate"; }
# finish NAME STATUS: cairn run must end with STATUS.
finish() {
    rc=0; wait "$CPID" || rc=$?
    [ "$rc" -eq "$2" ] || fail "$1: cairn run exited $rc, not $2"
}
commits() { grep -c 'checkpoint [0-9]* committed' "$W/$1.err" || true; }
# rerun NAME MODE: the rerun must restore and finish with status 0.
rerun() {
    open_gate "$1"
    rc=0
    "$CAIRN" run --store "$W/$1.st" -v -- "$PROG" "$2" $N >>"$W/$1.out" 2>>"$W/$1.err" </dev/null ||
        rc=$?
    [ $rc -eq 0 ] || fail "$1: the rerun exited $rc, not 0"
    grep -q 'job restored' "$W/$1.err" || fail "$1: the rerun did not restore"
}

"$PROG" default $N >"$W/ref" || fail "reference run"
result=$(tail -n 1 "$W/ref")

# 1. Default action.
stop_case() { # NAME SIGNAL STATUS TO_CAIRN_TOO
    start "$1" default
    kill "-$2" "$JOB"
    [ "$4" = yes ] && kill -TERM "$CPID"
    finish "$1" "$3"
    [ "$(commits "$1")" = 1 ] || fail "$1: $(commits "$1") checkpoints committed, not 1"
    rerun "$1" default
    cmp -s "$W/ref" "$W/$1.out" || fail "$1: output differs from an uninterrupted run's"
}
stop_case term TERM 143 no
stop_case both TERM 143 yes
CAIRN_NO_NAMESPACE=1 stop_case int_nons INT 130 no
CAIRN_NO_NAMESPACE=1 stop_case both_nons TERM 143 yes

# 2. Blocked, pending at a checkpoint.
# term_pending PID: the kernel holds a SIGTERM for PID (ShdPnd bit 15).
term_pending() {
    m=$(sed -n 's/^ShdPnd:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
    [ -n "$m" ] && [ $((0x$m & 0x4000)) -ne 0 ]
}
start blocked blocked
kill -TERM "$JOB"
poll_until 60 "blocked: SIGTERM pending for the job" term_pending "$JOB"
running "$JOB" || fail "blocked: the job did not survive a blocked SIGTERM"
[ "$(commits blocked)" = 0 ] || fail "blocked: checkpoint before it was asked for"
checkpoint_now "$W/blocked.st" "$CPID" || fail "blocked: cairn run ended before the checkpoint"
finish blocked 143
rerun blocked blocked
cmp -s "$W/ref" "$W/blocked.out" || fail "blocked: output differs from an uninterrupted run's"

# 3. Ignored: the kernel drops each SIGTERM when it is sent.
start ignore ignore
for s in 1 2 3; do kill -TERM "$JOB"; done
running "$JOB" || fail "ignore: the job did not survive an ignored SIGTERM"
open_gate ignore
finish ignore 0
[ "$(commits ignore)" = 0 ] || fail "ignore: a checkpoint was taken"
cmp -s "$W/ref" "$W/ignore.out" || fail "ignore: output differs from an uninterrupted run's"

# 4. The job's own handler.
start handler handler
kill -TERM "$JOB"
waitfor "$W/handler.out" '^reset: ok'
[ "$(commits handler)" = 0 ] || fail "handler: the job's own handler led to a checkpoint"
kill -TERM "$JOB"
finish handler 143
rerun handler handler
printf 'reported actions: ok\nready\nhandler ran\nhandled signal 15, si_code SI_USER\nreset: ok\n%s\n' \
    "$result" >"$W/handler.want"
cmp -s "$W/handler.want" "$W/handler.out" || fail "handler: output differs from what is expected"

# 5. A forked child is a process of the job (docs/TRANSPARENT.md, "Process
#    trees"): SIGTERM from outside to it alone is the scheduler's too, so
#    the whole job is checkpointed and stopped, and the rerun resumes it with
#    the child alive (the job kills it at its end, saying nothing).
start child child
CHILD=$(pgrep -P "$JOB") || fail "child: no child process"
kill -TERM "$CHILD"
finish child 143
[ "$(commits child)" = 1 ] || fail "child: $(commits child) checkpoints committed, not 1"
rerun child child
printf 'ready\n%s\n' "$result" >"$W/child.want"
cmp -s "$W/child.want" "$W/child.out" || fail "child: output differs from what is expected"

gone "$W"
echo "ok: SIGTERM/SIGINT to the job checkpoint it (one checkpoint with cairn's own), blocked" \
     "pending one not restored, ignored, own SA_RESETHAND handler, forked child"
