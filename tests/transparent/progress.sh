#!/bin/sh
# SPDX-License-Identifier: MIT
# progress.sh — cairn run's progress line (cli/run_progress.c) for the
# PROGRESS lines of the writer child and of the restorer (format/control.h):
#   1. on a terminal (a pty: util-linux's script), with CAIRN_PROGRESS_AFTER=0
#      instead of the 2 s a checkpoint or restore must last first, a
#      checkpoint shows "cairn: checkpoint X of Y (N%)" and the restore of
#      its image "cairn: restore X of Y (N%)", and the job's output is intact;
#   2. with stderr a file, the same runs never write a progress line nor a
#      terminal escape, and no progress reaches the store's event log.
# Nothing depends on speed: the writer and the restorer report their first
# write or read at once, and with a threshold of 0 cairn shows it.
#   progress.sh CAIRN COUNTER_PROG
set -eu
CAIRN=$1
PROG=$2
command -v script >/dev/null || { echo "skipped: no script (util-linux)"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-progress.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; cat -v "$W"/*.out "$W"/*.err >&2 2>/dev/null || true; exit 1; }
N=100
"$PROG" $N >"$W/ref" || fail "reference run"
result=$(tail -n 1 "$W/ref")
export CAIRN_PROGRESS_AFTER=0 CAIRN_TEST_GATE="$W/gate"

# on_pty OUT CMD...: CMD with stdin, stdout and stderr on a new pty, all it
# writes there in OUT; returns CMD's status.
on_pty() {
    out=$1
    shift
    script -qec "$*" /dev/null </dev/null >"$out"
}

# run_twice NAME MODE: a checkpoint then exit 85 (the gate keeps the job
# running until then), and the rerun restores and finishes.
run_twice() {
    rm -f "$W/gate"
    rc=0
    if [ "$2" = pty ]; then
        on_pty "$W/$1.1.out" "$CAIRN" run --store "$W/$1.st" --interval 1 --exit-code 85 -- "$PROG" $N || rc=$?
    else
        "$CAIRN" run --store "$W/$1.st" --interval 1 --exit-code 85 -- "$PROG" $N \
            >>"$W/$1.out" 2>"$W/$1.1.err" </dev/null || rc=$?
    fi
    [ $rc -eq 85 ] || fail "$1: cairn run exited $rc, not 85 after its checkpoint"
    : >"$W/gate"
    rc=0
    if [ "$2" = pty ]; then
        on_pty "$W/$1.2.out" "$CAIRN" run --store "$W/$1.st" -- "$PROG" $N || rc=$?
    else
        "$CAIRN" run --store "$W/$1.st" -- "$PROG" $N >>"$W/$1.out" 2>"$W/$1.2.err" </dev/null || rc=$?
    fi
    [ $rc -eq 0 ] || fail "$1: the rerun exited $rc"
    grep -q 'job restored from generation 1' "$W/$1".2.* || fail "$1: the rerun did not restore"
}

# 1. On a terminal.
run_twice tty pty
grep -q 'cairn: checkpoint [0-9.]* [KMG]*i*B of [0-9.]* [KMG]*i*B ([0-9]*%)' "$W/tty.1.out" ||
    fail "tty: no checkpoint progress line on the terminal"
grep -q 'cairn: restore [0-9.]* [KMG]*i*B of [0-9.]* [KMG]*i*B ([0-9]*%)' "$W/tty.2.out" ||
    fail "tty: no restore progress line on the terminal"
grep -qF "$result" "$W/tty.2.out" || fail "tty: the job's result is not $result"
echo "ok: on a pty, the checkpoint and the restore show their progress"

# 2. Into files.
run_twice file file
cmp -s "$W/ref" "$W/file.out" || fail "file: the output differs from an uninterrupted run's"
esc=$(printf '\033')
for f in "$W"/file.out "$W"/file.*.err "$W"/file.st/events.jsonl; do
    ! grep -q 'PROGRESS\|cairn: [a-z]* .* of .*%)' "$f" || fail "a progress line in $f"
    ! grep -q "$esc" "$f" || fail "a terminal escape in $f"
done
echo "ok: with stderr a file, no progress line and no escape anywhere"
