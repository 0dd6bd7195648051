#!/bin/sh
# SPDX-License-Identifier: MIT
# cpu.sh — an image of a job that ran on a CPU with instruction sets this
# machine lacks (format/cpu_features.h). The job's runtime claims
# AVX512_4VNNIW and AVX512_4FMAPS (Xeon Phi only: no CPU made since 2017
# has them) by a test hook, CAIRN_TEST_CPU_LEAF7_EDX=0xc, as a job started
# on such a machine would:
#  1. its image has the claim, and cairn inspect names what this machine
#     lacks;
#  2. cairn run refuses the restore, naming both, before anything of the
#     job runs: it does not start the job over, the image stays as it was
#     (not set aside as corrupt), the job's output is untouched;
#  3. CAIRN_CPU_CHECK=0 restores it all the same (the job never uses them),
#     with a warning; the job's next image, written without the hook, still
#     claims them (the record is a union over every machine the job ran
#     on, kept in the job's memory);
#  4. the job ends with the output of a run without cairn.
#   cpu.sh CAIRN INCR
set -eu
CAIRN=$1; INCR=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-cpu.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
cd "$W"
ARGS="16 3000 10"
# shellcheck disable=SC2086
"$INCR" $ARGS >ref.txt
export CAIRN_TEST_GATE="$W/gate" CAIRN_FULL_EVERY=1 CAIRN_OUTPUT=direct
ST=$W/st
G1=$ST/$(gen_file 1)
G2=$ST/$(gen_file 2)
run() {
    _err=$1; shift
    # shellcheck disable=SC2086
    "$CAIRN" run --store "$ST" -v -- "$INCR" $ARGS >>out.txt 2>>"$_err" </dev/null &
    CPID=$!
}

CAIRN_TEST_CPU_LEAF7_EDX=0xc run err1
poll_until 300 "line 5 of the job's output" has_lines out.txt 5
checkpoint_now "$ST" "$CPID" || fail "cairn run ended before the checkpoint"
poll_until 120 "generation 1" has_text err1 'checkpoint 1 committed'
kill_tree "$CPID" || fail "the first run's processes did not end"
CPID=

# 1-2. Claimed instruction sets this machine lacks: named, refused.
cp "$G1" g1.copy
"$CAIRN" inspect "$G1" | grep -q '^cpu .*this machine lacks avx512_4vnniw avx512_4fmaps$' ||
    fail "cairn inspect does not name what is missing: $("$CAIRN" inspect "$G1" | grep '^cpu')"
at=$(lines out.txt)
rc=0
# shellcheck disable=SC2086
"$CAIRN" run --store "$ST" -v -- "$INCR" $ARGS >>out.txt 2>err2 </dev/null || rc=$?
[ "$rc" -eq 4 ] || fail "cairn run ended with status $rc, not 4, on an image it refuses"
grep -q "the job ran on a CPU with avx512_4vnniw avx512_4fmaps, which this machine's lacks" err2 ||
    fail "the refusal does not name the missing instruction sets"
[ "$(lines out.txt)" = "$at" ] || fail "the job ran (its output grew) though its image was refused"
cmp g1.copy "$G1" || fail "the refused image was changed or set aside"
for f in "$ST"/*.corrupt; do [ ! -e "$f" ] || fail "an image was set aside: $f"; done

# 3. CAIRN_CPU_CHECK=0: restored with a warning; the next image keeps the claim.
CAIRN_CPU_CHECK=0 run err3
poll_until 120 "the restore of generation 1" has_text err3 'restored from generation 1$'
grep -q 'warning: restoring a job that ran on a CPU with avx512_4vnniw avx512_4fmaps' err3 ||
    fail "no warning for the restore CAIRN_CPU_CHECK=0 allowed"
poll_until 300 "a line of the restored job" has_lines out.txt $((at + 1))
checkpoint_now "$ST" "$CPID" || fail "cairn run ended before the checkpoint"
poll_until 120 "generation 2" has_text err3 'checkpoint 2 committed'
kill_tree "$CPID" || fail "the second run's processes did not end"
CPID=
"$CAIRN" inspect "$G2" | grep -q '^cpu .*this machine lacks avx512_4vnniw avx512_4fmaps$' ||
    fail "the restored job's image no longer claims the first machine's instruction sets"

# 4. To the end.
: >gate
# shellcheck disable=SC2086
CAIRN_CPU_CHECK=0 "$CAIRN" run --store "$ST" -v -- "$INCR" $ARGS >>out.txt 2>err4 </dev/null ||
    fail "the last run ended with status $?"
grep -q 'restored from generation 2$' err4 || fail "the last run was not restored from generation 2"
cmp ref.txt out.txt || fail "the output differs from the run without cairn: $(tail -n 1 out.txt)"
echo "ok: refused naming avx512_4vnniw avx512_4fmaps, restored under CAIRN_CPU_CHECK=0, the claim kept"
