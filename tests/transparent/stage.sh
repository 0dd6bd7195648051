#!/bin/sh
# SPDX-License-Identifier: MIT
# stage.sh — delta checkpoints whose written pages were copied at the
# pause and whose large mapping the writer's fork left out (runtime/
# stage.c): the job (progs/incr, 64 MiB, one page in 10000 written per
# pass, so a delta holds a few percent of it however late it is taken) is
# checkpointed three times — a full image, then two deltas — once for each
# way the first delta of a run gets its buffer (a memfd "cairn-stage",
# kept from one checkpoint to the next, out of the image: after
# generations 2 and 3 the job has one mapping of it, the same inode):
# - prepared (CAIRN_TEST_STAGE_FRESH=0): generation 2's fork takes it all
#   and its writer makes the buffer; generation 3 is the first delta that
#   cairn -v reports with "MiB of written pages copied at the pause";
# - made at the pause (CAIRN_TEST_STAGE_FRESH=1, as the default does when
#   the job wrote little): generations 2 and 3 are both copied at the
#   pause; that run is killed, and the run restored from its generation 3
#   must end with the uninterrupted run's output.
# Each is killed with SIGKILL. A run restored from the first store's
# generation 3 finds none of the old buffer, makes its own with generation
# 4 (no crash writing to the old address), is killed; the run restored
# from generation 4 must end with the uninterrupted run's output (its last
# line is a checksum of all its memory), appending only what followed the
# generation it was restored from.
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

# three_generations STORE OUT ERR FRESH: the job under cairn run in STORE,
# checkpointed into generations 1 to 3, then killed; its buffer's inode
# after generations 2 and 3 must be the same, and generation 3 a delta
# copied at the pause (generation 2 too when FRESH is 1).
three_generations() {
    # shellcheck disable=SC2086
    (CAIRN_TEST_STAGE_FRESH=$4 exec "$CAIRN" run --store "$1" -v -- "$INCR" $ARGS \
        >>"$2" 2>>"$3" </dev/null) &
    CPID=$!
    poll_until 300 "line 5 of the job's output" has_lines "$2" 5
    checkpoint_now "$1" "$CPID"
    poll_until 120 "generation 1" test -f "$1/$(gen_file 1)"
    at=$(lines "$2")
    poll_until 300 "a line after generation 1" has_lines "$2" $((at + 1))
    checkpoint_now "$1" "$CPID"
    poll_until 120 "generation 2 committed" has_text "$3" 'checkpoint 2 committed'
    ino2=$(stage_buffers "$CPID")
    checkpoint_now "$1" "$CPID"
    poll_until 120 "generation 3 committed" has_text "$3" 'checkpoint 3 committed'
    ino3=$(stage_buffers "$CPID")
    kill_tree "$CPID" || fail "the killed run's processes did not end"
    CPID=
    [ -n "$ino2" ] && [ "$ino2" = "$ino3" ] ||
        fail "$1: the job's cairn-stage buffers: '$ino2' after generation 2, '$ino3' after 3 (one, kept)"
    [ "$(parent_of "$1/$(gen_file 2)")" = 1 ] || fail "$1: generation 2 is not a delta on generation 1"
    [ "$(parent_of "$1/$(gen_file 3)")" = 2 ] || fail "$1: generation 3 is not a delta on generation 2"
    copied='MiB of written pages copied at the pause); of the pause: tracking scan'
    grep -q "checkpoint 3 committed.*$copied" "$3" ||
        fail "$1: generation 3's written pages were not copied at the pause (no 'copied' in cairn -v)"
    if [ "$4" = 1 ]; then
        grep -q "checkpoint 2 committed.*$copied" "$3" ||
            fail "$1: generation 2 was not copied into a buffer made at its pause"
    elif grep -q "checkpoint 2 committed.*copied" "$3"; then
        fail "$1: generation 2 was copied at the pause with no buffer made by a writer before"
    fi
    full=$(stat -c %s "$1/$(gen_file 1)") delta=$(stat -c %s "$1/$(gen_file 3)")
    [ $((delta * 4)) -lt "$full" ] || fail "$1: the delta ($delta bytes) is not small beside the full image ($full)"
}

three_generations st out.txt err1 0
three_generations stB outB.txt errB 1
: >gate
# shellcheck disable=SC2086
"$CAIRN" run --store stB -v -- "$INCR" $ARGS >>outB.txt 2>errB2 </dev/null || fail "the run resumed from stB failed"
grep -q 'job restored from generation 3' errB2 || fail "stB: not restored from generation 3"
cmp ref.txt outB.txt || fail "stB: the output differs from the uninterrupted run's: $(tail -1 outB.txt)"
rm -f gate

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
