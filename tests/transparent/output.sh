#!/bin/sh
# SPDX-License-Identifier: MIT
# output.sh — committed output (docs/TRANSPARENT.md) with other writers.
#
#   output.sh CAIRN COUNTER APPLOG
#
# 1. The job's stdout is a file that another process appends lines to
#    while the job runs, is killed (with cairn, SIGKILL) and restored 3
#    times. The file must end with every foreign line, in order, and, those
#    filtered out, exactly an uninterrupted run's output. Progress: `cairn
#    checkpoint --wait` until the committed lines reach the kill point.
# 2. A job appending to a log it opened itself (applog): with another
#    process holding the log open and writing to it, a restore keeps the
#    foreign lines and warns; without one, the log is rolled back and equals
#    an uninterrupted run's.
# 3. cairn run dies (CAIRN_TEST_OUTPUT_CRASH, run_output.c) right after a
#    commit, before appending what it covers, and just after an append's
#    write(), before recording it: the rerun restores the generation and the
#    file still ends as an uninterrupted run's, nothing lost or doubled.
# No sleep synchronises anything: the appender's pause only paces it.
set -eu
CAIRN=$1; COUNTER=$2; APPLOG=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-output.XXXXXX")
CPID= APID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "$APID" ] && { : >"$W/stop"; wait "$APID" 2>/dev/null || true; }
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 2>/dev/null || true; exit 1; }
export CAIRN_TEST_GATE="$W/gate"

# appender FILE TAG: appends "TAG N" lines to FILE (opening it each time,
# as a batch script's echo does) until $W/stop exists; N counts up from 1.
appender() {
    _i=0
    while [ ! -f "$W/stop" ]; do
        _i=$((_i + 1))
        echo "$2 $_i" >>"$1"
        sleep 0.005
    done
    echo "$_i" >"$W/$2.count"
}
# holder FILE TAG: the same through one descriptor held open all along.
holder() {
    exec 5>>"$1"
    _i=0
    while [ ! -f "$W/stop" ]; do
        _i=$((_i + 1))
        echo "$2 $_i" >&5
        sleep 0.005
    done
    echo "$_i" >"$W/$2.count"
}
stop_appender() { : >"$W/stop"; wait "$APID"; APID=; rm -f "$W/stop"; }
# all_foreign FILE TAG: FILE holds "TAG 1" .. "TAG count", in order.
all_foreign() {
    seq 1 "$(cat "$W/$2.count")" | sed "s/^/$2 /" >"$W/$2.want"
    grep "^$2 " "$1" >"$W/$2.got" || true
    cmp -s "$W/$2.want" "$W/$2.got" || fail "$1: foreign lines lost or reordered ($(wc -l <"$W/$2.got") of $(cat "$W/$2.count"))"
}
job_lines() { grep -c '^counter: step' "$1" 2>/dev/null || true; }
has_job_lines() { [ "$(job_lines "$1")" -ge "$2" ]; }
restored() { has_text "$W/err$cycle" 'job restored' || ended "$CPID"; }

# commit_until FILE N: checkpoints until FILE holds N job lines.
commit_until() {
    until has_job_lines "$1" "$2"; do
        poll_until 60 "cairn run writing its pid file" owns_store_or_ended "$W/st" "$CPID"
        running "$CPID" || fail "cycle $cycle: cairn run ended early"
        "$CAIRN" checkpoint --wait --store "$W/st" >/dev/null 2>&1 || true
    done
}

# ---- 1. stdout with a foreign appender ------------------------------------
mkdir "$W/ref" "$W/job"
(cd "$W/ref" && env -u CAIRN_TEST_GATE "$COUNTER" 6000 >out.txt) || fail "reference run"
cd "$W/job"
appender "$W/job/out.txt" foreign &
APID=$!
cycle=0
for k in 1 2 3 4; do
    cycle=$k
    [ $k -lt 4 ] || : >"$W/gate"
    "$CAIRN" run --store "$W/st" -v -- "$COUNTER" 6000 >>out.txt 2>>"$W/err$k" </dev/null &
    CPID=$!
    if [ $k -gt 1 ]; then
        poll_until 120 "cycle $k: the restore" restored
        has_text "$W/err$k" 'job restored' || fail "cycle $k: not restored"
    fi
    if [ $k -eq 4 ]; then
        rc=0; wait "$CPID" || rc=$?; CPID=
        [ $rc -eq 0 ] || fail "the last run exited $rc"
        break
    fi
    commit_until out.txt $((k * 12))
    kill_tree "$CPID" || fail "cycle $k: processes left"
    CPID=
done
stop_appender
grep -v '^foreign ' out.txt >job.txt || true
cmp "$W/ref/out.txt" job.txt || fail "the job's lines differ from an uninterrupted run's"
all_foreign out.txt foreign
[ -f "$W/st/finished" ] || fail "store not finished"
[ ! -e "$W/st/output.state" ] || fail "output.state left in the finished store"
echo "ok: stdout with a foreign appender, 3 restores, $(cat "$W/foreign.count") foreign lines kept"

# ---- 2. a log the job opens itself -----------------------------------------
# run_applog DIR WITH_HOLDER: one checkpoint, more log lines, a kill, a restore.
run_applog() {
    mkdir "$1"; cd "$1"; rm -f "$W/gate"
    [ "$2" = yes ] && { holder "$1/log.txt" held & APID=$!; }
    cycle=a$2
    "$CAIRN" run --store st -v -- "$APPLOG" 3000 >>out.txt 2>>"$W/err$cycle" </dev/null &
    CPID=$!
    poll_until 120 "applog: its first log lines" has_lines_or_ended log.txt 5
    poll_until 60 "cairn run writing its pid file" owns_store_or_ended st "$CPID"
    "$CAIRN" checkpoint --wait --store st >/dev/null || fail "applog: checkpoint"
    n=$(grep -c '^applog' log.txt)
    poll_until 120 "applog: a log line after the checkpoint" has_applog log.txt $((n + 2))
    kill_tree "$CPID"; CPID=
    : >"$W/gate"
    cycle=b$2
    "$CAIRN" run --store st -v -- "$APPLOG" 3000 >>out.txt 2>>"$W/err$cycle" </dev/null ||
        fail "applog: the restored run failed"
    [ "$2" = yes ] && stop_appender
    cd "$W"
}
has_lines_or_ended() { has_lines "$1" "$2" || ended "$CPID"; }
has_applog() { [ "$(grep -c '^applog' "$1")" -ge "$2" ] || ended "$CPID"; }

mkdir "$W/aref"
(cd "$W/aref" && env -u CAIRN_TEST_GATE "$APPLOG" 3000 >out.txt) || fail "applog reference"
run_applog "$W/alone" no
cmp "$W/aref/log.txt" "$W/alone/log.txt" || fail "applog alone: the log was not rolled back"
cmp "$W/aref/out.txt" "$W/alone/out.txt" || fail "applog alone: stdout differs"
! grep -q 'another process is writing' "$W/errbno" || fail "applog alone: a warning"
run_applog "$W/shared" yes
all_foreign "$W/shared/log.txt" held
grep -q 'log.txt holds .* another process is writing it: kept' "$W/errbyes" ||
    fail "applog shared: no warning about the foreign bytes kept"
cmp "$W/aref/out.txt" "$W/shared/out.txt" || fail "applog shared: stdout differs"
echo "ok: a log the job opens itself: rolled back alone; with a foreign writer kept, warned"

# ---- 3. crashes of cairn run itself -----------------------------------------
# crash_run DIR WHERE: once applog has printed 10 lines (its log.txt, a file
# it writes itself, shows how far it is), checkpoints until cairn run ends
# at WHERE (a commit covering output, or the first append); then a rerun.
crash_run() {
    mkdir "$1"; cd "$1"; rm -f "$W/gate"
    cycle=c$2
    CAIRN_TEST_OUTPUT_CRASH=$2 "$CAIRN" run --store st -v -- "$APPLOG" 3000 \
        >>out.txt 2>>"$W/err$cycle" </dev/null &
    CPID=$!
    poll_until 120 "$2: applog's tenth line" has_applog log.txt 10
    n=0
    while running "$CPID"; do
        n=$((n + 1))
        [ $n -le 1000 ] || fail "$2: cairn run did not reach its crash point"
        poll_until 60 "cairn run writing its pid file" owns_store_or_ended st "$CPID"
        "$CAIRN" checkpoint --wait --store st >/dev/null 2>&1 || true
    done
    rc=0; wait "$CPID" || rc=$?; CPID=
    [ $rc -eq 99 ] || fail "$2: cairn run exited $rc, not at the crash point (99)"
    [ -n "$(newest st)" ] || fail "$2: no generation committed before the crash"
    before=$(grep -c '^applog' out.txt || true)
    : >"$W/gate"
    cycle=d$2
    "$CAIRN" run --store st -v -- "$APPLOG" 3000 >>out.txt 2>>"$W/err$cycle" </dev/null ||
        fail "$2: the rerun failed"
    has_text "$W/err$cycle" 'job restored' || fail "$2: the rerun did not restore"
    cmp "$W/aref/out.txt" out.txt || fail "$2: the output differs from an uninterrupted run's"
    cmp "$W/aref/log.txt" log.txt || fail "$2: log.txt differs from an uninterrupted run's"
    echo "ok: cairn run killed at '$2' ($before of its lines in the file then): output exact"
    cd "$W"
}
crash_run "$W/crash-commit" commit
crash_run "$W/crash-append" append
