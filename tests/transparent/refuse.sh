#!/bin/sh
# refuse.sh — jobs cairn cannot checkpoint run on exactly as without cairn,
# and each refused checkpoint says why:
#   1. a job that execs a static binary (no runtime there): never sent the
#      checkpoint signal, which would kill it;
#   2. a job that blocks every signal with the raw system call: the
#      checkpoint is refused at once instead of waiting for ever; with
#      sigprocmask() (interposed) it is checkpointed all the same;
#   3. a job with a SIGEV_THREAD timer (glibc's helper thread blocks every
#      signal): refused naming that thread; with another timer, checkpointed;
#   4. without a pid namespace (CAIRN_NO_NAMESPACE=1), SIGKILL of cairn
#      takes the job with it, so that a rerun cannot restore a second copy.
#   5. a job whose main thread has exited (pthread_exit) while a worker
#      runs: refused naming it (cairn checkpoints through the main thread).
#   6. a store whose file system has no room for the image: each checkpoint
#      is refused before its first byte, saying how much it needs, and the
#      job runs to its end (a 1 MiB tmpfs in a user+mount namespace; skipped
#      where the kernel refuses one).
#   7. a job with threads outside the pid namespace (CAIRN_NO_NAMESPACE=1):
#      refused at the checkpoint, since its thread ids could not be restored.
#   8. a job with a child, waiting in poll(-1) and fatal on EINTR: three
#      `cairn checkpoint`s are refused from /proc without signalling it, and
#      it ends as without cairn (issue 11's report: it used to exit 1).
#   9. cairn without its runtime library (copied alone): the job is not
#      started unprotected; cairn run exits 4 naming the missing file.
#   refuse.sh CAIRN STATIC BLOCKER PTIMER COUNTER MAINEXIT THREADED POLLCHILD
set -eu
CAIRN=$1; STATIC=$2; BLOCKER=$3; PTIMER=$4; COUNTER=$5; MAINEXIT=$6; THREADED=$7; POLLCHILD=$8
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
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
rc=0; "$CAIRN" run --store s3 --interval 0.1 -- "$PTIMER" thread >out3 2>err3 || rc=$?
[ $rc -eq 0 ] || fail "3: exit $rc"
grep -q "timer done" out3 || fail "3: no output"
grep -q "blocks cairn's park signal" err3 || fail "3: no message naming the timer's thread"
echo "ok 3: a job with a SIGEV_THREAD timer runs to its end, each checkpoint refused naming its thread"
rc=0; "$CAIRN" run --store s3b --interval 0.1 -- "$PTIMER" >out3b 2>err3b || rc=$?
[ $rc -eq 0 ] || fail "3b: exit $rc"
grep -q "timer done" out3b || fail "3b: no output"
grep -q "checkpoint not taken" err3b && fail "3b: a checkpoint was refused"
grep -q " [1-9][0-9]* checkpoints" err3b || fail "3b: no checkpoint taken"
echo "ok 3b: a job with a POSIX timer is checkpointed"
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
rc=0; "$CAIRN" run --store s5 --interval 0.1 -- "$MAINEXIT" >out5 2>err5 || rc=$?
[ $rc -eq 0 ] || fail "5: exit $rc"
grep -q "worker done" out5 || fail "5: no output"
grep -q "main thread has exited" err5 || fail "5: no message naming the exited main thread"
echo "ok 5: a job whose main thread exited runs to its end, each checkpoint refused naming it"
# 6 runs inside the namespace, where the tmpfs is; its files go with it.
if unshare -rm true 2>/dev/null; then
    mkdir mnt
    rc=0
    unshare -rm sh -c '
        mount -t tmpfs -o size=1m none mnt && cd mnt || exit 10
        "$1" run --store s --interval 0.1 -- "$2" 1500 >out6 2>err6 || exit 11
        grep -q "step 1500 of 1500" out6 || exit 12
        grep -q "checkpoint not taken: the image needs [0-9]* MiB and the store.s file system has" err6 || exit 13
        cp err6 ../err6' sh "$CAIRN" "$COUNTER" || rc=$?
    [ $rc -eq 0 ] || fail "6: step $rc (10 mount, 11 exit status, 12 output, 13 no message)"
    echo "ok 6: a store without room for the image: each checkpoint refused saying so, the job ran to its end"
else
    echo "skip 6: no user+mount namespace here"
fi
rc=0; CAIRN_NO_NAMESPACE=1 "$CAIRN" run --store s7 --interval 0.1 -- "$THREADED" 400 >out7 2>err7 || rc=$?
[ $rc -eq 0 ] || fail "7: exit $rc"
grep -q "runs outside cairn run's pid namespace" err7 || fail "7: no message"
ls s7/ckpt-*.cairn >/dev/null 2>&1 && fail "7: an image was committed"
echo "ok 7: a threaded job outside the pid namespace runs to its end, each checkpoint refused"
POLLCHILD_GATE=$W/gate8 "$CAIRN" run --store s8 -- "$POLLCHILD" >out8 2>err8 &
cpid=$!
poll_until 60 "8: the job's fork" has_text out8 forked
for k in 1 2 3; do
    "$CAIRN" checkpoint --wait --store s8 >/dev/null || fail "8: checkpoint $k not committed"
done
: >"$W/gate8"
rc=0; wait $cpid || rc=$?
[ $rc -eq 0 ] || fail "8: exit $rc (poll interrupted?)"
grep -q "child done" out8 || fail "8: no output"
echo "ok 8: a job with a child in poll(-1) is checkpointed 3 times (the tree) and its poll never sees EINTR"
rc=0; CAIRN_RUNTIME_LIB=$W/no-such-runtime.so "$CAIRN" run --store s9 -- touch ran9 >out9 2>err9 || rc=$?
[ $rc -eq 4 ] || fail "9: exit $rc, not 4"
[ ! -e ran9 ] || fail "9: the job ran without the runtime"
grep -q "no-such-runtime.so is missing" err9 || fail "9: no message naming the runtime"
echo "ok 9: without its runtime library cairn run refuses to start the job, naming the file"

