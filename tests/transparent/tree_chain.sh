#!/bin/sh
# SPDX-License-Identifier: MIT
# tree_chain.sh — incremental checkpoints of a process tree (docs/
# TRANSPARENT.md, "Process trees" and "Incremental checkpoints"): bash (not
# exec'ing) running progs/incr, a C program with a 32 MiB mapping of which
# a few pages change between checkpoints, with CAIRN_FULL_EVERY=3 and
# CAIRN_DEBUG_DIRTY (every writer checks its delta's clean pages against
# its own process's previous record, runtime/dirty_debug.c):
#   1. ROUNDS runs of the job, each restored from the one before and ended
#      by SIGKILL: in odd rounds once a checkpoint is committed, in even
#      ones while its images are being written. After every kill every
#      delta image left in the store, member or not, has its parent (the
#      same process's image of the generation it names) and that
#      generation. The program's member images are deltas, far smaller
#      than its full one; restores come from them; a full image is written
#      again after deltas. The job then finishes with the uninterrupted
#      run's output (incr's last line is a checksum of all its memory).
#      cairn verify --all passes on every generation and member image.
#   2. A member delta whose parent (the member image of the generation
#      before, itself a delta) is corrupt: cairn verify names it; cairn sets that generation
#      aside, skips the one that needs it and restores an older one; the
#      output is again the uninterrupted run's.
#   tree_chain.sh CAIRN INCR
set -eu
CAIRN=$1; INCR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-tree-chain.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; cat "$W"/dbg/report >&2 || true; exit 1
}
cd "$W"
ARGS="32 400 2"
JOB="$INCR $ARGS; echo wrapper: \$?" # two commands: bash forks incr and waits
/bin/bash -c "$JOB" >ref.txt
L=$(lines ref.txt)
export CAIRN_TEST_GATE="$W/gate" CAIRN_FULL_EVERY=3 CAIRN_OUTPUT=direct CAIRN_DEBUG_DIRTY="$W/dbg"
mkdir dbg
ROUNDS=8

# member_of STORE GEN: generation GEN's member image (incr's), or nothing.
member_of() { ls "$1" | grep "^ckpt-$(printf %020d "$2")\.p[0-9]*\.cairn$" | head -n 1; }
gen_of() { echo "$1" | sed 's/^ckpt-0*\([0-9][0-9]*\)\..*/\1/'; }
# chain_ok STORE: every delta image in STORE has its parent there.
chain_ok() {
    for f in "$1"/ckpt-*.cairn; do
        [ -f "$f" ] || continue
        b=$(basename "$f")
        p=$(parent_of "$f")
        [ -n "$p" ] || continue
        [ -f "$1/$(gen_file "$p")" ] || fail "$b is a delta on generation $p, which is not in the store"
        case $b in *.p*.cairn)
            pf=$(printf 'ckpt-%020d.%s' "$p" "${b#*.}")
            [ -f "$1/$pf" ] || fail "$b is a delta on $pf, which is not in the store" ;;
        esac
    done
}
temp_or_newer() { ls -a "$1" | grep -q '^\.tmp-[0-9]' || newer_than "$1" "$2" || ended "$CPID"; }
restored() { has_text "$1" 'job restored' || ended "$CPID"; }

# run_until STORE ERR LINE: starts the job (restoring it if STORE has an
# image) and waits for LINE lines of output.
run_until() {
    had=$(newest "$1")
    (exec "$CAIRN" run --store "$1" -v -- /bin/bash -c "$JOB" >>"$OUT" 2>>"$2" </dev/null) &
    CPID=$!
    if [ -n "$had" ]; then
        poll_until 120 "the restore from $had" restored "$2"
        has_text "$2" "job restored from generation $(gen_of "$had")\$" || fail "not restored from $had"
        m=$(member_of "$1" "$(gen_of "$had")")
        if [ -n "$m" ] && [ -n "$(parent_of "$1/$m")" ]; then from_delta=$((from_delta + 1)); fi
    fi
    poll_until 300 "line $3 of the job's output" has_lines "$OUT" "$3"
}

# 1. Rounds of checkpoint and SIGKILL.
OUT=out.txt
from_delta=0 deltas=0 fulls_after_delta=0 midwrite=0 seen_delta=0 full_size=0 max_delta=0
for k in $(seq 1 $ROUNDS); do
    run_until st "err$k" $((L * k / (ROUNDS + 2)))
    before=$(newest st)
    checkpoint_now st "$CPID" || fail "round $k: the job ended"
    if [ $((k % 2)) -eq 1 ] || [ -z "$before" ]; then
        poll_until 120 "round $k: a new generation" newer_than st "$before"
    else
        poll_until 120 "round $k: the images being written" temp_or_newer st "$before"
    fi
    kill_tree "$CPID" || fail "round $k: the killed run's processes did not end"
    CPID=
    if newer_than st "$before"; then # committed (also in a round meant to kill it mid-write)
        new=$(newest st)
        m=$(member_of st "$(gen_of "$new")")
        [ -n "$m" ] || fail "round $k: $new has no member image (the job is not a tree?)"
        size=$(stat -c %s "st/$m")
        if [ -n "$(parent_of "st/$m")" ]; then
            deltas=$((deltas + 1)); seen_delta=1
            [ "$size" -le "$max_delta" ] || max_delta=$size
        else
            full_size=$size
            [ $seen_delta = 0 ] || fulls_after_delta=$((fulls_after_delta + 1))
        fi
    else
        midwrite=$((midwrite + 1))
    fi
    chain_ok st
done
"$CAIRN" verify --all -q st || fail "cairn verify: a generation or member image is invalid"
: >gate
"$CAIRN" run --store st -v -- /bin/bash -c "$JOB" >>out.txt 2>>err_last </dev/null ||
    fail "the last run failed"
cmp ref.txt out.txt || fail "the output differs from the uninterrupted run's: $(tail -2 out.txt)"
[ $deltas -ge 1 ] || fail "only $deltas delta member images committed"
[ $from_delta -ge 2 ] || fail "only $from_delta restores from a delta member image"
[ $fulls_after_delta -ge 1 ] || fail "no full image was written again after the deltas"
[ $((max_delta * 2)) -lt "$full_size" ] ||
    fail "a delta member image of $max_delta bytes, the full one $full_size"
! grep MISSED dbg/report || fail "the tracker missed pages a process wrote (above)"
grep -q "delta checked (pid" dbg/report || fail "no writer checked its delta"
echo "ok: $ROUNDS rounds, $deltas delta members (at most $max_delta bytes, full $full_size)," \
     "$from_delta restores from deltas, $fulls_after_delta full rewrites, $midwrite kills" \
     "mid-image, output identical"

# 2. A corrupt member parent. Generations 1 (full), 2 and 3 (deltas), then SIGKILL.
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
M2=st/$(member_of st 2); M3=st/$(member_of st 3)
[ "$(parent_of "$M3")" = 2 ] && [ "$(parent_of "$M2")" = 1 ] ||
    fail "generation 2's and 3's member images are not a chain of deltas on 1"
# Bytes in the middle of generation 2's member image's largest section:
# the pages of incr's large mapping written since generation 1, which the
# restore of generation 3 reads (and checks) below its own.
AT=$("$CAIRN" inspect --json "$M2" | python3 -c '
import json, sys
s = max(json.load(sys.stdin)["sections"], key=lambda s: s["stored_size"])
print(s["offset"] + s["stored_size"] // 2)')
printf 'XXXXXXXX' | dd of="$M2" bs=1 seek="$AT" conv=notrunc 2>/dev/null
rc=0; "$CAIRN" verify --all -q st 2>err_verify || rc=$?
[ $rc = 1 ] && grep -q "$(basename "$M2")" err_verify ||
    fail "cairn verify did not find the corrupt member image (exit $rc): $(cat err_verify)"
: >gate
"$CAIRN" run --store st -v -- /bin/bash -c "$JOB" >>out.txt 2>err_c4 </dev/null ||
    fail "the resume failed"
grep -q "the corrupt one is its parent generation 2" err_c4 || fail "the corrupt parent was not named"
[ -f "st/$(gen_file 2).corrupt" ] || fail "generation 2 was not set aside"
grep -q "job restored from generation 1" err_c4 || fail "not restored from generation 1"
cmp ref.txt out.txt || fail "the output differs after falling back from the corrupt member"
echo "ok: a corrupt member parent: its generation set aside, the delta on it skipped," \
     "generation 1 restored, output identical"
