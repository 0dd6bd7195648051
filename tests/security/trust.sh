#!/bin/sh
# trust.sh — what cairn run trusts when it restores (docs/TRANSPARENT.md,
# "What a restore checks"). Each case breaks one thing in a store or in the
# job's files between a checkpoint and the restore, and checks that the
# restore refuses it with a message naming the file and the reason, that
# nothing outside the store is written, and that the job still restores
# bit-identically once the thing is put right:
#   1. the job's output file replaced by a symbolic link to another file;
#   2. ... by a FIFO (the restore must not hang);
#   3. the image swapped for another job's after cairn checked it: the
#      restorer reads the descriptor that passed the checks, not the path;
#   4. a symbolic link planted as cairn-run.pid is replaced, not followed;
#   5. an image writable by others is skipped; all of them: refused, kept;
#   6. a lock file writable by others: the store is refused;
#   7. (root) an image owned by another user is skipped;
#   8. a newline in the store's path: no path crosses the control channel.
#   trust.sh CAIRN RESTORER FILEIO COUNTER
set -eu
CAIRN=$1; RESTORER=$2; FILEIO=$3; COUNTER=$4
N=20000
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-trust.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill -9 $(pgrep -P "$CPID" 2>/dev/null) "$CPID" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 5 "$W"/job/err* >&2 || true; exit 1; }
G1=ckpt-00000000000000000001.cairn
G2=ckpt-00000000000000000002.cairn
mkdir "$W/ref" "$W/job" "$W/other"
(cd "$W/ref" && "$FILEIO" $N >out.txt) || fail "reference run failed"
cd "$W/job"

# wait_for FILE: the event, polled (the job cannot finish before it: each
# checkpoint is asked for as soon as cairn run is up).
wait_for() {
    i=0
    until [ -e "$1" ]; do
        i=$((i + 1)); [ $i -lt 3000 ] || fail "$1 never came"
        [ -z "$CPID" ] || kill -0 "$CPID" 2>/dev/null || fail "cairn run ended before $1"
        sleep 0.01
    done
}
kill_run() {
    kill -9 $(pgrep -P "$CPID") "$CPID" 2>/dev/null || true
    wait "$CPID" 2>/dev/null || true
    CPID=
}
# checkpointed STORE PROG ARGS: runs the job until generations 1 and 2 are
# committed (asked for with cairn checkpoint), then SIGKILLs it and cairn.
checkpointed() {
    st=$1; shift
    "$CAIRN" run --store "$st" -- "$@" >>out.txt 2>err-start </dev/null &
    CPID=$!
    wait_for "$st/cairn-run.pid"
    "$CAIRN" checkpoint --store "$st" >/dev/null; wait_for "$st/$G1"
    "$CAIRN" checkpoint --store "$st" >/dev/null; wait_for "$st/$G2"
    kill_run
}
# restore_rc ERRFILE [env...]: one restore attempt of st; its exit status.
restore_rc() {
    e=$1; shift
    rc=0
    env "$@" timeout 120 "$CAIRN" run --store st -v -- "$FILEIO" $N >>out.txt 2>"$e" </dev/null || rc=$?
    [ $rc -ne 124 ] || fail "the restore hung ($e)"
    echo $rc
}
finish() { # the job completes; its output is the reference's
    rc=$(restore_rc "$1")
    [ "$rc" -eq 0 ] || fail "$1: the restore after the repair exited $rc"
    grep -q "job restored from generation" "$1" || fail "$1: not resumed"
    cmp -s out.txt ../ref/out.txt && cmp -s result.dat ../ref/result.dat ||
        fail "$1: output differs from an uninterrupted run"
}
: >out.txt
checkpointed st "$FILEIO" $N
cp -p out.txt out.saved; cp -p result.dat result.saved

# 1. A symbolic link where the job's output file was.
echo "victim's data" >victim; cp victim victim.orig
mv result.dat result.aside; ln -s victim result.dat
rc=$(restore_rc err-1)
[ "$rc" -ne 0 ] || fail "1: restored through a symbolic link"
grep -q "result.dat is now a symbolic link" err-1 || fail "1: no message naming the link"
cmp -s victim victim.orig || fail "1: the file behind the link was written"
[ -f "st/$G2" ] || fail "1: the image was not kept"
rm result.dat; mv result.aside result.dat; cp -p out.saved out.txt
echo "ok 1: a symbolic link in place of a job's file is refused, nothing written"

# 2. A FIFO there: refused at once.
mv result.dat result.aside; mkfifo result.dat
rc=$(restore_rc err-2)
[ "$rc" -ne 0 ] || fail "2: restored onto a FIFO"
grep -q "result.dat is no longer a regular file" err-2 || fail "2: no message naming the FIFO"
rm result.dat; mv result.aside result.dat; cp -p out.saved out.txt
echo "ok 2: a FIFO in place of a job's file is refused without hanging"

# 3. The image swapped for another job's after the checks: the restorer
# reads the checked descriptor, so the fileio job is what comes back.
(cd ../other && : >out.txt && CPID= && checkpointed ost "$COUNTER" 9000) || fail "3: no other image"
cat >swap.sh <<EOS
#!/bin/sh
mv "$W/job/st/$G2" "$W/job/swapped-out"
cp "$W/other/ost/$G2" "$W/job/st/$G2"
exec "$RESTORER" "\$@"
EOS
chmod +x swap.sh
rc=$(restore_rc err-3 CAIRN_RESTORER="$W/job/swap.sh")
grep -q "job restored from generation 2" err-3 || fail "3: generation 2 not restored (exit $rc)"
[ "$rc" -eq 0 ] || fail "3: the restore exited $rc"
cmp -s out.txt ../ref/out.txt && cmp -s result.dat ../ref/result.dat ||
    fail "3: the output is not the fileio job's: the swapped file was read"
echo "ok 3: the restorer read the image that was checked, not the one swapped in after"

# 4-6 on a fresh store of the same job.
rm -rf st; : >out.txt
checkpointed st "$FILEIO" $N
cp -p out.txt out.saved; cp -p result.dat result.saved
echo "pid victim" >victim2; cp victim2 victim2.orig
ln -sfn ../victim2 st/cairn-run.pid
chmod 0666 "st/$G2"
rc=$(restore_rc err-5)
[ "$rc" -eq 0 ] || fail "5: exit $rc"
grep -q "skipping st/$G2: writable by others" err-5 || fail "5: no message for the image writable by others"
grep -q "job restored from generation 1" err-5 || fail "5: generation 1 not restored"
cmp -s victim2 victim2.orig || fail "4: the pid file's link was followed"
cmp -s out.txt ../ref/out.txt && cmp -s result.dat ../ref/result.dat || fail "5: output differs"
echo "ok 4: a link planted as the pid file is replaced, not followed"
echo "ok 5: an image writable by others is skipped, the previous one restored"

rm -rf st; : >out.txt
checkpointed st "$FILEIO" $N
cp -p out.txt out.saved
chmod 0666 "st/$G1" "st/$G2"
rc=$(restore_rc err-5b)
[ "$rc" -eq 4 ] || fail "5: a store of unusable images gave exit $rc, not 4"
grep -q "refusing to start the job afresh" err-5b || fail "5: no refusal to start afresh"
[ -f "st/$G1" ] && [ -f "st/$G2" ] || fail "5: unusable images were not kept"
chmod 0600 "st/$G1" "st/$G2"
chmod 0666 st/lock
rc=$(restore_rc err-6)
[ "$rc" -eq 4 ] || fail "6: a lock writable by others gave exit $rc, not 4"
grep -q "st/lock: writable by others" err-6 || fail "6: no message naming the lock"
chmod 0600 st/lock
cp -p out.saved out.txt
if [ "$(id -u)" -eq 0 ]; then
    chown 65534 "st/$G2"
    rc=$(restore_rc err-7)
    grep -q "skipping st/$G2: owned by uid 65534, not by you" err-7 || fail "7: no message for the foreign image"
    grep -q "job restored from generation 1" err-7 || fail "7: generation 1 not restored (exit $rc)"
    cmp -s out.txt ../ref/out.txt && cmp -s result.dat ../ref/result.dat || fail "7: output differs"
    echo "ok 7: an image owned by another user is skipped"
else
    finish err-6b
fi
echo "ok 5, 6: unusable images kept and refused; a lock that is not safe is refused"

# 8. A store whose path holds a newline checkpoints and restores.
nl=$(printf 'new\nline')
rm -f out.txt result.dat; : >out.txt
checkpointed "$nl" "$FILEIO" $N
rc=0; "$CAIRN" run --store "$nl" -v -- "$FILEIO" $N >>out.txt 2>err-8 </dev/null || rc=$?
[ $rc -eq 0 ] && grep -q "job restored from generation 2" err-8 || fail "8: exit $rc, not resumed"
cmp -s out.txt ../ref/out.txt && cmp -s result.dat ../ref/result.dat || fail "8: output differs"
echo "ok 8: a newline in the store's path does not matter"
