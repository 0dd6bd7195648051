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
#   5. a child the job forked dies of SIGTERM as without cairn.
# As root and unprivileged; no process is left behind.
#   term.sh CAIRN TERM_PROG
set -eu
CAIRN=$1
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-term.XXXXXX")
cleanup() {
    pkill -9 -f "$W" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$W"/*.err "$W"/*.out >&2 2>/dev/null || true; exit 1; }
cp "$2" "$W/term"
PROG="$W/term"
N=8000

# waitfor FILE PATTERN: until grep finds it (20 s at most).
waitfor() {
    i=0
    until grep -q "$2" "$1" 2>/dev/null; do
        sleep 0.05; i=$((i + 1)); [ $i -lt 400 ] || fail "'$2' never appeared in $1"
    done
}
# start NAME MODE: cairn run in the background; CPID is cairn, JOB the job.
# (A shell starts background commands with SIGINT ignored: undo that.)
start() {
    env --default-signal=INT "$CAIRN" run --store "$W/$1.st" -v -- "$PROG" "$2" $N >>"$W/$1.out" 2>>"$W/$1.err" </dev/null &
    CPID=$!
    waitfor "$W/$1.out" '^ready'
    JOB=$(pgrep -o -f "^$PROG $2 ") || fail "$1: no job process"
}
# finish NAME STATUS: cairn run must end with STATUS.
finish() {
    rc=0; wait "$CPID" || rc=$?
    [ "$rc" -eq "$2" ] || fail "$1: cairn run exited $rc, not $2"
}
commits() { grep -c 'checkpoint [0-9]* committed' "$W/$1.err" || true; }
# rerun NAME MODE: the rerun must restore and finish with status 0.
rerun() {
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
    sleep 0.2
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
start blocked blocked
kill -TERM "$JOB"
sleep 0.3
kill -0 "$JOB" 2>/dev/null || fail "blocked: the job did not survive a blocked SIGTERM"
[ "$(commits blocked)" = 0 ] || fail "blocked: checkpoint before it was asked for"
"$CAIRN" checkpoint --store "$W/blocked.st" 2>/dev/null
finish blocked 143
rerun blocked blocked
cmp -s "$W/ref" "$W/blocked.out" || fail "blocked: output differs from an uninterrupted run's"

# 3. Ignored.
start ignore ignore
for s in 1 2 3; do kill -TERM "$JOB"; sleep 0.1; done
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

# 5. A forked child.
start child child
CHILD=$(pgrep -P "$JOB") || fail "child: no child process"
kill -TERM "$CHILD"
finish child 0
printf 'ready\nchild: killed by signal 15\n%s\n' "$result" >"$W/child.want"
cmp -s "$W/child.want" "$W/child.out" || fail "child: output differs from what is expected"

sleep 0.2
! pgrep -f "$W" >/dev/null || fail "processes left behind: $(pgrep -af "$W")"
echo "ok: SIGTERM/SIGINT to the job checkpoint it (one checkpoint with cairn's own), blocked" \
     "pending one not restored, ignored, own SA_RESETHAND handler, forked child"
