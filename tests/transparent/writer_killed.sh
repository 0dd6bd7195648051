#!/bin/sh
# SPDX-License-Identifier: MIT
# writer_killed.sh — a writer killed before it reports (what the OOM
# killer does to the copy-on-write child of a job under a memory limit)
# fails its checkpoint instead of leaving cairn run waiting for ever
# (cli/run_writer.c): the job runs on, the next checkpoint is a full image
# and commits, and a run restored from it ends with the uninterrupted
# run's output. CAIRN_TEST_KILL_WRITER=2 makes the job's second writer kill
# itself with SIGKILL (a test hook, runtime/runtime.c). MODE: ns (the
# namespace init reaps the writer and tells cairn run), nons
# (CAIRN_NO_NAMESPACE=1: cairn run reaps it itself) or tree (bash runs
# INCR as its child and waits: only the child's writer is killed, and the
# round of the two processes fails for it).
#   writer_killed.sh CAIRN INCR MODE
set -eu
CAIRN=$1; INCR=$2; MODE=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-wkill.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
commits() { grep -c 'checkpoint [0-9]* committed' "$1" || true; }
has_commits() { [ "$(commits "$1")" -ge "$2" ]; }
cd "$W"
ARGS="64 300 0.1"
# shellcheck disable=SC2086
case $MODE in
ns | nons) set -- "$INCR" $ARGS; KILL=2 ;;
tree) set -- bash -c "CAIRN_TEST_KILL_WRITER=2 $INCR $ARGS; echo wrapper: \$?"; KILL= ;;
*) fail "MODE: ns, nons or tree" ;;
esac
"$@" >ref.txt
export CAIRN_TEST_GATE="$W/gate" CAIRN_OUTPUT=direct
[ "$MODE" = nons ] && export CAIRN_NO_NAMESPACE=1

(CAIRN_TEST_KILL_WRITER=$KILL exec "$CAIRN" run --store st -v -- "$@" >>out.txt 2>>err1 \
    </dev/null) &
CPID=$!
poll_until 300 "line 5 of the job's output" has_lines out.txt 5
checkpoint_now st "$CPID"
poll_until 120 "checkpoint 1 committed" has_commits err1 1
checkpoint_now st "$CPID"
poll_until 120 "the killed writer's checkpoint reported failed" has_text err1 'killed by signal 9'
grep -q 'checkpoint not taken: .*the writer (pid [0-9]*) was killed by signal 9 (Killed) before it reported' err1 ||
    fail "the failure does not name the writer and its signal"
[ "$(commits err1)" = 1 ] || fail "a checkpoint committed with a killed writer"
at=$(lines out.txt)
poll_until 300 "a line after the failed checkpoint (the job runs on)" has_lines out.txt $((at + 1))
checkpoint_now st "$CPID"
poll_until 120 "a checkpoint committed after the failed one" has_commits err1 2
gen=$(sed -n 's/.*checkpoint \([0-9]*\) committed.*/\1/p' err1 | tail -1)
[ -z "$(parent_of "st/$(gen_file "$gen")")" ] ||
    fail "generation $gen, after a checkpoint that failed, is a delta (a full image was due)"
kill_tree "$CPID" || fail "the run's processes did not end"
CPID=

: >gate
"$CAIRN" run --store st -v -- "$@" >>out.txt 2>err2 </dev/null || fail "the resumed run failed"
grep -q "job restored from generation $gen\$" err2 || fail "not restored from generation $gen"
cmp ref.txt out.txt || fail "the output differs from the uninterrupted run's: $(tail -1 out.txt)"
echo "ok ($MODE): the killed writer's checkpoint failed, generation $gen committed after it, restored, output identical"
