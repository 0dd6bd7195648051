#!/bin/sh
# SPDX-License-Identifier: MIT
# eintr.sh — checkpoints do not end the job's waits (runtime/eintr.c):
# progs/eintr_waits blocks, in the main thread and in a thread per kind,
# in every wait a signal handler can end with EINTR (poll, ppoll, select,
# pselect, epoll_wait/pwait/pwait2, the sleeps, sleep(), usleep(), the
# signal waits, sem_timedwait, pthread_cond_timedwait) or that SA_RESTART
# restarts (sem_wait, read, flock, OFD locks), while cairn run checkpoints
# it every 50 ms:
#   1. its output equals an uninterrupted run's (which says that no wait
#      ended early), with many checkpoints committed;
#   2. the same job also waiting on a SysV semaphore and message queue
#      (saved by the namespace init, cli/run_ipc.c): checkpoints committed
#      too, and none of its waits, semop and msgrcv included, ends early.
# (cycle.sh runs the first job through SIGKILLs and restores too:
# transparent_eintr_waits.)
#   eintr.sh CAIRN EINTR_WAITS
set -eu
CAIRN=$1; PROG=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-eintr.XXXXXX")
CPID=
trap '[ -z "$CPID" ] || kill_tree "$CPID"; rm -rf "$W"' EXIT
cd "$W"
fail() { echo "FAIL: $*" >&2; tail -n 5 out* err* >&2 || true; exit 1; }
N=300 # steps of ~15 ms each: about 90 checkpoints are due meanwhile
# count WORDS FILE: the number before WORDS in cairn's summary line.
count() { sed -n "s/.*: \([0-9]*\) $1.*exit status.*/\1/p" "$2"; }
# has_taken STORE K: generation K or a later one is in STORE (or cairn ended).
has_taken() {
    _g=$(newest "$1" | sed 's/^ckpt-0*\([0-9]*\)\.cairn$/\1/')
    [ "${_g:-0}" -ge "$2" ] || ended "$CPID"
}
# The job waits before its last line until the gate exists (progress.h):
# opened once 5 checkpoints were committed, however slow the machine.
for mode in "" sysv; do
    env -u CAIRN_TEST_GATE "$PROG" $N $mode >ref$mode.txt 2>&1 || fail "reference run ($mode) failed"
    grep -q "none ended early" ref$mode.txt || fail "the reference run ($mode) saw EINTR"
    CAIRN_TEST_GATE="$W/gate$mode" "$CAIRN" run --output direct --interval 0.05 --store st$mode \
        -- "$PROG" $N $mode >out$mode.txt 2>err$mode.txt &
    CPID=$!
    poll_until 600 "5 checkpoints of the job ($mode)" has_taken st$mode 5
    : >"$W/gate$mode"
    rc=0; wait "$CPID" || rc=$?; CPID=
    [ $rc -eq 0 ] || fail "cairn run ($mode) exited $rc"
    cmp -s ref$mode.txt out$mode.txt || fail "($mode) $(tail -n 1 out$mode.txt)"
done
taken=$(count checkpoints err.txt)
[ "${taken:-0}" -ge 5 ] || fail "only ${taken:-0} checkpoints were taken"
sysv=$(count checkpoints errsysv.txt)
[ "${sysv:-0}" -ge 5 ] || fail "only ${sysv:-0} checkpoints of the SysV job were taken"
echo "ok 1: $taken checkpoints, no wait of the job ended early"
echo "ok 2: $sysv checkpoints with SysV IPC, no wait ended early (semop, msgrcv too)"
