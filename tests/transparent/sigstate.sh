#!/bin/sh
# SPDX-License-Identifier: MIT
# sigstate.sh — a job starts under cairn run with the signal mask and the
# ignored signals it would have had without it (progs/sigstate.c: its
# --setup blocks SIGUSR2 and SIGTERM and ignores SIGHUP and SIGQUIT, then
# execs the rest, as nohup or a batch system's starter may): once as the
# program itself, once as cairn run running it. Before, cairn run gave the
# job an empty mask.
#   sigstate.sh CAIRN SIGSTATE
set -eu
CAIRN=$1; SIGSTATE=$2
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-sigstate.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
"$SIGSTATE" --setup "$SIGSTATE" >ref.txt
grep -q 'User defined signal 2: blocked' ref.txt || fail "the setup did not block SIGUSR2: $(cat ref.txt)"
"$SIGSTATE" --setup "$CAIRN" run --store st -- "$SIGSTATE" >job.txt 2>err1 </dev/null ||
    fail "cairn run failed"
cmp -s ref.txt job.txt ||
    fail "without cairn:
$(cat ref.txt)
under cairn run:
$(cat job.txt)"
echo "ok: the same mask and ignored signals: $(tr '\n' ';' <ref.txt)"
