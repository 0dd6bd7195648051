#!/bin/sh
# SPDX-License-Identifier: MIT
# merged.sh — a delta of a mapping that was a part of a larger one in its
# parent image (runtime/dirty.c, "Mapping identity"; docs/FORMAT.md, "Delta
# images"): progs/merged holds a 32 MiB array and a 64 KiB allocation below
# it in one mapping when generation 1 (a full image) is written, then
# unmaps the small one and writes one page in 1000 of the array.
# Generation 2 must be a delta on generation 1 whose array mapping is a
# delta (before, the array was written whole again), small beside the full
# image, with no page the tracker missed (CAIRN_DEBUG_DIRTY). A run restored
# from it must end with the uninterrupted run's output (its last line is a
# checksum of the array).
#   merged.sh CAIRN MERGED
set -eu
CAIRN=$1; MERGED=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-merged.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* "$W"/dbg/report >&2 || true; exit 1; }
cd "$W"
"$MERGED" 32 >ref.txt
mkdir dbg
export CAIRN_TEST_GATE="$W/gate" CAIRN_TEST_STEP="$W/step" CAIRN_OUTPUT=direct \
    CAIRN_DEBUG_DIRTY="$W/dbg"

(exec "$CAIRN" run --store st -v -- "$MERGED" 32 >>out.txt 2>>err1 </dev/null) &
CPID=$!
poll_until 120 "the job's first line" has_text out.txt 'merged: ready'
checkpoint_now st "$CPID"
poll_until 120 "checkpoint 1 committed" has_text err1 'checkpoint 1 committed'
"$CAIRN" inspect "st/$(gen_file 1)" >inspect1.txt
grep -q ' 32\.1 MiB ' inspect1.txt || fail "generation 1 has no mapping of the array and the allocation as one: $(cat inspect1.txt)"
: >step
poll_until 120 "the job's line after the unmap" has_text out.txt 'merged: unmapped'
checkpoint_now st "$CPID"
poll_until 120 "checkpoint 2 committed" has_text err1 'checkpoint 2 committed'
kill_tree "$CPID" || fail "the run's processes did not end"
CPID=
[ "$(parent_of "st/$(gen_file 2)")" = 1 ] || fail "generation 2 is not a delta on generation 1"
"$CAIRN" inspect "st/$(gen_file 2)" >inspect2.txt
grep -q ' 32\.0 MiB  delta ' inspect2.txt ||
    fail "generation 2's array is not a delta: $(grep MiB inspect2.txt)"
full=$(stat -c %s "st/$(gen_file 1)") delta=$(stat -c %s "st/$(gen_file 2)")
[ $((delta * 4)) -lt "$full" ] || fail "the delta ($delta bytes) is not small beside the full image ($full)"
! grep MISSED dbg/report || fail "the tracker missed pages the job wrote (above)"
grep -q "delta checked" dbg/report || fail "the writer did not check its delta"
"$CAIRN" verify "st/$(gen_file 2)" >/dev/null || fail "cairn verify refuses generation 2"

: >gate
"$CAIRN" run --store st -v -- "$MERGED" 32 >>out.txt 2>err2 </dev/null || fail "the resumed run failed"
grep -q 'job restored from generation 2$' err2 || fail "not restored from generation 2"
cmp ref.txt out.txt || fail "the output differs from the uninterrupted run's: $(tail -1 out.txt)"
echo "ok: generation 2 a delta of $delta bytes (full $full) on the larger mapping, restored, output identical"
