#!/bin/sh
# SPDX-License-Identifier: MIT
# ahead.sh — a restore that maps the job's memory from its image
# (CAIRN_RESTORE_MAP=1) has a helper thread fault the mapped memory in
# ahead of its hash (restore/ahead.c), at a thread id that no process of
# the job will need: the tid of the process's own second thread, or the
# kernel's choice in a job of one process and one thread; in a tree, a
# process of one thread has none. The restorer names its helper in
# CAIRN_DEBUG_DIRTY's directory (restore/debug.c). The job is killed after
# a checkpoint, restored, checkpointed again, killed, restored again; it
# must end with the output of its uninterrupted run. With
# CAIRN_RESTORE_HASH=sse2 the restorer must also have hashed with SSE2.
#   ahead.sh CAIRN EXPECT PROG ARGS...
# EXPECT: borrowed (a process's helper had its second thread's tid), own
# (the kernel's tid), none (no process had a helper).
set -eu
export CAIRN_OUTPUT=direct CAIRN_RESTORE_MAP=1 CAIRN_FULL_EVERY=1
CAIRN=$1; EXPECT=$2; shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-ahead.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* "$W"/dbg/ahead-* >&2 || true; exit 1; }
cd "$W"
"$@" >ref.txt
export CAIRN_TEST_GATE="$W/gate"
start() { # start N: cairn run, its stderr in errN
    "$CAIRN" run --store st -v -- "$@" >>out.txt 2>"err$N" </dev/null &
    CPID=$!
}
checkpoint_after() {
    poll_until 120 "line $1 of the job's output" has_lines out.txt "$1"
    checkpoint_now st "$CPID" || fail "cairn run ended before checkpoint $2"
    poll_until 120 "generation $2" test -f "st/$(gen_file "$2")"
}
restored_or_end() { has_text "err$N" 'job restored' || ended "$CPID"; }
maps_image() {
    for p in $(descendants "$CPID"); do
        grep -q "ckpt-0*$1" "/proc/$p/maps" 2>/dev/null && return 0
    done
    return 1
}
# The helper lines of the restore from generation $1: what EXPECT says.
check_helper() {
    cat dbg/ahead-* >ahead.txt 2>/dev/null || fail "the restorer wrote no helper line"
    [ -s ahead.txt ] || fail "the restorer wrote no helper line"
    case $EXPECT in
    borrowed) awk '$3 > 0 && $4 == 1 && $5 >= 33554432 { ok = 1 } END { exit !ok }' ahead.txt ||
        fail "restore from generation $1: no helper at a borrowed tid faulted the memory in" ;;
    own) awk '$3 > 0 && $4 == 0 && $5 >= 33554432 { ok = 1 } END { exit !ok }' ahead.txt ||
        fail "restore from generation $1: no helper at the kernel's tid faulted the memory in" ;;
    none) awk '$3 != 0 { bad = 1 } END { exit bad }' ahead.txt ||
        fail "restore from generation $1: a process of one thread in a tree had a helper" ;;
    esac
    if [ "${CAIRN_RESTORE_HASH:-}" = sse2 ]; then
        awk '$6 != 0 { bad = 1 } END { exit bad }' ahead.txt ||
            fail "restore from generation $1: CAIRN_RESTORE_HASH=sse2, but AVX2 was used"
    fi
}
N=1; start "$@"
checkpoint_after 5 1
kill_tree "$CPID"; CPID=
export CAIRN_DEBUG_DIRTY="$W/dbg"
for gen in 1 2; do
    rm -rf dbg; mkdir dbg
    N=$((gen + 1)); start "$@"
    poll_until 120 "the restore from generation $gen" restored_or_end
    grep -q "job restored from generation $gen" "err$N" || fail "not restored from generation $gen"
    maps_image "$gen" || fail "the restored job maps nothing from generation $gen"
    check_helper "$gen"
    [ "$gen" = 2 ] && break
    checkpoint_after 15 2
    kill_tree "$CPID"; CPID=
done
: >gate
rc=0; wait "$CPID" || rc=$?; CPID=
[ $rc -eq 0 ] || fail "the resumed run exited $rc"
cmp ref.txt out.txt || fail "output differs after two mapped restores"
echo "ok: two mapped restores, helper $EXPECT ($(tr '\n' ';' <ahead.txt)); output identical"
