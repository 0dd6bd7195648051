#!/bin/sh
# SPDX-License-Identifier: MIT
# full.sh — `cairn run` with a store whose file system fills up. The store
# is a tmpfs mounted in a private user and mount namespace (unshare -Urm,
# unprivileged; exit 77, skipped, where the kernel refuses it), shrunk and
# grown with `mount -o remount,size=` between checkpoints:
#  1. uncompressed: the writer's free-space check refuses the image before
#     its first byte ("the image needs N MiB and the store's file system
#     has M MiB free"); the job runs on, nothing half-written is left, and
#     generation 1 is intact (verified, byte-identical to a copy);
#  2. compressed (--compress zstd, written through a memfd, where no check
#     can see the limit): the real ENOSPC while the image is packed into
#     the store fails the checkpoint, naming the store and the error; the
#     temp file is removed, the job runs on, the generations stay intact;
#  3. after each, the file system is grown and the next checkpoint commits;
#     the last run restores the newest generation and ends with the output
#     of a run without cairn.
#   full.sh CAIRN INCR
set -eu
CAIRN=$1; INCR=$2
if [ -z "${CAIRN_FULL_NS:-}" ]; then
    unshare -Urm true 2>/dev/null || { echo "skip: unshare -Urm is not allowed here"; exit 77; }
    CAIRN_FULL_NS=1 exec unshare -Urm sh "$0" "$@"
fi
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-full.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    umount "$W/st" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; ls -la "$W/st" >&2 || true; exit 1; }
cd "$W"
ARGS="16 3000 10"
# shellcheck disable=SC2086
"$INCR" $ARGS >ref.txt
export CAIRN_TEST_GATE="$W/gate" CAIRN_FULL_EVERY=1
ST=$W/st
mkdir -m 0700 "$ST"
mount -t tmpfs -o size=64m,mode=0700 cairn-full "$ST" || { echo "skip: cannot mount a tmpfs"; exit 77; }

# used_kib: the store's file system's used KiB.
used_kib() { df -k --output=used "$ST" | tail -n 1 | tr -d ' '; }
# resize MIB_FREE: the store's file system resized to leave MIB_FREE MiB free.
# (The source is named: util-linux cannot remount it by its target alone
# in a user namespace.)
resize() { mount -o remount,size=$(($(used_kib) + $1 * 1024))k cairn-full "$ST" || fail "cannot resize the tmpfs"; }
# no_temp: nothing half-written in the store.
no_temp() {
    for f in "$ST"/.tmp-*; do [ ! -e "$f" ] || fail "a temp file was left: $f"; done
}
# run ERR [OPTIONS]: cairn run on the store, in the background (CPID).
run() {
    _err=$1; shift
    # shellcheck disable=SC2086
    "$CAIRN" run --store "$ST" --output direct -v "$@" -- "$INCR" $ARGS >>out.txt 2>>"$_err" </dev/null &
    CPID=$!
}
# refused ERR PATTERN: a checkpoint asked for fails with PATTERN, no newer
# generation is committed and the job prints a line after the failure.
refused() {
    _before=$(newest "$ST")
    checkpoint_now "$ST" "$CPID" || fail "cairn run ended before the checkpoint"
    poll_until 120 "the failed checkpoint" has_text "$1" 'checkpoint not taken'
    grep -q -- "$2" "$1" || fail "the failure does not say: $2"
    at=$(lines out.txt)
    poll_until 300 "a line after the failure (the job runs on)" has_lines out.txt $((at + 1))
    [ "$(newest "$ST")" = "$_before" ] || fail "a generation was committed: $(newest "$ST")"
    no_temp
}
# commits N: a checkpoint asked for commits generation N.
commits() {
    checkpoint_now "$ST" "$CPID" || fail "cairn run ended before the checkpoint"
    poll_until 120 "generation $1" newer_than "$ST" "$(newest "$ST")"
    [ "$(newest "$ST")" = "$(gen_file "$1")" ] || fail "committed $(newest "$ST"), not generation $1"
}

# 1. Uncompressed: refused before the first byte.
run err1
poll_until 300 "line 5 of the job's output" has_lines out.txt 5
commits 1
cp "$ST/$(gen_file 1)" gen1.copy
resize 9
refused err1 "checkpoint not taken: the image needs [0-9]* MiB and the store's file system has [0-9]* MiB free"
"$CAIRN" verify "$ST/$(gen_file 1)" >/dev/null || fail "generation 1 does not verify after the refusal"
cmp gen1.copy "$ST/$(gen_file 1)" || fail "generation 1 changed"
resize 40
commits 2
kill_tree "$CPID" || fail "the first run's processes did not end"
CPID=

# 2. Compressed: ENOSPC while the image is packed into the store.
run err2 --compress zstd
poll_until 120 "the restore of generation 2" has_text err2 'restored from generation 2$'
resize 4
refused err2 "checkpoint not taken: cannot compress the image into $ST: .*No space left on device"
for g in 1 2; do
    "$CAIRN" verify "$ST/$(gen_file $g)" >/dev/null || fail "generation $g does not verify after ENOSPC"
done
cmp gen1.copy "$ST/$(gen_file 1)" || fail "generation 1 changed"
resize 40
commits 3
kill_tree "$CPID" || fail "the second run's processes did not end"
CPID=

# 3. The last run restores generation 3 and ends as a run without cairn.
: >gate
# shellcheck disable=SC2086
"$CAIRN" run --store "$ST" --output direct -v -- "$INCR" $ARGS >>out.txt 2>err3 </dev/null ||
    fail "the last run ended with status $?"
grep -q 'restored from generation 3$' err3 || fail "the last run was not restored from generation 3"
cmp ref.txt out.txt || fail "the output differs from the run without cairn: $(tail -n 1 out.txt)"
echo "ok: a full store refused (checked before, and ENOSPC while compressing), the job ran on, generations intact, restored"
