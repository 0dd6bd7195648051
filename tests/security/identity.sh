#!/bin/sh
# identity.sh — a rerun resumes only the job it checkpointed (cli/run_ident.c):
#   1. another command line is refused, naming both commands; images kept;
#   2. the same command after the script was edited is refused;
#   3. --fresh sets the old images aside (*.old) and runs the new command;
#   4. the same command resumes.
#   identity.sh CAIRN COUNTER
set -eu
CAIRN=$1; COUNTER=$2
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-identity.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill -9 $(pgrep -P "$CPID" 2>/dev/null) "$CPID" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 5 "$W"/err* >&2 || true; exit 1; }
cd "$W"
G1=ckpt-00000000000000000001.cairn
wait_for() {
    i=0
    until [ -e "$1" ]; do
        i=$((i + 1)); [ $i -lt 3000 ] || fail "$1 never came"
        kill -0 "$CPID" 2>/dev/null || fail "cairn run ended before $1"
        sleep 0.01
    done
}
# checkpointed STORE CMD...: one generation committed, then SIGKILL.
checkpointed() {
    st=$1; shift
    "$CAIRN" run --store "$st" -- "$@" >>out.txt 2>err-start </dev/null &
    CPID=$!
    wait_for "$st/cairn-run.pid"
    "$CAIRN" checkpoint --store "$st" >/dev/null
    wait_for "$st/$G1"
    kill -9 $(pgrep -P "$CPID") "$CPID" 2>/dev/null || true
    wait "$CPID" 2>/dev/null || true
    CPID=
}
"$COUNTER" 3000 >ref.txt
: >out.txt
checkpointed st "$COUNTER" 9000
rc=0; "$CAIRN" run --store st -- "$COUNTER" 3000 >>out.txt 2>err-1 </dev/null || rc=$?
[ $rc -eq 4 ] || fail "1: another command line gave exit $rc, not 4"
grep -q "another command line" err-1 && grep -q "counter 9000" err-1 && grep -q "counter 3000" err-1 ||
    fail "1: the message does not name both commands"
[ -f "st/$G1" ] || fail "1: the image was not kept"
echo "ok 1: another command line is refused, the images kept"

rc=0; "$CAIRN" run --store st --fresh -- "$COUNTER" 3000 >fresh.txt 2>err-3 </dev/null || rc=$?
[ $rc -eq 0 ] || fail "3: --fresh exit $rc"
[ -f "st/$G1.old" ] || fail "3: the old image was not set aside as .old"
grep -q "started fresh" err-3 || fail "3: not started fresh"
cmp -s fresh.txt ref.txt || fail "3: the new command's output differs"
echo "ok 3: --fresh sets the old images aside and runs the new command"

printf 'import time\nfor i in range(60):\n    time.sleep(0.05)\nprint("script v1")\n' >job.py
py=/usr/bin/python3
: >out.txt
checkpointed pst "$py" job.py
printf 'import time\nfor i in range(60):\n    time.sleep(0.05)\nprint("script v2")\n' >job.py
rc=0; "$CAIRN" run --store pst -- "$py" job.py >>out.txt 2>err-2 </dev/null || rc=$?
[ $rc -eq 4 ] || fail "2: an edited script gave exit $rc, not 4"
grep -q "the script has changed" err-2 || fail "2: the message does not say the script changed"
echo "ok 2: an edited script is refused"

printf 'import time\nfor i in range(60):\n    time.sleep(0.05)\nprint("script v1")\n' >job.py
rc=0; "$CAIRN" run --store pst -- "$py" job.py >>out.txt 2>err-4 </dev/null || rc=$?
[ $rc -eq 0 ] && grep -q "job restored from generation 1" err-4 || fail "4: the same command did not resume (exit $rc)"
[ "$(cat out.txt)" = "script v1" ] || fail "4: output '$(cat out.txt)'"
echo "ok 4: the same command resumes"
