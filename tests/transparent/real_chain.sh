#!/bin/sh
# SPDX-License-Identifier: MIT
# real_chain.sh — an unmodified program (gzip -c) restored from chains of
# delta images that restored jobs wrote: restore, checkpoint, checkpoint,
# restore, twice (docs/TRANSPARENT.md, "Incremental checkpoints"):
#   run 1: generation 1 (full), SIGKILL;
#   run 2: restored from 1, generations 2 and 3 (deltas on 1 and 2), SIGKILL;
#   run 3: restored from 3 (a delta on a delta, both by a restored job),
#          generations 4 (a delta, or full once the deltas outgrow the full
#          image) and 5 (a delta on 4), SIGKILL;
#   run 4: restored from 5, runs to the end.
# The compressed stream must equal an uninterrupted run's. With
# CAIRN_DEBUG_DIRTY every writer also checks that each page of a delta it
# did not write equals its parent's (runtime/dirty_debug.c): no page the
# job wrote may be MISSED. The kills are placed by gzip's output (its
# newlines), never by the clock; gzip has no gate, so an attempt in which
# it ends before a kill is made again (3 times at most).
#   real_chain.sh CAIRN
set -eu
CAIRN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
command -v gzip >/dev/null 2>&1 || { echo "skipped: gzip is not installed"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-real-chain.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; cat "$W"/dbg/report >&2 || true; exit 1; }
cd "$W"
seq 1 15000000 >big && touch -d @1000000000 big # gzip stores the mtime
gzip -c big >ref.gz
L=$(lines ref.gz)
export CAIRN_FULL_EVERY=8 CAIRN_OUTPUT=direct CAIRN_DEBUG_DIRTY="$W/dbg"

out_or_end() { has_lines out.gz "$1" || ended "$CPID"; }
restored_or_end() { has_text "$1" 'job restored' || ended "$CPID"; }
start() {
    (exec "$CAIRN" run --store st -v -- gzip -c big >>out.gz 2>>"$1" </dev/null) &
    CPID=$!
}
# upto N: waits for N/10 of the reference's lines; 1 if gzip ended first.
upto() {
    poll_until 300 "line $(($1 * L / 10)) of gzip's output" out_or_end $(($1 * L / 10))
    running "$CPID"
}
# ckpt G: a checkpoint, committed as generation G.
ckpt() {
    checkpoint_now st "$CPID" || return 1
    poll_until 120 "generation $1" test -f "st/$(gen_file "$1")"
}
stop() { kill_tree "$CPID" || fail "the killed run's processes did not end"; CPID=; }

attempt() {
    rm -rf st out.gz err* dbg && mkdir dbg
    start err1
    upto 1 && ckpt 1 || return 1
    stop
    for r in 2 3; do
        g=$((2 * r - 2)) # the generations this run writes: g and g + 1
        start "err$r"
        poll_until 120 "run $r's restore" restored_or_end "err$r"
        grep -q "job restored from generation $((g - 1))" "err$r" ||
            fail "run $r was not restored from generation $((g - 1))"
        upto $((2 * r - 2)) && ckpt $g && upto $((2 * r - 1)) && ckpt $((g + 1)) || return 1
        stop
        # generation 4 may be full again: the chain's deltas outgrew the full image
        { [ $g = 4 ] || [ "$(parent_of "st/$(gen_file $g)")" = $((g - 1)) ]; } &&
            [ "$(parent_of "st/$(gen_file $((g + 1)))")" = $g ] ||
            fail "generations $g and $((g + 1)) are not deltas on $((g - 1)) and $g"
    done
    "$CAIRN" run --store st -v -- gzip -c big >>out.gz 2>>err4 </dev/null || fail "the last run failed"
    grep -q "job restored from generation 5" err4 || fail "the last run was not restored from 5"
}
n=1
until attempt; do
    [ -n "$CPID" ] && { kill_tree "$CPID" || true; CPID=; }
    [ $n -lt 3 ] || fail "gzip ended before its kills in 3 attempts"
    n=$((n + 1))
done
cmp ref.gz out.gz || fail "the compressed stream differs from the uninterrupted run's"
! grep MISSED dbg/report || fail "the tracker missed pages the job wrote (above)"
grep -q "^gen 5 delta checked" dbg/report || fail "the writer of generation 5 did not check its delta"
echo "ok: restored from deltas written by restored jobs (3 on 2 on 1, 5 on 4), output identical, no page missed"
