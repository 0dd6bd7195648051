#!/bin/sh
# SPDX-License-Identifier: MIT
# cycle.sh — runs a job under `cairn run` and, MIN times, checkpoints it,
# kills it (and cairn) with SIGKILL and restores it; then lets it finish and
# compares its stdout (appended to a file, as with `>>`) and the files it
# wrote with those of an uninterrupted run.
#
#   cycle.sh CAIRN MIN_RESTORES "FILES TO COMPARE" PROG [ARGS...]
#
# PROG runs in a fresh directory ($W/ref for the reference, $W/job under
# cairn); SETUP, if set, is a shell command run in both first. With COPY=1
# each restore runs from a copy of the store in a new directory. NOGATE=1
# says that PROG is a real program (real.sh), without the gate below.
# MAX_IMAGE_BYTES, if set, bounds the size of every image taken.
# CAIRN_COMPRESS, if set (cairn run's --compress), must compress the images.
# MAPPED, if set, is a pattern (grep -E) that a line of /proc/PID/maps of a
# process of every restored job must match: memory mapped from the image
# (restore/mapped.c), e.g. 'ckpt-[0-9]+\.cairn' or 'memfd:cairn-image'; with
# MAPPED_NOT=1, no line may (the default: no CAIRN_RESTORE_MAP=1).
# OUTPUT is cairn run's --output: direct by default (the job writes its
# stdout file itself, and progress shows in it at once), or committed
# (docs/TRANSPARENT.md: the job's lines reach the file only at commits).
#
# Every moment comes from what the job has done, not from the clock, so the
# test behaves the same on a fast, slow, idle or busy machine:
#  - Progress is the number of lines the job has written to its stdout (the
#    programs of progs/ print one every 2% of their work, progress.h; those
#    of real.sh print as they go). Kill k (k = 1..MIN) is asked for once the
#    job has written T_k lines, T_k a random point in the second half of the
#    k-th of MIN+1 equal parts of the reference run's output: the kills are
#    spread over the work, and the last fifth or more is left after them.
#  - `cairn checkpoint`, then SIGKILL as soon as the new generation is in the
#    store (committed: it appears by an atomic rename). With OUTPUT=committed
#    the lines appear only at commits: `cairn checkpoint --wait` is asked
#    again and again until the file holds T_k lines, and the kill follows
#    the commit that brought them.
#  - The next run must say "job restored"; it is started again from there.
#  - A job of progs/ cannot end before its MIN-th restore: it waits before
#    its last output until $CAIRN_TEST_GATE exists, and this script creates
#    that file only in the last run, once that run's restore was seen. A
#    real program (NOGATE=1) has no gate: should it end before a kill lands
#    (all its remaining output came at once), the attempt is made again
#    from the start, up to 3 times.
#  - Resumed, not redone: stdout is appended and a restore rolls it back to
#    its length at the checkpoint (direct), or the file only ever receives
#    what a commit covered (committed), so a job that started over instead
#    of resuming would print its lines twice and differ from the reference.
set -eu
CAIRN=$1; MIN=$2; FILES=$3; shift 3
OUTPUT=${OUTPUT:-direct}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-transparent.XXXXXX")
CPID=
START=$(date +%s)
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() {
    echo "FAIL (after $(($(date +%s) - START)) s): $*" >&2
    [ -z "$CPID" ] || { echo "--- the processes of the run:" >&2; dump_tree "$CPID" >&2; }
    echo "--- cairn's messages:" >&2; cat "$W"/err* >&2 || true
    exit 1
}
setup() { mkdir "$1"; if [ -n "${SETUP:-}" ]; then (cd "$1" && sh -c "$SETUP"); fi; }

setup "$W/ref"
(cd "$W/ref" && env -u CAIRN_TEST_GATE "$@" >>out.txt 2>err.txt </dev/null) || fail "reference run failed"
L=$(lines "$W/ref/out.txt")
[ "$L" -ge $((MIN + 2)) ] || fail "the reference run printed $L lines: too few to place $MIN kills"
export CAIRN_TEST_GATE="$W/gate"

# target K: T_k, in lines (see above).
target() {
    awk -v l="$L" -v k="$1" -v m="$MIN" -v s="$SEED$1" \
        'BEGIN { srand(s); t = l * (k - rand() / 2) / (m + 1); printf "%d", t == int(t) ? t : int(t) + 1 }'
}
# run_ended: cairn run has exited (the job ended, or cairn failed).
run_ended() { ended "$CPID"; }
progressed() { has_lines "$W/job/out.txt" "$1" || run_ended; }
restored() { has_text "$W/err$cycle" 'job restored' || run_ended; }
# mapped_now: a process of the restored job maps memory from its image.
mapped_now() {
    for _p in $(descendants "$CPID"); do
        grep -Eq -- "$MAPPED" "/proc/$_p/maps" 2>/dev/null && return 0
    done
    return 1
}
check_mapped() {
    [ -n "${MAPPED:-}" ] || return 0
    if [ "${MAPPED_NOT:-0}" = 1 ]; then
        ! mapped_now || fail "cycle $cycle: the restored job maps its image ($MAPPED)"
    else
        mapped_now || fail "cycle $cycle: no memory of the restored job is mapped from its image ($MAPPED)"
    fi
}
committed() { newer_than "$STORE" "$1" || run_ended; }
# fail_round WHY: fail, with what the last `cairn checkpoint --wait` said.
fail_round() {
    echo "--- the last cairn checkpoint --wait said:" >&2; cat "$W/ckpt.txt" >&2
    fail "$1"
}
# commit_until N: committed output, checkpoints until N lines are out and
# this run has committed a generation of its own. The second condition
# matters: one commit may release many lines at once (the job ran far ahead
# of a slow round), so the file can already hold N lines when this run
# starts, and a kill without a new generation would leave nothing to test.
# A job that prints no line in 500 checkpoints in a row (each lets it run
# for a while: far more than its lines are apart) is stuck, or every round
# fails: the failure shows its processes and what the last round said.
commit_until() {
    _n=0; _had=$(lines "$W/job/out.txt")
    until has_lines "$W/job/out.txt" "$1" && newer_than "$STORE" "$before"; do
        _now=$(lines "$W/job/out.txt")
        [ "$_now" = "$_had" ] && _n=$((_n + 1)) || { _n=0; _had=$_now; }
        [ $_n -le 500 ] ||
            fail_round "cycle $cycle: no line $((_now + 1)) (of the $1 wanted) after $_n checkpoints in a row"
        poll_until 60 "cairn run writing its pid file" owns_store_or_ended "$STORE" "$CPID"
        running "$CPID" || return 1
        timeout -k 10 300 "$CAIRN" checkpoint --wait --timeout 90 --store "$STORE" >"$W/ckpt.txt" 2>&1 || {
            _rc=$?
            # 124 and up: timeout's own (300 s passed, or it could not run
            # the command), or a signal ended cairn checkpoint.
            [ $_rc -lt 124 ] || fail_round "cycle $cycle: cairn checkpoint --wait exited $_rc (124: not in 300 s)"
            running "$CPID" || return 1
            # 5: no commit, refusal or failure in its 90 s: a round is stuck.
            [ $_rc -ne 5 ] || fail_round "cycle $cycle: a checkpoint neither committed nor failed in 90 s"
        }
    done
}
# early_end: what to do when cairn run exited before kill k landed.
early_end() {
    # Only a run that has ended may be waited for: a job held by its gate
    # would make this wait last for ever.
    ! running "$CPID" || fail "cycle $cycle: no new generation, and cairn run still runs"
    rc=0; wait "$CPID" || rc=$?; CPID=
    [ $rc -eq 0 ] && [ -f "$STORE/finished" ] || fail "cycle $cycle: cairn run exited $rc"
    [ "${NOGATE:-0}" = 1 ] || fail "the job ended before kill $((restores + 1)): the gate did not hold it"
    raced=yes
}

attempt=0
while :; do
    attempt=$((attempt + 1))
    [ $attempt -le 3 ] || fail "the job ended before its kills in 3 attempts: make it longer"
    SEED=$$$attempt
    rm -rf "$W/job" "$W"/store* "$W"/err* "$W/gate"
    setup "$W/job"
    STORE="$W/job/st"; restores=0; cycle=0; raced=; at=
    while :; do
        cycle=$((cycle + 1))
        if [ "${COPY:-0}" = 1 ] && [ -d "$STORE" ]; then
            cp -a "$STORE" "$W/store$cycle"; rm -rf "$STORE"; STORE="$W/store$cycle"
        fi
        before=$(newest "$STORE")
        [ -n "$before" ] && restores=$((restores + 1))
        last=; [ $restores -lt "$MIN" ] || last=yes
        (cd "$W/job" && exec "$CAIRN" run --store "$STORE" --output "$OUTPUT" -v -- "$@" \
            >>out.txt 2>>"$W/err$cycle" </dev/null) &
        CPID=$!
        if [ -n "$before" ]; then
            poll_until 120 "cycle $cycle: the restore" restored
            has_text "$W/err$cycle" 'job restored' || fail "cycle $cycle: the job was not restored"
            check_mapped
        fi
        # The last run may finish, once its restore was seen: opened before,
        # the gate let a job that had little left end before check_mapped
        # looked at its maps (a CI run: nothing mapped, the job was gone).
        [ -z "$last" ] || : >"$W/gate"
        if [ $restores -ge "$MIN" ]; then
            poll_until 400 "the last run ending" run_ended
            rc=0; wait "$CPID" || rc=$?; CPID=
            [ $rc -eq 0 ] || fail "the last run: cairn run exited $rc"
            break
        fi
        t=$(target $((restores + 1)))
        if [ "$OUTPUT" = committed ]; then
            commit_until "$t" || { early_end; break; }
        else
            poll_until 300 "cycle $cycle: line $t of the job's output" progressed "$t"
            run_ended && { early_end; break; }
            checkpoint_now "$STORE" "$CPID" || { early_end; break; }
            poll_until 120 "cycle $cycle: a new generation" committed "$before"
        fi
        newer_than "$STORE" "$before" || { early_end; break; }
        if [ -n "${MAX_IMAGE_BYTES:-}" ]; then
            size=$(wc -c <"$STORE/$(newest "$STORE")")
            [ "$size" -le "$MAX_IMAGE_BYTES" ] ||
                fail "cycle $cycle: the image has $size bytes (at most $MAX_IMAGE_BYTES wanted)"
        fi
        kill_tree "$CPID" || fail "cycle $cycle: the killed run's processes did not end"
        CPID=
        # A real program may have ended between the commit and the kill:
        # the store is finished and the next run would start afresh.
        if [ -f "$STORE/finished" ] && [ "${NOGATE:-0}" = 1 ]; then raced=yes; break; fi
        at="$at $t"
    done
    [ -n "$raced" ] || break
    echo "note: attempt $attempt: the job ended before kill $((restores + 1)); again" >&2
done
[ -f "$STORE/finished" ] || fail "the store is not marked finished"
[ $restores -ge "$MIN" ] || fail "only $restores restores (wanted $MIN)"
cmp "$W/ref/out.txt" "$W/job/out.txt" || fail "stdout differs: $(tail -2 "$W/job/out.txt")"
for f in $FILES; do cmp "$W/ref/$f" "$W/job/$f" || fail "$f differs"; done
# CAIRN_COMPRESS=zstd...: the images were compressed (cairn -v says so).
case "${CAIRN_COMPRESS:-off}" in
off) ;;
*) cat "$W"/err* | grep -q "compressed:" || fail "CAIRN_COMPRESS=$CAIRN_COMPRESS: no image was compressed" ;;
esac
echo "ok: $restores restores, checkpoints after lines$at of $L, output identical" \
     "($(wc -c <"$W/job/out.txt") bytes)${NOGATE:+, attempt $attempt}"
