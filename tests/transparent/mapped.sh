#!/bin/sh
# SPDX-License-Identifier: MIT
# mapped.sh — a restore that maps the job's memory from its image
# (CAIRN_RESTORE_MAP=1, restore/mapped.c) still checks every byte before
# the job runs: a byte changed inside the job's large anonymous mapping,
# which the restorer maps, makes the newest generation corrupt, and the
# previous one is restored — mapped, as /proc/PID/maps of the job shows —
# and the job ends with the uninterrupted output.
#   mapped.sh CAIRN INCR
set -eu
export CAIRN_OUTPUT=direct CAIRN_RESTORE_MAP=1 CAIRN_FULL_EVERY=1
CAIRN=$1; INCR=$2
ARGS="32 300 10"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-mapped.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
# shellcheck disable=SC2086
"$INCR" $ARGS >ref.txt
export CAIRN_TEST_GATE="$W/gate"
checkpoint_after() {
    poll_until 120 "line $1 of the job's output" has_lines out.txt "$1"
    checkpoint_now st "$CPID" || fail "cairn run ended before checkpoint $2"
    poll_until 120 "generation $2" test -f "st/$(gen_file "$2")"
}
restored_or_end() { has_text err2 'job restored' || ended "$CPID"; }
maps_image() {
    for p in $(descendants "$CPID"); do
        grep -q "$(gen_file 1)" "/proc/$p/maps" 2>/dev/null && return 0
    done
    return 1
}
# shellcheck disable=SC2086
"$CAIRN" run --store st -- "$INCR" $ARGS >>out.txt 2>err1 </dev/null &
CPID=$!
checkpoint_after 5 1
checkpoint_after 15 2
kill_tree "$CPID"; CPID=
# The middle of generation 2 is inside the 32 MiB mapping's payload.
N=st/$(gen_file 2)
printf 'XXXXXXXX' | dd of="$N" bs=1 seek=$(($(stat -c %s "$N") / 2)) conv=notrunc 2>/dev/null
# shellcheck disable=SC2086
"$CAIRN" run --store st -v -- "$INCR" $ARGS >>out.txt 2>err2 </dev/null &
CPID=$!
poll_until 120 "the restore" restored_or_end
grep -q "$(gen_file 2) is corrupt" err2 || fail "no message about the corrupt image"
grep -q "job restored from generation 1" err2 || fail "the job was not restored from generation 1"
maps_image || fail "the restored job maps nothing from $(gen_file 1)"
: >gate
rc=0; wait "$CPID" || rc=$?; CPID=
[ $rc -eq 0 ] || fail "the resumed run exited $rc"
cmp ref.txt out.txt || fail "output differs after falling back"
echo "ok: a byte changed in mapped memory: generation 2 set aside; generation 1 restored mapped; output identical"
