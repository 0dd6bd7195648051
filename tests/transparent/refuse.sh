#!/bin/sh
# refuse.sh — jobs cairn cannot checkpoint run on exactly as without cairn,
# and each refused checkpoint says why:
#   1. a job that execs a static binary (no runtime there): never sent the
#      checkpoint signal, which would kill it;
#   2. a job that blocks every signal with the raw system call: the
#      checkpoint is refused at once instead of waiting for ever; with
#      sigprocmask() (interposed) it is checkpointed all the same;
#   3. a job with a POSIX timer: refused naming the timers (not restorable
#      yet), instead of a restore that silently loses them;
#   4. without a pid namespace (CAIRN_NO_NAMESPACE=1), SIGKILL of cairn
#      takes the job with it, so that a rerun cannot restore a second copy.
#   refuse.sh CAIRN STATIC BLOCKER PTIMER COUNTER
set -eu
CAIRN=$1; STATIC=$2; BLOCKER=$3; PTIMER=$4; COUNTER=$5
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-refuse.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
fail() { echo "FAIL: $*" >&2; cat err* >&2 || true; exit 1; }
# The jobs sleep 1.5 s whatever the machine's speed; checkpoints are due
# every 0.1 s, so several come while they run.
rc=0; "$CAIRN" run --store s1 --interval 0.1 -- /bin/sh -c "exec $STATIC" >out1 2>err1 || rc=$?
[ $rc -eq 0 ] || fail "1: exit $rc (killed by the checkpoint signal?)"
grep -q "static done" out1 || fail "1: no output"
grep -q "no longer has cairn's runtime" err1 || fail "1: no message"
echo "ok 1: a static binary exec'd by the job runs to its end"
rc=0; "$CAIRN" run --store s2 --interval 0.1 -- "$BLOCKER" raw >out2 2>err2 || rc=$?
[ $rc -eq 0 ] || fail "2: exit $rc"
grep -q "blocked done" out2 || fail "2: no output"
grep -q "blocks cairn's checkpoint signal" err2 || fail "2: no message"
echo "ok 2: a job blocking every signal (raw system call) runs to its end, each checkpoint refused"
rc=0; "$CAIRN" run --store s2b --interval 0.1 -- "$BLOCKER" >out2b 2>err2b || rc=$?
[ $rc -eq 0 ] || fail "2b: exit $rc"
grep -q "blocked done" out2b || fail "2b: no output"
grep -q "blocks cairn's checkpoint signal" err2b && fail "2b: refused although sigprocmask is interposed"
ls s2b/ckpt-*.cairn >/dev/null 2>&1 || grep -q "[1-9][0-9]* checkpoints" err2b ||
    fail "2b: no checkpoint taken"
echo "ok 2b: a job blocking every signal with sigprocmask is checkpointed all the same"
rc=0; "$CAIRN" run --store s3 --interval 0.1 -- "$PTIMER" >out3 2>err3 || rc=$?
[ $rc -eq 0 ] || fail "3: exit $rc"
grep -q "timer done" out3 || fail "3: no output"
grep -q "1 POSIX timers (timer_create)" err3 || fail "3: no message naming the timers"
echo "ok 3: a job with a POSIX timer runs to its end, each checkpoint refused naming it"
CAIRN_NO_NAMESPACE=1 "$CAIRN" run --store s4 -- "$COUNTER" 100000 >out4 2>err4 &
cpid=$!
i=0
until [ -f s4/cairn-run.pid ] && job=$(cat /proc/$cpid/task/$cpid/children 2>/dev/null) &&
      [ -n "$job" ]; do
    i=$((i + 1)); [ $i -lt 2000 ] || fail "4: the job never started"; sleep 0.01
done
kill -9 $cpid; wait $cpid 2>/dev/null || true
i=0
while kill -0 $job 2>/dev/null && [ "$(cut -d' ' -f3 /proc/$job/stat 2>/dev/null)" != Z ]; do
    i=$((i + 1)); [ $i -lt 1000 ] || { kill -9 $job; fail "4: the job outlived cairn"; }; sleep 0.01
done
echo "ok 4: without a pid namespace the job does not outlive cairn"
