#!/bin/sh
# SPDX-License-Identifier: MIT
# handler_wake.sh — the job's signal handlers behind the runtime's
# counting trampoline (runtime/handlers.c): progs/handler_wake waits in
# sigsuspend() and then in pause(); for each wait this script has a
# checkpoint committed while the job waits (the wait goes on), then sends
# SIGUSR1, whose handler must end the wait. The job must wake up twice,
# see its own actions reported, and finish. (The moment the trampoline is
# for, a checkpoint landing while the job's handler returns, cannot be
# arranged from outside; transparent_tree_sigchld's thousand checkpoints
# per run met it about once in a hundred runs before.)
#   handler_wake.sh CAIRN HANDLER_WAKE
set -eu
CAIRN=$1; PROG=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-wake.XXXXXX")
CPID=
cleanup() { [ -z "$CPID" ] || kill_tree "$CPID"; rm -rf "$W"; }
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    [ -z "$CPID" ] || dump_tree "$CPID" >&2
    tail -n 20 "$W/out" "$W/err" >&2 || true
    exit 1
}
cd "$W"
"$CAIRN" run --output direct --store st -v -- "$PROG" >out 2>err </dev/null &
CPID=$!
# the job's pid, outside the namespace: the process running PROG
job_pid() {
    for _p in $(descendants "$CPID"); do
        [ "$(readlink "/proc/$_p/exe" 2>/dev/null)" = "$(readlink -f "$PROG")" ] && echo "$_p" && return
    done
}
for k in 1 2; do
    poll_until 120 "the job waiting ($k)" has_text out "waiting $k"
    poll_until 60 "cairn run owning its store" owns_store st "$CPID"
    pid=$(job_pid)
    [ -n "$pid" ] || fail "no process runs $PROG"
    before=$(newest st)
    "$CAIRN" checkpoint --store st >/dev/null || fail "cairn checkpoint failed"
    poll_until 120 "a generation committed ($k)" newer_than st "$before"
    ! has_text out "woke $k" || fail "wait $k ended with the checkpoint"
    kill -USR1 "$pid"
    poll_until 120 "the job waking up ($k)" has_text out "woke $k"
done
poll_until 120 "the job ending" ended "$CPID"
rc=0; wait "$CPID" || rc=$?; CPID=
[ $rc -eq 0 ] || fail "cairn run exited $rc"
grep -q "handler_wake: done, 2 wake-ups, handler sane" out || fail "$(tail -n 1 out)"
echo "ok: checkpointed in sigsuspend and pause, woken by its own handler each time, its actions reported as its own"
