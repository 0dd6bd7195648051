#!/bin/sh
# SPDX-License-Identifier: MIT
# fsize.sh — a job under a file size limit (ulimit -f, as a batch system
# may set it) smaller than its image. With the soft and hard limits at
# 10-20 MB the writer refuses the image before its first byte ("the image
# needs N MiB and the job's file size limit (ulimit -f) is M MiB"), and the
# job runs on and ends as it would without cairn. With only the soft limit
# set, the writer and cairn (compressing, --compress zstd) raise their own
# soft limits to the hard one: the checkpoint commits, and a run restored
# from it ends with the uninterrupted run's output. Before, the compressing
# cairn died of SIGXFSZ and took the job with it.
#   fsize.sh CAIRN INCR
set -eu
CAIRN=$1; INCR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-fsize.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
ARGS="64 300 0.1"
# shellcheck disable=SC2086
"$INCR" $ARGS >ref.txt
export CAIRN_TEST_GATE="$W/gate" CAIRN_OUTPUT=direct

# 1. Both limits below the image: refused, the job runs on to its end.
# shellcheck disable=SC2086
(ulimit -f 20000 && exec "$CAIRN" run --store st -v -- "$INCR" $ARGS >out1.txt 2>err1 </dev/null) &
CPID=$!
poll_until 300 "line 5 of the job's output" has_lines out1.txt 5
checkpoint_now st "$CPID"
poll_until 120 "the refusal" has_text err1 'checkpoint not taken'
grep -q "checkpoint not taken: the image needs [0-9]* MiB and the job's file size limit (ulimit -f) is [0-9]* MiB" err1 ||
    fail "the refusal does not name the file size limit"
at=$(lines out1.txt)
poll_until 300 "a line after the refusal (the job runs on)" has_lines out1.txt $((at + 1))
: >gate
wait "$CPID" || fail "cairn run ended with status $? (the job's own is 0)"
CPID=
cmp ref.txt out1.txt || fail "the job's output differs from its run without cairn"
for f in st/ckpt-*; do [ ! -e "$f" ] || fail "an image was committed: $f"; done
rm gate

# 2. The soft limit only: raised by the writer and by cairn, committed.
# (dash and bash have ulimit -S.)
# shellcheck disable=SC2086,SC3045
(ulimit -S -f 20000 && exec "$CAIRN" run --compress zstd --store st2 -v -- "$INCR" $ARGS \
    >>out2.txt 2>err2 </dev/null) &
CPID=$!
poll_until 300 "line 5 of the job's output" has_lines out2.txt 5
checkpoint_now st2 "$CPID"
poll_until 120 "checkpoint 1 committed" has_text err2 'checkpoint 1 committed'
running "$CPID" || fail "cairn run ended after the checkpoint"
kill_tree "$CPID" || fail "the run's processes did not end"
CPID=
: >gate
# shellcheck disable=SC2086
"$CAIRN" run --store st2 -v -- "$INCR" $ARGS >>out2.txt 2>err3 </dev/null || fail "the resumed run failed"
grep -q 'job restored from generation 1$' err3 || fail "not restored from generation 1"
cmp ref.txt out2.txt || fail "the output differs from the uninterrupted run's: $(tail -1 out2.txt)"
echo "ok: refused under the hard limit (the job ran on), committed under the soft one, restored"
