#!/bin/sh
# SPDX-License-Identifier: MIT
# stage.sh — delta checkpoints whose written pages were copied at the
# pause and whose large mapping the writer's fork left out (runtime/
# stage.c): the job (progs/incr, 64 MiB, one page in 10000 written per
# pass, so a delta holds a few percent of it however late it is taken) is
# checkpointed three times — a full image, a delta whose writer makes the
# buffer the next one copies into (a memfd "cairn-stage", kept from one
# checkpoint to the next, out of the image: after generations 2 and 3 the
# job has one mapping of it, the same inode), a delta that cairn -v reports
# with "MiB of written pages copied at the pause" — and killed with SIGKILL.
# A run restored from generation 3 finds none of the old buffer, makes its
# own with generation 4 (no crash writing to the old address), is killed;
# the run restored from generation 4 must end with the uninterrupted run's
# output (its last line is a checksum of all its memory), appending only
# what followed the generation it was restored from.
#   stage.sh CAIRN INCR
set -eu
CAIRN=$1; INCR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-stage.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
# stage_buffers CPID: the inodes of the "cairn-stage" memfd mappings of
# the job (the process under CPID that runs INCR, not a writer).
stage_buffers() {
    for _p in $(descendants "$1"); do
        [ "$(cat "/proc/$_p/comm" 2>/dev/null)" = "$(basename "$INCR")" ] || continue
        awk '/memfd:cairn-stage/ { print $5 }' "/proc/$_p/maps"
    done | tr '\n' ' ' | sed 's/ $//'
}
cd "$W"
ARGS="64 400 0.1"
# shellcheck disable=SC2086
"$INCR" $ARGS >ref.txt
export CAIRN_TEST_GATE="$W/gate" CAIRN_FULL_EVERY=8 CAIRN_OUTPUT=direct

# shellcheck disable=SC2086
(exec "$CAIRN" run --store st -v -- "$INCR" $ARGS >>out.txt 2>>err1 </dev/null) &
CPID=$!
poll_until 300 "line 5 of the job's output" has_lines out.txt 5
checkpoint_now st "$CPID"
poll_until 120 "generation 1" test -f "st/$(gen_file 1)"
at=$(lines out.txt)
poll_until 300 "a line after generation 1" has_lines out.txt $((at + 1))
checkpoint_now st "$CPID"
poll_until 120 "generation 2" test -f "st/$(gen_file 2)"
ino2=$(stage_buffers "$CPID")
checkpoint_now st "$CPID"
poll_until 120 "generation 3 committed" has_text err1 'checkpoint 3 committed'
ino3=$(stage_buffers "$CPID")
kill_tree "$CPID" || fail "the killed run's processes did not end"
CPID=
[ -n "$ino2" ] && [ "$ino2" = "$ino3" ] ||
    fail "the job's cairn-stage buffers: '$ino2' after generation 2, '$ino3' after 3 (one, kept)"
[ "$(parent_of "st/$(gen_file 2)")" = 1 ] || fail "generation 2 is not a delta on generation 1"
[ "$(parent_of "st/$(gen_file 3)")" = 2 ] || fail "generation 3 is not a delta on generation 2"
grep -q 'checkpoint 3 committed.*MiB of written pages copied at the pause); of the pause: tracking scan' err1 ||
    fail "generation 3's written pages were not copied at the pause (no 'copied' in cairn -v)"
full=$(stat -c %s "st/$(gen_file 1)") delta=$(stat -c %s "st/$(gen_file 3)")
[ $((delta * 4)) -lt "$full" ] || fail "the delta ($delta bytes) is not small beside the full image ($full)"

# shellcheck disable=SC2086
(exec "$CAIRN" run --store st -v -- "$INCR" $ARGS >>out.txt 2>>err2 </dev/null) &
CPID=$!
poll_until 120 "the run restored from generation 3" has_text err2 'job restored from generation 3'
checkpoint_now st "$CPID"
poll_until 120 "generation 4" test -f "st/$(gen_file 4)"
ino4=$(stage_buffers "$CPID")
kill_tree "$CPID" || fail "the restored run's processes did not end"
CPID=
case "$ino4" in *" "*) fail "the restored job has more than one cairn-stage buffer: $ino4" ;; esac

: >gate
# shellcheck disable=SC2086
"$CAIRN" run --store st -v -- "$INCR" $ARGS >>out.txt 2>err3 </dev/null || fail "the resumed run failed"
grep -q 'job restored from generation 4' err3 || fail "not restored from generation 4"
cmp ref.txt out.txt || fail "the output differs from the uninterrupted run's: $(tail -1 out.txt)"
echo "ok: delta of $delta bytes (full $full) staged at the pause, buffer $ino2 kept, restored twice, output identical"
