#!/bin/sh
# SPDX-License-Identifier: MIT
# endpoint.sh — the job's registration endpoint (runtime/tree.c,
# cli/run_tree.c: the abstract socket a process that lost fds 3 and 4
# registers on) against another user, and against a lying process of the
# job itself (root only: it makes the users cairn-mallory and cairn-victim).
# The victim (then root) runs python3 with subprocess.run of COUNTER, whose
# default close_fds closes the counter's fds 3 and 4. Abstract names live in
# the network namespace the job shares with the host, and anyone can read
# them in /proc/net/unix, so:
#   1. the job's own python3, before it starts the counter, connects and
#      says "NEW 99999" (not its pid) with a descriptor: refused, no answer;
#   2. mallory connects and says "NEW <the counter's pid>" with a
#      descriptor of hers: refused by uid, no answer (no registration
#      socket, no channel of the job's);
#   3. the counter, registered through the endpoint, is checkpointed with
#      the job (its member image is in the generation) and the job ends as
#      without cairn; cairn's warnings name both refused peers.
#   endpoint.sh CAIRN COUNTER
set -eu
CAIRN=$1; COUNTER=$2
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root (makes two users)"; exit 77; }
command -v python3 >/dev/null || { echo "skipped: no python3"; exit 77; }
M=cairn-mallory; V=cairn-victim
for u in $M $V; do id -u $u >/dev/null 2>&1 || useradd --create-home --shell /bin/sh $u; done
W=$(mktemp -d /tmp/cairn-endpoint.XXXXXX)
chmod 0755 "$W"
PIDS=
cleanup() {
    for p in $PIDS; do kill -9 $(pgrep -P "$p" 2>/dev/null) "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 20 "$W"/*/err* "$W"/*/out.txt >&2 || true; exit 1; }
wait_for() { # what: a shell condition; PID: cairn run, which must still run
    i=0
    until sh -c "$1"; do
        i=$((i + 1)); [ $i -lt 3000 ] || fail "never: $1"
        kill -0 "$2" 2>/dev/null || fail "cairn run ended before: $1"
        sleep 0.01
    done
}
# The job: the lie (1), then the counter under subprocess.run, then the exit.
cat >"$W/job.py" <<'PY'
import array, os, socket, subprocess, sys
name = "\0cairn-register-%d" % os.stat("/proc/self/ns/pid").st_ino
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(name)
a, b = socket.socketpair()
s.sendmsg([b"NEW 99999"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [b.fileno()]))])
s.settimeout(10)
print("job: lie answered", repr(s.recv(16)), flush=True)
for x in (s, a, b):
    x.close()
r = subprocess.run([sys.argv[1], sys.argv[2]])
print("job: counter exited", r.returncode, flush=True)
PY
# Mallory's connection to the endpoint NAME, claiming pid PID.
cat >"$W/mallory.py" <<'PY'
import array, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("\0" + sys.argv[1])
a, b = socket.socketpair()
try:  # cairn may have closed the connection before the record is sent
    s.sendmsg([("NEW %s" % sys.argv[2]).encode()],
               [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [b.fileno()]))])
    s.settimeout(10)
    got = s.recv(16)
except (BrokenPipeError, ConnectionResetError):
    got = b""
print("mallory: answered", repr(got) if got else "nothing")
PY
chmod 0644 "$W/job.py" "$W/mallory.py"

attack() { # VICTIM: one round of 1-3 against VICTIM's job
    v=$1; d="$W/$v"
    mkdir "$d"; chown "$v": "$d"
    runuser -u "$v" -- sh -c 'cd "$1" && CAIRN_TEST_GATE="$1/gate" exec "$2" run --output direct --store st \
        -- python3 "$3" "$4" 3000 >>out.txt 2>err </dev/null' sh "$d" "$CAIRN" "$W/job.py" "$COUNTER" &
    p=$!; PIDS="$PIDS $p"
    wait_for "grep -q 'counter: step' '$d/out.txt' 2>/dev/null" $p
    grep -q "^job: lie answered b''$" "$d/out.txt" || fail "$v: the job's lie got an answer"
    c=$(pgrep -f "^$COUNTER 3000" | while read -r x; do
        [ "$(stat -c %U /proc/$x)" = "$v" ] && echo $x; done | head -n 1)
    [ -n "$c" ] || fail "$v: no counter process"
    ino=$(stat -L -c %i /proc/$c/ns/pid)
    inner=$(awk '/^NSpid:/ {print $NF}' /proc/$c/status)
    grep -q "@cairn-register-$ino" /proc/net/unix || fail "$v: the endpoint is not in /proc/net/unix"
    out=$(runuser -u $M -- python3 "$W/mallory.py" "cairn-register-$ino" "$inner")
    [ "$out" = "mallory: answered nothing" ] || fail "$v: mallory was answered: $out"
    (cd "$d" && runuser -u "$v" -- "$CAIRN" checkpoint --store st --wait >/dev/null) ||
        fail "$v: no checkpoint with the counter registered on the endpoint"
    ls "$d"/st/ckpt-00000000000000000001.p*"$inner".cairn >/dev/null 2>&1 ||
        fail "$v: the counter's member image is not in generation 1"
    touch "$d/gate"; chmod 0644 "$d/gate"
    wait $p || fail "$v: cairn run failed"
    grep -q "^job: counter exited 0$" "$d/out.txt" || fail "$v: the job did not end as without cairn"
    grep -q "refused: process 2 said it is process 99999" "$d/err" ||
        fail "$v: the job's lie is not in cairn's warnings"
    grep -q "refused: pid [0-9]* of uid $(id -u $M) is not of the job's user" "$d/err" ||
        fail "$v: mallory is not in cairn's warnings"
    echo "ok: $v's endpoint refuses the job's lie and mallory; the close_fds child is checkpointed"
}
attack $V
attack root
