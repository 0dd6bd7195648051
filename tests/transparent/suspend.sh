#!/bin/sh
# SPDX-License-Identifier: MIT
# suspend.sh — a job suspended and resumed under `cairn run`, as HTCondor
# suspends a job when a desktop's owner comes back (SIGSTOP to every process
# of the job, SIGCONT later) and `scontrol suspend` does:
#  1. every process of the run stopped (cairn, the namespace's init, the
#     job), a checkpoint asked for meanwhile: after SIGCONT it commits and
#     the job runs on;
#  2. the job alone stopped (cairn running) when a checkpoint is asked
#     for: cairn waits for it, and it commits once the job is continued;
#  3. killed, restored from the last generation, the job ends with the
#     output of a run without cairn.
# Every step waits for a state in /proc or a line cairn printed.
#   suspend.sh CAIRN INCR
set -eu
CAIRN=$1; INCR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-suspend.XXXXXX")
CPID=
ALL=
cleanup() {
    # shellcheck disable=SC2086
    [ -z "$ALL" ] || kill -CONT $ALL 2>/dev/null || true
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
ARGS="16 3000 10"
# shellcheck disable=SC2086
"$INCR" $ARGS >ref.txt
export CAIRN_TEST_GATE="$W/gate" CAIRN_OUTPUT=direct
ST=$W/st

# stopped PID...: every PID is in state T (stopped).
stopped() {
    for _p in "$@"; do
        [ "$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null | cut -c1)" = T ] || return 1
    done
}
# shellcheck disable=SC2086
"$CAIRN" run --store "$ST" -v -- "$INCR" $ARGS >>out.txt 2>err1 </dev/null &
CPID=$!
poll_until 300 "line 5 of the job's output" has_lines out.txt 5
checkpoint_now "$ST" "$CPID" || fail "cairn run ended before the checkpoint"
poll_until 120 "checkpoint 1" has_text err1 'checkpoint 1 committed'
# The job: the first process under cairn run running INCR (listed parent
# first, so before its writers, forks of it that come and go; pgrep -n
# once picked a writer just gone, and other tests run the same command).
JOB=
for p in $(descendants "$CPID"); do
    if tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$INCR"; then JOB=$p; break; fi
done
[ -n "$JOB" ] || fail "the job's process was not found"

# 1. The whole run stopped; a checkpoint asked for while it is.
ALL="$CPID $(descendants "$CPID")"
# shellcheck disable=SC2086
kill -STOP $ALL
# shellcheck disable=SC2086
poll_until 60 "every process of the run stopped" stopped $ALL
"$CAIRN" checkpoint --store "$ST" >/dev/null || fail "cairn checkpoint failed"
# shellcheck disable=SC2086
kill -CONT $ALL
poll_until 120 "checkpoint 2, asked for while suspended" has_text err1 'checkpoint 2 committed'
at=$(lines out.txt)
poll_until 300 "a line after the resume" has_lines out.txt $((at + 1))

# 2. The job alone stopped when the checkpoint is asked for.
kill -STOP "$JOB"
poll_until 60 "the job stopped" stopped "$JOB"
"$CAIRN" checkpoint --store "$ST" >/dev/null || fail "cairn checkpoint failed"
running "$CPID" || fail "cairn run ended while the job was stopped"
kill -CONT "$JOB"
ALL=
poll_until 120 "checkpoint 3, asked for while the job was stopped" has_text err1 'checkpoint 3 committed'
grep -q 'checkpoint not taken' err1 && fail "a checkpoint failed"
kill_tree "$CPID" || fail "the run's processes did not end"
CPID=

# 3. Restored from generation 3, to the end.
: >gate
# shellcheck disable=SC2086
"$CAIRN" run --store "$ST" -v -- "$INCR" $ARGS >>out.txt 2>err2 </dev/null ||
    fail "the resumed run ended with status $?"
grep -q 'restored from generation 3$' err2 || fail "not restored from generation 3"
cmp ref.txt out.txt || fail "the output differs from the run without cairn: $(tail -n 1 out.txt)"
echo "ok: suspended whole and job alone, checkpoints committed after SIGCONT, restored"
