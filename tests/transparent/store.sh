#!/bin/sh
# SPDX-License-Identifier: MIT
# store.sh — which image `cairn run` restores:
#   1. a corrupt newest generation is set aside and the previous one used,
#      and the job still ends with the uninterrupted output;
#   2. an image whose header names another uid is refused (exit 4).
#   store.sh CAIRN PATCH_UID COUNTER
set -eu
# The job's stdout lines are watched as it writes them: direct output
# (committed output, which reaches the file at commits, has its own tests:
# tests/transparent/output.sh and cycle.sh with OUTPUT=committed).
export CAIRN_OUTPUT=direct
CAIRN=$1; PATCH=$2; COUNTER=$3
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-store.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
"$COUNTER" 9000 >ref.txt
# The counter prints 50 progress lines; it waits at its gate (progress.h)
# before the last one until the file "gate" exists, so it cannot end
# before it is killed.
export CAIRN_TEST_GATE="$W/gate"
# checkpoint_after LINES GEN: once the job has printed LINES lines, a
# checkpoint, until generation GEN is committed.
checkpoint_after() {
    poll_until 120 "line $1 of the job's output" has_lines out.txt "$1"
    checkpoint_now st "$CPID" || fail "cairn run ended before checkpoint $2"
    poll_until 120 "generation $2" test -f "st/$(gen_file "$2")"
}
# Two generations, then SIGKILL.
"$CAIRN" run --store st -- "$COUNTER" 9000 >>out.txt 2>err1 </dev/null &
CPID=$!
checkpoint_after 5 1
checkpoint_after 15 2
kill_tree "$CPID"; CPID=
# 1. Corrupt the newest in the middle of a memory section.
: >gate
N=st/$(gen_file 2)
printf 'XXXXXXXX' | dd of=$N bs=1 seek=$(($(stat -c %s $N) / 2)) conv=notrunc 2>/dev/null
"$CAIRN" run --store st -v -- "$COUNTER" 9000 >>out.txt 2>err2 </dev/null || fail "resume failed"
grep -q "$(gen_file 2) is corrupt" err2 || fail "no message about the corrupt image"
grep -q "restoring .*$(gen_file 1)" err2 || fail "generation 1 was not used"
grep -q "job restored from generation 1" err2 || fail "the job was not restored from generation 1"
cmp ref.txt out.txt || fail "output differs after falling back"
# 2. Another user's image.
rm -rf st out.txt gate
"$CAIRN" run --store st -- "$COUNTER" 9000 >>out.txt 2>err3 </dev/null &
CPID=$!
checkpoint_after 5 1
kill_tree "$CPID"; CPID=
"$PATCH" st/$(gen_file 1) $(($(id -u) + 4242))
rc=0; "$CAIRN" run --store st -- "$COUNTER" 9000 >>out.txt 2>err4 </dev/null || rc=$?
[ $rc -eq 4 ] || fail "an image of another uid gave exit $rc, not 4"
grep -q "written by uid" err4 || fail "no message naming the uid"
echo "ok: corrupt newest fell back to the previous generation; foreign image refused"
