#!/bin/sh
# SPDX-License-Identifier: MIT
# wait.sh — `cairn checkpoint --wait` on a libcairn job (examples/sum),
# which cairn finds as the holder of its store's lock:
#   1. the job at work (a step every 10 ms): --wait returns 0 once the new
#      generation is committed, and it is in the store when it returns;
#   2. twice more: each a generation newer than the last;
#   3. a job in a long step (60 s, so no cairn_step() comes): --timeout 0.3
#      gives 5, and the job goes on; then, the job killed while a --wait
#      waits: 6 (ended without a new generation);
#   4. with CAIRN_CONTINUE_SIGNALS=none the job cannot be asked: 3, and it
#      is not signalled (it goes on);
#   5. no job on the store: 3, at once.
# Every wait is for an event (the log's "start" line, a process gone, the
# waiter's inotify descriptor), never for a guessed time.
#   wait.sh CAIRN SUM
set -eu
CAIRN=$1; SUM=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../transparent/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-wait.XXXXXX")
JOB=
cleanup() { [ -n "$JOB" ] && kill -9 "$JOB" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
unset CAIRN_INTERVAL CAIRN_STEPS CAIRN_EXIT_CODE CAIRN_CONTINUE_SIGNALS

# start NAME DELAY [ENV...]: sum in the background on store NAME, once it
# has logged its start (it has the lock and has recorded itself in it).
start() {
    _s=$1 _d=$2; shift 2
    env CAIRN_INTERVAL=1d "$@" "$SUM" -n 1000000 -d "$_d" -s "$_s" >"out.$_s" 2>"err.$_s" &
    JOB=$!
    poll_until 30 "$_s: the job's start in the log" has_text "$_s/events.jsonl" '"start"'
}
# ck EXPECTED ARGS...: cairn checkpoint ARGS has exit status EXPECTED.
ck() {
    _want=$1; shift
    _rc=0; "$CAIRN" checkpoint "$@" >ck.out 2>ck.err || _rc=$?
    [ "$_rc" = "$_want" ] || fail "cairn checkpoint $*: exit $_rc, wanted $_want: $(cat ck.err)"
}

start a 0.01
for g in 1 2 3; do
    ck 0 --wait --store a
    grep -qx "a: generation $g committed" ck.out || fail "--wait said: $(cat ck.out)"
    [ "$(newest a)" = "$(gen_file $g)" ] || fail "--wait returned before generation $g was in the store"
done
[ "$(grep -c '"event":"commit"' a/events.jsonl)" = 3 ] || fail "the log has not 3 commits"
kill -TERM "$JOB"; wait "$JOB" || true; JOB=

start b 60
ck 5 --wait --timeout 0.3 --store b
grep -q "no new generation after 0.3 s" ck.err || fail "timeout message: $(cat ck.err)"
running "$JOB" || fail "the job did not go on after the timeout"
"$CAIRN" checkpoint --wait --store b >ck.out 2>ck.err &
WAITER=$!
waiting() { ls -l "/proc/$WAITER/fd" 2>/dev/null | grep -q inotify || ended "$WAITER"; }
poll_until 30 "the waiter watching the store" waiting
kill -9 "$JOB"; wait "$JOB" 2>/dev/null || true; JOB=
rc=0; wait "$WAITER" || rc=$?
[ $rc = 6 ] || fail "--wait on a job that died: exit $rc, wanted 6: $(cat ck.err)"
grep -q "ended without committing a new generation" ck.err || fail "message: $(cat ck.err)"

start c 0.01 CAIRN_CONTINUE_SIGNALS=none
ck 3 --store c
grep -q "has no checkpoint signal" ck.err || fail "no-signal message: $(cat ck.err)"
running "$JOB" || fail "the job without a checkpoint signal was signalled"
kill -TERM "$JOB"; wait "$JOB" || true; JOB=

ck 3 --wait --store a
grep -q "no job is using the store a" ck.err || fail "no-job message: $(cat ck.err)"
echo "ok: --wait on a libcairn job: 3 commits, timeout 5, job ended 6, no signal 3, no job 3"
