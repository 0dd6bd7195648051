#!/bin/sh
# SPDX-License-Identifier: MIT
# cycle.sh — runs a job under `cairn run`, checkpoints it, kills it (and
# cairn) with SIGKILL, restores it, again and again until it finishes; then
# compares its stdout (appended to a file, as with `>>`) and the files it
# wrote with those of an uninterrupted run.
#
#   cycle.sh CAIRN MIN_RESTORES "FILES TO COMPARE" PROG [ARGS...]
#
# PROG runs in a fresh directory ($W/ref for the reference, $W/job under
# cairn); SETUP, if set, is a shell command run in both first. With COPY=1
# each restore runs from a copy of the store in a new directory.
set -eu
CAIRN=$1; MIN=$2; FILES=$3; shift 3
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-transparent.XXXXXX")
cleanup() {
    [ -n "${CPID:-}" ] && kill -9 $(pgrep -P "$CPID" 2>/dev/null) "$CPID" 2>/dev/null || true
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- cairn's messages:" >&2; cat "$W"/err* >&2 || true; exit 1; }

mkdir "$W/ref" "$W/job"
if [ -n "${SETUP:-}" ]; then (cd "$W/ref" && sh -c "$SETUP"); (cd "$W/job" && sh -c "$SETUP"); fi
t0=$(date +%s.%N)
(cd "$W/ref" && "$@" >>out.txt 2>err.txt </dev/null) || fail "reference run failed"
# Kill moments are a fraction of the reference run's length, so that the job
# is interrupted at least MIN times however fast or loaded the machine is.
SLICE=$(awk -v a="$t0" -v b="$(date +%s.%N)" -v m="$MIN" 'BEGIN { printf "%.3f", (b - a) / (m + 2) }')

gens() { ls "$1" 2>/dev/null | grep -c '^ckpt-' || true; }
newest() { ls "$1" 2>/dev/null | grep '^ckpt-.*\.cairn$' | sort | tail -1; }
STORE="$W/job/st"; restores=0; cycle=0; status=running
while [ "$status" = running ]; do
    cycle=$((cycle + 1))
    [ $cycle -gt 40 ] && fail "the job did not finish in 40 cycles"
    if [ "${COPY:-0}" = 1 ] && [ -d "$STORE" ]; then
        cp -a "$STORE" "$W/store$cycle"; rm -rf "$STORE"; STORE="$W/store$cycle"
    fi
    before=$(newest "$STORE")
    [ -n "$before" ] && restores=$((restores + 1))
    (cd "$W/job" && exec "$CAIRN" run --store "$STORE" -v -- "$@" >>out.txt 2>>"$W/err$cycle" </dev/null) &
    CPID=$!
    # The slice counts from when the job runs again, not from the restore.
    i=0
    while [ -n "$before" ] && ! grep -q 'job restored' "$W/err$cycle" 2>/dev/null &&
          kill -0 "$CPID" 2>/dev/null && [ $i -lt 600 ]; do
        sleep 0.05; i=$((i + 1))
    done
    # A random moment: half to all of a slice into the run (or DELAY).
    sleep "${DELAY:-$(awk -v s=$$$cycle -v t="$SLICE" 'BEGIN { srand(s); printf "%.3f", t * (0.5 + rand() / 2) }')}"
    if ! kill -0 "$CPID" 2>/dev/null; then wait "$CPID" || fail "cairn run exited $?"; status=done; break; fi
    "$CAIRN" checkpoint --store "$STORE" 2>/dev/null || true
    i=0
    while [ "$(newest "$STORE")" = "$before" ] && kill -0 "$CPID" 2>/dev/null && [ $i -lt 300 ]; do
        sleep 0.05; i=$((i + 1))
    done
    if ! kill -0 "$CPID" 2>/dev/null || [ -f "$STORE/finished" ]; then
        wait "$CPID" || fail "cairn run exited $?"; status=done; break
    fi
    [ "$(newest "$STORE")" = "$before" ] && fail "no checkpoint was committed in cycle $cycle"
    kill -9 $(pgrep -P "$CPID") "$CPID" 2>/dev/null || true
    rc=0; wait "$CPID" 2>/dev/null || rc=$?
    CPID=
    # The job may have finished just before the kill.
    if [ $rc -ne 137 ] || [ -f "$STORE/finished" ]; then
        [ $rc -eq 0 ] || [ $rc -eq 137 ] || fail "cairn run exited $rc"; status=done
    fi
done
CPID=
[ -f "$STORE/finished" ] || fail "the store is not marked finished"
[ $restores -ge "$MIN" ] || fail "only $restores restores (wanted $MIN): make the job longer"
cmp "$W/ref/out.txt" "$W/job/out.txt" || fail "stdout differs: $(tail -2 "$W/job/out.txt")"
for f in $FILES; do cmp "$W/ref/$f" "$W/job/$f" || fail "$f differs"; done
echo "ok: $restores restores, output identical ($(wc -c <"$W/job/out.txt") bytes)"
