#!/bin/sh
# SPDX-License-Identifier: MIT
# dontfork.sh — memory the job marked MADV_DONTFORK (progs/dontfork.c): a
# checkpoint while the mark is on is refused, naming the memory and
# MADV_DONTFORK, no generation is written and the job runs on; once the job
# gives the mark back (MADV_DOFORK) a checkpoint is committed; the job ends
# with the output and status it has without cairn. With "child" the job
# forks a child after marking (a tree of two): the child holds none of the
# marked memory, and the checkpoint after MADV_DOFORK is the tree's.
#   dontfork.sh CAIRN DONTFORK [child]
set -eu
export CAIRN_OUTPUT=direct
CAIRN=$1; PROG=$2; MODE=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-dontfork.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
: >r1; : >r2
# shellcheck disable=SC2086
"$PROG" r1 r2 $MODE >ref.txt || fail "the reference run failed"

# shellcheck disable=SC2086
(exec "$CAIRN" run --store st -v -- "$PROG" g1 g2 $MODE >out.txt 2>err </dev/null) &
CPID=$!
poll_until 120 "the job's first line" has_lines out.txt 1
checkpoint_now st "$CPID"
poll_until 120 "the refusal" has_text err 'checkpoint not taken'
grep -q 'checkpoint not taken: \(process [0-9]*: \)\?memory at 0x[0-9a-f]*-0x[0-9a-f]* is marked MADV_DONTFORK' err ||
    fail "the refusal does not name the memory marked MADV_DONTFORK"
[ -z "$(newest st)" ] || fail "a generation was written while the memory was marked"
: >g1
poll_until 120 "the job's second line" has_lines out.txt 2
checkpoint_now st "$CPID"
poll_until 120 "generation 1" test -f "st/$(gen_file 1)"
: >g2
rc=0; wait "$CPID" || rc=$?
CPID=
[ "$rc" = 0 ] || fail "cairn run exited $rc"
cmp ref.txt out.txt || fail "the output differs from the run without cairn"
echo "ok${MODE:+ ($MODE)}: refused while marked MADV_DONTFORK, committed once unmarked, output identical"
