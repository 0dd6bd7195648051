#!/bin/sh
# SPDX-License-Identifier: MIT
# log.sh — the store's event log of a `cairn run` job killed twice with
# SIGKILL, and `cairn checkpoint --wait` on it:
#   - each checkpoint is asked for with `cairn checkpoint --wait`, which
#     returns 0 only once the new generation is in the store (checked as it
#     returns, without polling), then cairn and the job are killed;
#   - the third run is restored and finishes;
#   - `cairn log` shows every start, restore and commit, in order, and the
#     one exit; `cairn log --json` is a JSON array of the same events.
#   log.sh CAIRN COUNTER
set -eu
# The job's stdout lines are watched as it writes them: direct output
# (committed output, which reaches the file at commits, has its own tests:
# tests/transparent/output.sh and cycle.sh with OUTPUT=committed).
export CAIRN_OUTPUT=direct
CAIRN=$1; COUNTER=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-log.XXXXXX")
CPID=
cleanup() { [ -n "$CPID" ] && kill_tree "$CPID"; rm -rf "$W"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
export CAIRN_TEST_GATE="$W/gate"
unset CAIRN_INTERVAL CAIRN_EXIT_CODE

run() {
    (exec "$CAIRN" run --store st -v -- "$COUNTER" 6000 >>out 2>>"err$1" </dev/null) &
    CPID=$!
}
restored() { has_text "err$1" 'job restored' || ended "$CPID"; }
progressed() { has_lines out "$1" || ended "$CPID"; }

for cycle in 1 2; do
    run $cycle
    [ $cycle = 1 ] || poll_until 120 "run $cycle: the restore" restored $cycle
    poll_until 120 "run $cycle: progress" progressed $((cycle * 10))
    poll_until 60 "run $cycle: cairn-run.pid" owns_store st "$CPID"
    rc=0; "$CAIRN" checkpoint --wait --timeout 120 --store st >ck.out 2>ck.err || rc=$?
    [ $rc = 0 ] || fail "run $cycle: cairn checkpoint --wait: exit $rc: $(cat ck.err)"
    grep -qx "st: generation $cycle committed" ck.out || fail "--wait said: $(cat ck.out)"
    [ "$(newest st)" = "$(gen_file $cycle)" ] ||
        fail "run $cycle: --wait returned before generation $cycle was in the store"
    kill_tree "$CPID" || fail "run $cycle: the killed processes did not end"
    CPID=
done
: >gate
run 3
rc=0; wait "$CPID" || rc=$?; CPID=
[ $rc = 0 ] || fail "the last run: cairn run exited $rc"
has_text err3 'job restored from generation 2' || fail "the last run was not restored from 2"

"$CAIRN" log st >log.txt 2>log.err || fail "cairn log: $(cat log.err)"
# What happened, in order, without times and pids.
sed -E 's/^[0-9-]+ [0-9:.]+  cairn run\[[0-9]+\]  //; s/ \(.*\)$//' log.txt >got.txt
cat >want.txt <<EOT
started: $COUNTER 6000
signal SIGUSR1: checkpoint, then go on
checkpoint committed: generation 1
started: $COUNTER 6000
restored generation 1
signal SIGUSR1: checkpoint, then go on
checkpoint committed: generation 2
started: $COUNTER 6000
restored generation 2
finished: the job exited
exited with status 0
EOT
diff want.txt got.txt >&2 || fail "cairn log differs from what happened (above); it printed: $(cat log.txt)"
grep -q 'generation 2 ([0-9.]* MiB; paused [0-9.]* ms, durable after [0-9.]* ms)$' log.txt ||
    fail "the commit line lacks its size and times: $(grep 'generation 2' log.txt)"

"$CAIRN" log --json st >log.json || fail "cairn log --json failed"
python3 - log.json <<'EOT' || fail "cairn log --json: $(cat log.json)"
import json, sys
d = json.load(open(sys.argv[1]))
ev = [e["event"] for e in d]
assert ev == ["start", "signal", "commit", "start", "restore", "signal", "commit", "start",
              "restore", "finished", "exit"], ev
assert all(e["source"] == "cairn run" and e["pid"] > 0 and e["time"] > 1.6e9 for e in d)
commits = [e for e in d if e["event"] == "commit"]
assert [c["generation"] for c in commits] == [1, 2]
assert all(c["bytes"] > 0 and c["pause_ns"] > 0 and c["durable_ns"] >= c["pause_ns"] for c in commits)
assert [e["generation"] for e in d if e["event"] == "restore"] == [1, 2]
assert d[-1]["status"] == 0 and d[1]["signal"] == "SIGUSR1"
EOT
echo "ok: cairn log shows 3 starts, 2 restores, 2 commits and the exit; --wait returned with each commit"
