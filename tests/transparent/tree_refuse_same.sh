#!/bin/sh
# SPDX-License-Identifier: MIT
# tree_refuse_same.sh — issue 11's promise: a job cairn cannot checkpoint
# still runs to the same result. Each job of trees.cmake (and two more) is
# run without cairn, then under `cairn run --interval 0.2`; the second run
# must end with the same stdout, the same files and the same exit status,
# and its stderr must show what cairn did: committed checkpoints ("N
# checkpoints" with N > 0 in cairn's summary) or refusals naming the
# resource ("checkpoint not taken: ... child process / pipe / socket /
# shared memory ..."), which is checked for what cairn printed while the
# job surely ran (up to the opening of its gate; a request landing as the
# job exits may be refused for that reason instead). The jobs holding IPC
# objects cairn restores must be committed.
#
# No step depends on the machine's speed: besides the periodic requests,
# each job is held at its gate (CAIRN_TEST_GATE, progress.h; the python
# jobs poll it the same way) until `cairn checkpoint --wait`, sent once it
# has printed half its reference output, has been answered (committed or
# refused); so every job gets at least one request while it runs.
#
# The last jobs stay refused whatever issue 11 brings: python3 holding a
# TCP connection, then an AF_UNIX one, to a listener outside the job
# (started here). The request sent while the connection is open must be
# refused naming the socket and its peer (the listener's address:port, its
# path) (a periodic one may be committed before python3 has connected).
#
#   tree_refuse_same.sh CAIRN BINDIR TREESDIR
# BINDIR holds the programs of progs/ (counter, tree_*), TREESDIR the job
# scripts (tree_wrapper.sh, tree_pool.sh). Exits 77 without python3 or gzip.
set -eu
CAIRN=$1; B=$2; T=$3
# It follows the jobs' output as they write it, also when every checkpoint
# is refused: live output (committed output holds it until a commit).
export CAIRN_OUTPUT=direct
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
for p in /usr/bin/python3 gzip; do
    command -v $p >/dev/null 2>&1 || { echo "skipped: $p is not installed"; exit 77; }
done
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-tree-refuse.XXXXXX")
CPID='' LPID='' PEER=''
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    [ -n "$LPID" ] && kill $LPID 2>/dev/null
    [ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
CASE=
fail() {
    echo "FAIL: $CASE: $*" >&2
    for f in "$W/$CASE"/ref/err "$W/$CASE"/job/err "$W/$CASE"/wait.err; do
        [ -f "$f" ] && { echo "--- $f:" >&2; tail -20 "$f" >&2; }
    done
    exit 1
}

# The words a refusal of these jobs may give (docs/TRANSPARENT.md, step 5;
# with process trees also "process N (name) of the job has no channel to
# cairn ... or has just started", for a child forked a moment before).
RESOURCE='child process|process [0-9]|pipe|socket|shared memory|mapping|epoll|mqueue|message queue|semaphore|SysV|IPC|fd [0-9]*( is|:)|deleted'

# same NAME "FILES" STAY_REFUSED PROG ARGS...: runs PROG ARGS without cairn,
# then under cairn, in fresh directories, and compares (see above).
# STAY_REFUSED=yes: the request at half the output must be refused naming a
# socket (and PEER, a regular expression, if set); taken: it must be
# committed (what cairn restores: SysV semaphores, message queues and shared
# memory, POSIX message queues); notify: a refusal must name an mq_notify
# registration, undo: a SEM_UNDO adjustment; nogate: PROG has no gate (a
# real program) and may end before the request at half its output is
# answered. SETUP, if set, is run first in
# both directories.
same() {
    CASE=$1 files=$2 stay=$3; shift 3
    D=$W/$CASE
    mkdir -p "$D/ref" "$D/job"
    if [ -n "${SETUP:-}" ]; then
        (cd "$D/ref" && sh -c "$SETUP") && (cd "$D/job" && sh -c "$SETUP")
    fi
    ref_rc=0
    (cd "$D/ref" && env -u CAIRN_TEST_GATE "$@" >out 2>err </dev/null) || ref_rc=$?
    half=$(($(lines "$D/ref/out") / 2))
    [ "$half" -ge 1 ] || fail "the job printed $(lines "$D/ref/out") lines without cairn"
    (cd "$D/job" && CAIRN_TEST_GATE=$D/gate exec "$CAIRN" run --store st --interval 0.2 -- "$@" \
        >out 2>err </dev/null) &
    CPID=$!
    poll_until 300 "line $half of the job's output" sh -c \
        "[ \$(wc -l <'$D/job/out') -ge $half ] || ! kill -0 $CPID 2>/dev/null"
    wrc=6
    if [ "$stay" != nogate ]; then
        running "$CPID" || fail "cairn run ended before its gate was opened"
        checkpoint_now "$D/job/st" "$CPID" || fail "cairn run ended before the checkpoint request"
    else
        poll_until 60 "cairn run writing st/cairn-run.pid" owns_store_or_ended "$D/job/st" "$CPID"
    fi
    if running "$CPID"; then
        wrc=0
        "$CAIRN" checkpoint --store "$D/job/st" --wait --timeout 120 >"$D/wait.out" \
            2>"$D/wait.err" || wrc=$?
    fi
    # 6: the job ended first, which only a job without a gate may do.
    [ $wrc -eq 0 ] || [ $wrc -eq 7 ] || { [ $wrc -eq 6 ] && [ "$stay" = nogate ]; } ||
        fail "cairn checkpoint --wait exited $wrc (0 or 7 wanted)"
    [ "$stay" != taken ] || [ $wrc -eq 0 ] ||
        fail "cairn checkpoint --wait exited $wrc: not committed ($(cat "$D/wait.err"))"
    if [ "$stay" = yes ]; then
        # Refused, and for the socket; a periodic request of the moment may
        # have met another refusal first (the answer is the first one after
        # the request), so up to 5 requests are made while the job, at its
        # gate, holds the connection.
        k=1
        until grep -Eq "refused: (process [0-9]*: )?fd [0-9]* is a socket${PEER:+.*$PEER}" "$D/wait.err"; do
            [ $wrc -eq 7 ] || fail "cairn checkpoint --wait exited $wrc, not 7 (refused)"
            [ $k -lt 5 ] || fail "5 requests refused, none naming the socket"
            k=$((k + 1)); wrc=0
            "$CAIRN" checkpoint --store "$D/job/st" --wait --timeout 120 >"$D/wait.out" \
                2>"$D/wait.err" || wrc=$?
        done
        [ $wrc -eq 7 ] || fail "cairn checkpoint --wait exited $wrc, not 7 (refused)"
    fi
    # What cairn said while the job surely ran (held at its gate, or
    # answering the request): a request that lands as the job exits may be
    # refused or fail for that reason instead ("the job's main thread has
    # exited", "the job's writer ended without a report"), which is fine.
    head -n "$(lines "$D/job/err")" "$D/job/err" >"$D/job/err.held"
    : >"$D/gate"
    rc=0; wait "$CPID" || rc=$?; CPID=
    [ $rc -eq $ref_rc ] || fail "cairn run exited $rc, the job without cairn $ref_rc"
    cmp "$D/ref/out" "$D/job/out" || fail "stdout differs"
    for f in $files; do cmp "$D/ref/$f" "$D/job/$f" || fail "$f differs"; done
    taken=$(sed -n 's/^cairn: .*: \([0-9]*\) checkpoints (.*/\1/p' "$D/job/err" | tail -n 1)
    [ -n "$taken" ] || fail "no summary line from cairn run"
    refused=$(grep -c '^cairn: checkpoint not taken: ' "$D/job/err" || true)
    [ "$taken" -gt 0 ] || [ "$refused" -gt 0 ] || fail "no checkpoint taken and none refused"
    bad=$(grep '^cairn: checkpoint not taken: ' "$D/job/err.held" | grep -Ev "$RESOURCE" |
          head -n 1 || true)
    [ -z "$bad" ] || fail "a refusal names no resource: $bad"
    if [ $wrc -eq 7 ]; then
        grep -Eq "refused: .*($RESOURCE)" "$D/wait.err" ||
            fail "cairn checkpoint --wait's refusal names no resource: $(cat "$D/wait.err")"
    fi
    if [ "$stay" = yes ]; then
        grep -Eq "^cairn: checkpoint not taken: (process [0-9]*: )?fd [0-9]* is a socket${PEER:+.*$PEER}" \
            "$D/job/err.held" || fail "no refusal names the socket${PEER:+ and its peer $PEER}"
    fi
    case $stay in
    notify) want='POSIX message queue .* has an mq_notify registration' ;;
    undo) want='SysV semaphore set [0-9]* holds a SEM_UNDO adjustment' ;;
    *) want= ;;
    esac
    if [ -n "$want" ]; then
        grep -q "^cairn: checkpoint not taken: .*$want" "$D/job/err.held" ||
            fail "no refusal names it ($want)"
    fi
    first=$(grep -m 1 '^cairn: checkpoint not taken: ' "$D/job/err" | cut -c30- || true)
    echo "ok $CASE: exit $rc, output identical ($(wc -c <"$D/job/out") bytes);" \
         "$taken checkpoints, $refused refused${first:+ (\"$first\")}"
}

same wrapper "" no /bin/bash "$T/tree_wrapper.sh" "$B/counter" 6000 30
same pipeline "out.gz" no /bin/sh -c "($B/tree_pipeline 16 | gzip -n -9 > out.gz) 2>&1"
same forkwait "" no "$B/tree_forkwait" 40
same forkwait_exit7 "" no /bin/sh -c "$B/tree_forkwait 20; exit 7"
same popen "" no "$B/tree_popen" 8000
same shm_posix "" no "$B/tree_shm" posix 20
same shm_sysv "" taken "$B/tree_shm" sysv 20
same mq "" taken "$B/tree_mq" 30
same msg_sysv "" taken "$B/tree_mq" sysv 30
same shm_sysvseg "" taken "$B/tree_shm" sysv-shm 20
same mq_notify "" notify "$B/tree_mq" notify 30
same sem_undo "" undo "$B/tree_shm" sysv-undo 20
same epoll "" no "$B/tree_epoll" 40
same pool "" no /bin/sh "$T/tree_pool.sh" 24
# A descriptor in flight in a socketpair inside the job (SCM_RIGHTS): the
# checkpoint is refused naming it, the job runs on (tree_fds.c scm).
PEER=SCM_RIGHTS
same scm "" yes "$B/tree_fds" scm 40
PEER=
# xz keeps a pipe to itself (fd 4); a real program, without a gate: the
# periodic requests (every 0.2 s of its ~2 s) are what it surely gets.
if command -v xz >/dev/null 2>&1; then
    SETUP="seq 1 600000 > big"
    same xz "" nogate xz -T1 -c big
    SETUP=
else
    echo "skip xz: not installed"
fi

# The listener, outside the job: echoes each line it gets, one connection
# after another (the run without cairn, then the one under it).
/usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    c, _ = s.accept()
    f = c.makefile("rwb")
    for line in f:
        f.write(line)
        f.flush()
    c.close()
' "$W/port" </dev/null >/dev/null 2>"$W/listener.err" &
LPID=$!
CASE=tcp
poll_until 60 "the listener's port" test -f "$W/port"
PEER="127\.0\.0\.1:$(cat "$W/port")"
same tcp "" yes /usr/bin/python3 -c '
import os, socket, sys, time
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
f = c.makefile("rwb")
s = 0
for k in range(40):
    for i in range(k * 100000, (k + 1) * 100000):
        s = (s * 31 + i * i) % 1000000007
    f.write(b"%d %d\n" % (k, s)); f.flush()
    print("tcp: echoed", f.readline().decode().strip(), flush=True)
gate = os.environ.get("CAIRN_TEST_GATE")
while gate and not os.path.exists(gate):
    time.sleep(0.005)
print("tcp:", s, flush=True)
' "$(cat "$W/port")"
PEER=

# The same over an AF_UNIX socket to a listener outside the job: refused
# naming the fd and the listener's path (its peer).
/usr/bin/python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(4)
while True:
    c, _ = s.accept()
    f = c.makefile("rwb")
    for line in f:
        f.write(line)
        f.flush()
    c.close()
' "$W/unix.sock" </dev/null >/dev/null 2>"$W/unix-listener.err" &
LPID="$LPID $!"
CASE=unix
poll_until 60 "the AF_UNIX listener" test -S "$W/unix.sock"
PEER="outside the job.*$W/unix.sock"
same unix "" yes /usr/bin/python3 -c '
import os, socket, sys, time
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
f = c.makefile("rwb")
s = 0
for k in range(40):
    for i in range(k * 100000, (k + 1) * 100000):
        s = (s * 31 + i * i) % 1000000007
    f.write(b"%d %d\n" % (k, s)); f.flush()
    print("unix: echoed", f.readline().decode().strip(), flush=True)
gate = os.environ.get("CAIRN_TEST_GATE")
while gate and not os.path.exists(gate):
    time.sleep(0.005)
print("unix:", s, flush=True)
' "$W/unix.sock"
PEER=
