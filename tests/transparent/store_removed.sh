#!/bin/sh
# SPDX-License-Identifier: MIT
# store_removed.sh — the store directory removed while `cairn run` runs
# (a user's rm -rf, a cleanup script) after a full image and a delta on it.
# cairn makes the directory again (lib/store.c), and the next checkpoint
# must be a full image: a delta there would name a parent the new
# directory does not hold (it was so before: every later image was a delta
# on a generation gone, generations counted from 1 again, and none could be
# restored). The image after it is a delta on it again. Then the full image
# is removed by hand (a user making room): the next image must be full
# again, not a delta on a chain whose base is gone. A run killed then
# restores from it and ends with the output of a run without cairn.
#   store_removed.sh CAIRN INCR
set -eu
CAIRN=$1; INCR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-store-removed.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
ARGS="16 3000 10"
# shellcheck disable=SC2086
"$INCR" $ARGS >ref.txt
export CAIRN_TEST_GATE="$W/gate" CAIRN_FULL_EVERY=8 CAIRN_OUTPUT=direct
ST=$W/st

# commits N: a checkpoint asked for commits generation N (cairn run is
# signalled itself: its pid file goes with the store).
commits() {
    kill -USR1 "$CPID"
    poll_until 120 "generation $1 in the store" has_file "$ST/$(gen_file "$1")"
}
has_file() { [ -f "$1" ]; }
# shellcheck disable=SC2086
"$CAIRN" run --store "$ST" -v -- "$INCR" $ARGS >>out.txt 2>err1 </dev/null &
CPID=$!
poll_until 300 "line 5 of the job's output" has_lines out.txt 5
poll_until 60 "cairn run writing its pid file" owns_store "$ST" "$CPID"
commits 1
commits 2
[ "$(parent_of "$ST/$(gen_file 2)")" = 1 ] || fail "generation 2 is not a delta on generation 1"
rm -rf "$ST"
commits 1
poll_until 60 "cairn making the store again" has_text err1 'store directory was removed'
[ -z "$(parent_of "$ST/$(gen_file 1)")" ] ||
    fail "the first image in the store made again is a delta on generation $(parent_of "$ST/$(gen_file 1)")"
"$CAIRN" verify "$ST/$(gen_file 1)" >/dev/null || fail "the new store's generation 1 does not verify"
commits 2
[ "$(parent_of "$ST/$(gen_file 2)")" = 1 ] || fail "the new generation 2 is not a delta on the new 1"
# A user removes the full image by hand: generation 2, a delta on it, can no
# longer be restored, and the next image must not extend it.
rm "$ST/$(gen_file 1)"
commits 3
[ -z "$(parent_of "$ST/$(gen_file 3)")" ] ||
    fail "generation 3 is a delta on generation $(parent_of "$ST/$(gen_file 3)"), whose full image was removed"
kill_tree "$CPID" || fail "the run's processes did not end"
CPID=
: >gate
# shellcheck disable=SC2086
"$CAIRN" run --store "$ST" -v -- "$INCR" $ARGS >>out.txt 2>err2 </dev/null ||
    fail "the resumed run ended with status $?"
grep -q 'restored from generation 3$' err2 || fail "not restored from generation 3 of the new store"
cmp ref.txt out.txt || fail "the output differs from the run without cairn: $(tail -n 1 out.txt)"
echo "ok: the store made again, and a chain whose full image was removed, start over with a full image; restored"
