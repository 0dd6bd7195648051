#!/bin/sh
# SPDX-License-Identifier: MIT
# pidns.sh — the job's pid namespace (docs/TRANSPARENT.md, "Process
# identity"), as root and unprivileged:
#   1. the job sees itself as pid 2 with parent 1;
#   2. its exit status and its death by a signal are relayed exactly (the
#      store is finished after an exit, kept after a signal);
#   3. SIGTERM to cairn reaches the job's checkpoint logic through the
#      namespace's init: checkpoint, exit 143, and the rerun restores it;
#   4. a background process the job leaves behind ends with the namespace;
#   5. where the kernel refuses namespaces (here: sysctls set to 0 inside a
#      user namespace of the test's own, if it can make one), cairn warns in
#      one line and runs the job without one.
# No process of the test is left behind.
#   pidns.sh CAIRN COUNTER
set -eu
# The job's stdout lines are watched as it writes them: direct output
# (committed output, which reaches the file at commits, has its own tests:
# tests/transparent/output.sh and cycle.sh with OUTPUT=committed).
export CAIRN_OUTPUT=direct
CAIRN=$1; COUNTER=$2
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/events.sh"
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-pidns.XXXXXX")
cleanup() {
    pkill -9 -f "$W" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 2>/dev/null || true; exit 1; }
cd "$W"
cp "$COUNTER" "$W/counter"
printf '#!/bin/sh\necho "$$ $PPID"\nexit 7\n' >"$W/ids.sh"
printf '#!/bin/sh\nkill -USR2 $$\n' >"$W/die.sh"
printf '#!/bin/sh\nsleep 987654 &\nexit 3\n' >"$W/orphan.sh"
chmod +x "$W"/*.sh

# 1, 2: identity and exit status.
rc=0; "$CAIRN" run --store st1 -- "$W/ids.sh" >out1 2>err1 || rc=$?
[ $rc -eq 7 ] || fail "exit 7 relayed as $rc"
[ "$(cat out1)" = "2 1" ] || fail "the job saw pid/ppid '$(cat out1)', not '2 1'"
[ -f st1/finished ] || fail "the store is not finished after the job exited"
rc=0; "$CAIRN" run --store st2 -- "$W/die.sh" >/dev/null 2>err2 || rc=$?
[ $rc -eq 140 ] || fail "death by SIGUSR2 relayed as $rc, not 140"
[ ! -f st2/finished ] || fail "the store is finished after the job died of a signal"

# 3: SIGTERM -> checkpoint -> 143; the rerun restores and finishes. The
# counter waits at its gate (progress.h) until gate3 exists: it cannot end
# before the SIGTERM, sent once it has printed its fifth progress line.
"$COUNTER" 4000 >ref.txt
CAIRN_TEST_GATE=$W/gate3 "$CAIRN" run --store st3 -v -- "$W/counter" 4000 >>out3 2>err3 </dev/null &
CPID=$!
poll_until 60 "the job's fifth progress line" has_lines out3 5
kill -TERM $CPID
rc=0; wait $CPID || rc=$?
[ $rc -eq 143 ] || fail "SIGTERM: cairn exited $rc, not 143"
ls st3 | grep -q '^ckpt-' || fail "SIGTERM did not leave a checkpoint"
: >gate3
"$CAIRN" run --store st3 -v -- "$W/counter" 4000 >>out3 2>err4 </dev/null ||
    fail "the restore after SIGTERM failed"
grep -q 'job restored' err4 || fail "the rerun did not restore"
cmp ref.txt out3 || fail "output after SIGTERM and restore differs"

# 4: a background process dies with the namespace.
rc=0; "$CAIRN" run --store st5 -- "$W/orphan.sh" 2>err5 || rc=$?
[ $rc -eq 3 ] || fail "orphan.sh: exit $rc"
# The kernel kills it when the namespace's init ends, just before cairn
# exits; wait until it is gone (or fail after 10 s).
gone "sleep 987654"

# 5: the kernel refuses namespaces.
if unshare -Ur true 2>/dev/null; then
    rc=0
    unshare -Ur sh -c 'echo 0 >/proc/sys/user/max_pid_namespaces &&
                       echo 0 >/proc/sys/user/max_user_namespaces &&
                       exec "$0" run --store st6 -- "$1"' "$CAIRN" "$W/ids.sh" >out6 2>err6 ||
        rc=$?
    [ $rc -eq 7 ] || fail "without namespaces: exit $rc, not 7"
    [ "$(grep -c 'warning: the kernel refuses' err6)" = 1 ] || fail "no single warning line"
    # Besides the warning, only cairn's closing summary line.
    [ "$(grep -vc 'checkpoints (.*exit status' err6)" = 1 ] || fail "more than the warning on stderr"
else
    echo "note: cannot make a user namespace here; fallback not exercised"
fi
gone "$W"
echo "ok: pid 2/ppid 1, exit and signal statuses relayed, SIGTERM checkpoints, fallback warns"
