#!/bin/sh
# SPDX-License-Identifier: MIT
# full.sh — `cairn run` with a store that cannot take the next image, in
# two ways (MODE):
#  space: the store is a tmpfs in a private user and mount namespace
#     (unshare -Urm, unprivileged; exit 77, skipped, where the kernel
#     refuses it), shrunk and grown with `mount -o remount,size=`. The
#     uncompressed image is refused by the writer's free-space check
#     before its first byte ("the image needs N MiB and the store's file
#     system has M MiB free"); the compressed one (--compress zstd, written
#     through a memfd, where no check can see the limit) meets the real
#     ENOSPC while it is packed into the store.
#  eio: the store is an ext2 file system on a loop device whose backing
#     file lives on a tmpfs (root only: losetup; exit 77 otherwise). The
#     store's file system says it has room; shrinking the tmpfs under the
#     loop device makes its writes fail, so the image's fsync fails (EIO or
#     ENOSPC from the block layer), as a failing disk or a full NFS server
#     does, after every byte was accepted.
# In each case and each way of writing, the checkpoint fails, naming the
# error; the temp file is removed, the job runs on, the generations already
# committed stay intact (verified, byte-identical to a copy). Once the
# file system has room again the next checkpoint commits, and the last run
# restores the newest generation and ends with the output of a run without
# cairn.
#   full.sh CAIRN INCR MODE
set -eu
CAIRN=$1; INCR=$2; MODE=$3
case $MODE in
space)
    if [ -z "${CAIRN_FULL_NS:-}" ]; then
        unshare -Urm true 2>/dev/null || { echo "skip: unshare -Urm is not allowed here"; exit 77; }
        CAIRN_FULL_NS=1 exec unshare -Urm sh "$0" "$@"
    fi ;;
eio)
    [ "$(id -u)" = 0 ] || { echo "skip: a loop device needs root"; exit 77; }
    if [ -z "${CAIRN_FULL_NS:-}" ]; then
        CAIRN_FULL_NS=1 exec unshare -m sh "$0" "$@"
    fi ;;
*) echo "full.sh: MODE is space or eio" >&2; exit 2 ;;
esac
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-full.XXXXXX")
CPID=
LOOP=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    umount "$W/st" 2>/dev/null || true
    [ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
    umount "$W/back" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; ls -la "$W/st" >&2 || true; exit 1; }
cd "$W"
ARGS="48 3000 10"
# shellcheck disable=SC2086
"$INCR" $ARGS >ref.txt
export CAIRN_TEST_GATE="$W/gate" CAIRN_FULL_EVERY=1
ST=$W/st
mkdir -m 0700 "$ST"

# used_kib DIR: the used KiB of the file system at DIR.
used_kib() { df -k --output=used "$1" | tail -n 1 | tr -d ' '; }
# resize NAME DIR MIB_FREE: the tmpfs NAME at DIR resized to leave MIB_FREE
# MiB free. (The source is named: util-linux cannot remount it by its
# target alone in a user namespace.)
resize() {
    mount -o remount,size=$(($(used_kib "$2") + $3 * 1024))k "$1" "$2" || fail "cannot resize the tmpfs at $2"
}
if [ "$MODE" = space ]; then
    mount -t tmpfs -o size=256m,mode=0700 cairn-full "$ST" || { echo "skip: cannot mount a tmpfs"; exit 77; }
    squeeze() { resize cairn-full "$ST" "$1"; }
    relieve() { resize cairn-full "$ST" 128; }
    FAIL_RAW="checkpoint not taken: the image needs [0-9]* MiB and the store's file system has [0-9]* MiB free"
    FAIL_PACKED="checkpoint not taken: cannot compress the image into $ST: .*No space left on device"
else
    mkdir "$W/back"
    mount -t tmpfs -o size=256m cairn-back "$W/back"
    truncate -s 1G "$W/back/disk"
    mkfs.ext2 -q -F "$W/back/disk" || fail "mkfs.ext2 failed"
    LOOP=$(losetup -f --show "$W/back/disk") || { echo "skip: no loop device"; exit 77; }
    # errors=continue: a failed write does not make ext2 read-only, so the
    # store takes images again once the tmpfs has room; discard: a deleted
    # file's blocks go back to the tmpfs.
    mount -o errors=continue,discard "$LOOP" "$ST" || fail "cannot mount $LOOP"
    chmod 0700 "$ST"
    squeeze() { resize cairn-back "$W/back" "$1"; }
    relieve() { resize cairn-back "$W/back" 128; }
    FAIL_RAW="checkpoint not taken: .*(\(input/output error\|no space left on the device\)"
    FAIL_PACKED="checkpoint not taken: cannot compress the image into $ST: .*\(Input/output error\|No space left on device\)"
fi

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
squeeze 9
refused err1 "$FAIL_RAW"
"$CAIRN" verify "$ST/$(gen_file 1)" >/dev/null || fail "generation 1 does not verify after the refusal"
cmp gen1.copy "$ST/$(gen_file 1)" || fail "generation 1 changed"
relieve
commits 2
kill_tree "$CPID" || fail "the first run's processes did not end"
CPID=

# 2. Compressed: ENOSPC while the image is packed into the store.
run err2 --compress zstd
poll_until 120 "the restore of generation 2" has_text err2 'restored from generation 2$'
squeeze 4
refused err2 "$FAIL_PACKED"
for g in 1 2; do
    "$CAIRN" verify "$ST/$(gen_file $g)" >/dev/null || fail "generation $g does not verify after ENOSPC"
done
cmp gen1.copy "$ST/$(gen_file 1)" || fail "generation 1 changed"
relieve
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
echo "ok ($MODE): the failed checkpoints were reported, the job ran on, generations intact, restored"
