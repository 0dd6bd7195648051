#!/bin/sh
# SPDX-License-Identifier: MIT
# store.sh — which image `cairn run` restores:
#   1. a corrupt newest generation is set aside and the previous one used,
#      and the job still ends with the uninterrupted output;
#   2. an image whose header names another uid is refused (exit 4).
#   store.sh CAIRN PATCH_UID COUNTER
set -eu
CAIRN=$1; PATCH=$2; COUNTER=$3
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-store.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill -9 $(pgrep -P "$CPID" 2>/dev/null) "$CPID" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
"$COUNTER" 9000 >ref.txt
wait_gen() {
    i=0
    until [ -f "st/ckpt-$(printf %020d "$1").cairn" ]; do
        sleep 0.05; i=$((i + 1)); [ $i -lt 400 ] || fail "generation $1 never came"
    done
}
# Two generations, then SIGKILL.
"$CAIRN" run --store st -- "$COUNTER" 9000 >>out.txt 2>err1 </dev/null &
CPID=$!
sleep 0.5; "$CAIRN" checkpoint --store st; wait_gen 1
sleep 0.3; "$CAIRN" checkpoint --store st; wait_gen 2
kill -9 $(pgrep -P "$CPID") "$CPID"; wait "$CPID" 2>/dev/null || true; CPID=
# 1. Corrupt the newest in the middle of a memory section.
N=st/ckpt-00000000000000000002.cairn
printf 'XXXXXXXX' | dd of=$N bs=1 seek=$(($(stat -c %s $N) / 2)) conv=notrunc 2>/dev/null
"$CAIRN" run --store st -v -- "$COUNTER" 9000 >>out.txt 2>err2 </dev/null || fail "resume failed"
grep -q "ckpt-00000000000000000002.cairn is corrupt" err2 || fail "no message about the corrupt image"
grep -q "restoring .*ckpt-00000000000000000001.cairn" err2 || fail "generation 1 was not used"
cmp ref.txt out.txt || fail "output differs after falling back"
# 2. Another user's image.
rm -rf st out.txt
"$CAIRN" run --store st -- "$COUNTER" 9000 >>out.txt 2>err3 </dev/null &
CPID=$!
sleep 0.5; "$CAIRN" checkpoint --store st; wait_gen 1
kill -9 $(pgrep -P "$CPID") "$CPID"; wait "$CPID" 2>/dev/null || true; CPID=
"$PATCH" st/ckpt-00000000000000000001.cairn $(($(id -u) + 4242))
rc=0; "$CAIRN" run --store st -- "$COUNTER" 9000 >>out.txt 2>err4 </dev/null || rc=$?
[ $rc -eq 4 ] || fail "an image of another uid gave exit $rc, not 4"
grep -q "written by uid" err4 || fail "no message naming the uid"
echo "ok: corrupt newest fell back to the previous generation; foreign image refused"
