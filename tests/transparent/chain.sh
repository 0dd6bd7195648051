#!/bin/sh
# SPDX-License-Identifier: MIT
# chain.sh — incremental checkpoints (docs/TRANSPARENT.md, "Incremental
# checkpoints"), with a full image every 3 (CAIRN_FULL_EVERY=3):
#   1. ROUNDS runs of the job, each restored from the one before and ended
#      by SIGKILL: in odd rounds once a checkpoint is committed (a delta, or
#      the full rewrite every third), in even ones while the image is being
#      written (its temp file is there: the writer is killed mid-image) —
#      a delta (rounds 2 and 4), the full rewrite (round 6), a delta on it
#      (round 8).
#      After every kill every generation left in the store has the parents
#      it needs (retention never deleted one); the restores come from delta
#      images, and a full image is written again after deltas. The job then
#      finishes with the uninterrupted run's output (its last line is a
#      checksum of all its memory: restored bit for bit, or it differs).
#   2. A delta image whose parent (itself a delta) is corrupt: the restorer
#      finds the parent's bytes wrong, cairn sets the parent aside, skips
#      the delta that needs it and restores an older generation; the job
#      again ends with the uninterrupted output.
#   3. A parent replaced by another image of the same generation number
#      (the other store's): the delta is refused as not written on it.
#   chain.sh CAIRN INCR
set -eu
CAIRN=$1; INCR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-chain.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
ARGS="32 400 10"
# shellcheck disable=SC2086
"$INCR" $ARGS >ref.txt
L=$(lines ref.txt)
# The job writes its stdout itself (--output direct): the rounds wait for its lines.
export CAIRN_TEST_GATE="$W/gate" CAIRN_FULL_EVERY=3 CAIRN_OUTPUT=direct
ROUNDS=8

# chain_ok STORE: every delta image in STORE has its parent there.
chain_ok() {
    for f in "$1"/ckpt-*.cairn; do
        [ -f "$f" ] || continue
        p=$(parent_of "$f")
        [ -z "$p" ] || [ -f "$1/$(gen_file "$p")" ] ||
            fail "$(basename "$f") is a delta on generation $p, which is not in the store"
    done
}
temp_or_newer() { ls -a "$1" | grep -q '^\.tmp-[0-9]' || newer_than "$1" "$2" || ended "$CPID"; }
restored() { has_text "$1" 'job restored' || ended "$CPID"; }

# run_until STORE ERR LINE: starts the job (restoring it if STORE has an
# image) and waits for LINE lines of output.
run_until() {
    had=$(newest "$1")
    (exec "$CAIRN" run --store "$1" -v -- "$INCR" $ARGS >>"$OUT" 2>>"$2" </dev/null) &
    CPID=$!
    if [ -n "$had" ]; then
        poll_until 120 "the restore from $had" restored "$2"
        has_text "$2" 'job restored' || fail "not restored from $had"
        if [ -n "$(parent_of "$1/$had")" ]; then from_delta=$((from_delta + 1)); fi
    fi
    poll_until 300 "line $3 of the job's output" has_lines "$OUT" "$3"
}

# 1. Rounds of checkpoint and SIGKILL.
OUT=out.txt
from_delta=0 deltas=0 fulls_after_delta=0 midwrite=0 seen_delta=0
for k in $(seq 1 $ROUNDS); do
    run_until st "err$k" $((L * k / (ROUNDS + 2)))
    before=$(newest st)
    checkpoint_now st "$CPID" || fail "round $k: the job ended"
    if [ $((k % 2)) -eq 1 ] || [ -z "$before" ]; then
        poll_until 120 "round $k: a new generation" newer_than st "$before"
    else
        poll_until 120 "round $k: the image being written" temp_or_newer st "$before"
    fi
    kill_tree "$CPID" || fail "round $k: the killed run's processes did not end"
    CPID=
    # Committed (also in a round meant to kill it mid-write, on a fast
    # machine: full rewrites came there and were not counted).
    if newer_than st "$before"; then
        new=$(newest st)
        if [ -n "$(parent_of "st/$new")" ]; then
            deltas=$((deltas + 1)); seen_delta=1
        elif [ $seen_delta = 1 ]; then
            fulls_after_delta=$((fulls_after_delta + 1))
        fi
    else
        midwrite=$((midwrite + 1))
    fi
    chain_ok st
done
: >gate
"$CAIRN" run --store st -v -- "$INCR" $ARGS >>out.txt 2>>err_last </dev/null ||
    fail "the last run failed"
cmp ref.txt out.txt || fail "the output differs from the uninterrupted run's: $(tail -1 out.txt)"
[ $deltas -ge 2 ] || fail "only $deltas delta images committed"
[ $from_delta -ge 2 ] || fail "only $from_delta restores from a delta image"
[ $fulls_after_delta -ge 1 ] || fail "no full image was written again after the deltas"
echo "ok: $ROUNDS rounds, $deltas deltas, $from_delta restores from deltas," \
     "$fulls_after_delta full rewrites, $midwrite kills mid-image, output identical"

# 2. A corrupt parent. Generations 1 (full), 2 and 3 (deltas), then SIGKILL.
rm -rf st out.txt gate
run_until st err_c1 3
checkpoint_now st "$CPID"; poll_until 120 "generation 1" test -f "st/$(gen_file 1)"
kill_tree "$CPID"; CPID=
run_until st err_c2 8
checkpoint_now st "$CPID"; poll_until 120 "generation 2" test -f "st/$(gen_file 2)"
kill_tree "$CPID"; CPID=
run_until st err_c3 14
checkpoint_now st "$CPID"; poll_until 120 "generation 3" test -f "st/$(gen_file 3)"
kill_tree "$CPID"; CPID=
[ "$(parent_of "st/$(gen_file 3)")" = 2 ] && [ "$(parent_of "st/$(gen_file 2)")" = 1 ] ||
    fail "generations 2 and 3 are not a chain of deltas on 1"
cp -a st st_copy
# A byte in the middle of generation 2's bytes of the job's large mapping:
# the last memory section is of the mapping with the most dirty pages.
N=st/$(gen_file 2)
printf 'XXXXXXXX' | dd of="$N" bs=1 seek=$(($(stat -c %s "$N") / 2)) conv=notrunc 2>/dev/null
: >gate
"$CAIRN" run --store st -v -- "$INCR" $ARGS >>out.txt 2>err_c4 </dev/null || fail "the resume failed"
grep -q "parent generation 2" err_c4 ||
    fail "the corrupt parent was not named"
[ -f "st/$(gen_file 2).corrupt" ] || fail "generation 2 was not set aside"
grep -q "job restored from generation 1" err_c4 || fail "not restored from generation 1"
cmp ref.txt out.txt || fail "the output differs after falling back from the corrupt chain"
echo "ok: a corrupt parent set aside, its child skipped, generation 1 restored, output identical"

# 3. The parent replaced by another image of the same number.
rm -rf st2 gate
rm -rf st; cp -a st_copy st
OUT=out_other.txt
run_until st2 err_r1 3
checkpoint_now st2 "$CPID"; poll_until 120 "the other store's generation 1" test -f "st2/$(gen_file 1)"
kill_tree "$CPID"; CPID=
cp "st2/$(gen_file 1)" "st/$(gen_file 1)"
: >gate
rc=0; "$CAIRN" run --store st -v -- "$INCR" $ARGS >>"$OUT" 2>err_r2 </dev/null || rc=$?
grep -q "not the image generation 2 was written on" err_r2 ||
    fail "the replaced parent was not detected (exit $rc)"
echo "ok: a replaced parent detected"
