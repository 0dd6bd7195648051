#!/bin/sh
# SPDX-License-Identifier: MIT
# process.sh — authenticated and validated process images (`cairn run`):
#   A. images written with a key (--key or $CAIRN_KEY_FILE) carry a MAC:
#      restored with the right key (also after a restore: the restored job's
#      next image is keyed too); refused, and left in place, with a wrong key;
#      a forged newest image (payload altered, every XXH3 checksum fixed up)
#      passes `cairn verify` without a key but is refused with it, and the
#      previous generation is restored instead;
#   B. images written without a key are refused when a key is required;
#      forged records that checksums cannot catch (core, maps, files) are
#      reported by `cairn verify` and by `cairn run`, naming the section,
#      set aside as corrupt, and the previous generation is restored.
# Every restored job must end with the output of an uninterrupted run.
# The counter (tests/transparent/progs) prints a progress line every 2% of
# its work and waits before its last line until $W/gate exists (progress.h):
# checkpoints are asked for after given lines, and the job cannot end before
# it is killed; no step waits for a guessed time (events.sh).
#   process.sh CAIRN FORGE COUNTER
set -eu
# The job's stdout lines are watched as it writes them: direct output
# (committed output, which reaches the file at commits, has its own tests:
# tests/transparent/output.sh and cycle.sh with OUTPUT=committed).
export CAIRN_OUTPUT=direct
CAIRN=$1; FORGE=$2; COUNTER=$3
. "$(cd "$(dirname "$0")" && pwd)/../transparent/events.sh"
N=9000
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-process-sec.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill_tree "$CPID"
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 5 "$W"/err* >&2 || true; exit 1; }
cd "$W"
umask 077
head -c 48 /dev/urandom >key
head -c 48 /dev/urandom >key2
"$COUNTER" $N >ref.txt
export CAIRN_TEST_GATE="$W/gate"
open_gate() { : >"$W/gate"; }
close_gate() { rm -f "$W/gate"; }
G1=ckpt-00000000000000000001.cairn
G2=ckpt-00000000000000000002.cairn
G3=ckpt-00000000000000000003.cairn

kill_run() {
    kill_tree "$CPID" || fail "the killed run's processes did not end"
    CPID=
}
# checkpoint_after DIR LINES GEN: once the job has printed LINES lines in
# out.txt, a checkpoint, until generation GEN is committed in DIR.
checkpoint_after() {
    poll_until 120 "line $2 of the job's output" has_lines out.txt "$2"
    checkpoint_now "$1" "$CPID" || fail "cairn run ended before checkpoint $3"
    poll_until 120 "$1/$(gen_file "$3")" test -f "$1/$(gen_file "$3")"
}
# make_store DIR [cairn run options]: two generations, then SIGKILL.
make_store() {
    d=$1; shift
    close_gate
    : >out.txt
    "$CAIRN" run --store "$d" "$@" -- "$COUNTER" $N >>out.txt 2>err-make </dev/null &
    CPID=$!
    checkpoint_after "$d" 5 1
    checkpoint_after "$d" 10 2
    kill_run
}
# resumed_output: out.txt, emptied before a restore, holds the last part of
# ref.txt and not all of it: the job went on from its checkpoint to the end
# of an uninterrupted run, and did not start over.
resumed_output() {
    n=$(wc -c <out.txt)
    [ "$n" -gt 0 ] && [ "$n" -lt "$(wc -c <ref.txt)" ] && tail -c "$n" ref.txt | cmp -s - out.txt
}
# resume DIR ERRFILE [options]: runs the job to its end from DIR.
resume() {
    d=$1; e=$2; shift 2
    open_gate
    : >out.txt
    "$CAIRN" run --store "$d" -v "$@" -- "$COUNTER" $N >>out.txt 2>"$e" </dev/null ||
        fail "resume from $d failed"
    grep -q 'job restored' "$e" || fail "resume from $d: the job was not restored"
    resumed_output || fail "output differs after resuming from $d"
}
put64() { # little-endian hex of a 64-bit value
    printf '%016x' "$1" | sed 's/../& /g' | awk '{for (i = 8; i >= 1; i--) printf "%s", $i}'
}

# ---- A: keyed -----------------------------------------------------------
make_store keyed --key key
cp -a keyed keyed-forged
# The key (BLAKE2b-256 of the key file) never lands in an image: the job
# holds it only between a request and the writer's fork.
if command -v python3 >/dev/null; then
    python3 - keyed/$G1 keyed/$G2 <<'PY' || fail "the image key is inside an image"
import hashlib, sys
k = hashlib.blake2b(open("key", "rb").read(), digest_size=32).digest()
sys.exit(any(k in open(f, "rb").read() for f in sys.argv[1:]))
PY
fi
cp -a keyed keyed-copy

# A1: wrong key: refused, exit 4, images kept (not set aside as corrupt).
rc=0; "$CAIRN" run --store keyed --key key2 -- "$COUNTER" $N >out.txt 2>err-a1 </dev/null || rc=$?
[ $rc -eq 4 ] || fail "a wrong key gave exit $rc, not 4"
grep -q "cannot be authenticated with the key key2" err-a1 || fail "no authentication message"
grep -q "refusing to start the job afresh" err-a1 || fail "no refusal to start afresh"
[ -f keyed/$G2 ] && [ -f keyed/$G1 ] || fail "images were removed after a wrong key"
ls keyed | grep -q corrupt && fail "an unauthenticated image was set aside as corrupt"

# A2: right key from the environment; the restored job checkpoints again
# (its runtime writes a keyed image), is killed, and restored once more.
close_gate
: >out.txt
CAIRN_KEY_FILE=key "$CAIRN" run --store keyed -v -- "$COUNTER" $N >>out.txt 2>err-a2 </dev/null &
CPID=$!
poll_until 120 "the restore with the right key" has_text err-a2 'job restored'
checkpoint_after keyed 2 3
kill_run
grep -q "restoring .*$G2" err-a2 || fail "generation 2 not restored with the right key"
CAIRN_KEY_FILE=key "$CAIRN" verify -q keyed || fail "the restored job's image does not verify"
rc=0; CAIRN_KEY_FILE=key2 "$CAIRN" verify -q keyed 2>err-a2v || rc=$?
[ $rc -eq 1 ] && grep -q "MAC mismatch" err-a2v || fail "verify with a wrong key: exit $rc"
resume keyed err-a2b --key key
grep -q "restoring .*$G3" err-a2b || fail "generation 3 (written after a restore) not used"

# A3: forged newest: the process name byte in the core record changes,
# every checksum is fixed up. Without a key nothing notices; with it the
# image is refused and generation 1 restored.
"$FORGE" keyed-forged/$G2 0x100 0 3576 58 || fail "forge_image failed"
"$CAIRN" verify -q keyed-forged || fail "forged checksums should fool a keyless verify"
resume keyed-forged err-a3 --key key
grep -q "$G2: cannot be authenticated" err-a3 || fail "forged image not refused"
grep -q "restoring .*$G1" err-a3 || fail "generation 1 not restored after the forgery"
ls keyed-forged | grep -q corrupt && fail "the forged image was set aside as corrupt"

# ---- B: unkeyed, and forged records ------------------------------------
make_store plain
for s in nokey core maps files; do cp -a plain plain-$s; done

# B1: a key is required, the image has no MAC: refused.
rc=0; "$CAIRN" run --store plain-nokey --key key -- "$COUNTER" $N >out.txt 2>err-b1 </dev/null || rc=$?
[ $rc -eq 4 ] || fail "an image without MAC under a key gave exit $rc, not 4"
grep -q "carries no MAC" err-b1 || fail "no message about the missing MAC"

# B2-B4: semantic checks behind the checksums. core: nmaps = 2^61 + 1
# (nmaps * 104 wraps around to a small size); maps: first mapping starts
# at 0x1001; files: the first descriptor is -5.
check_forged() { # DIR TYPE OFFSET HEX EXPECTED-MESSAGE
    "$FORGE" "$1/$G2" "$2" 0 "$3" "$4" || fail "forge_image failed"
    rc=0; "$CAIRN" verify "$1" 2>err-v-$1 || rc=$?
    [ $rc -eq 1 ] || fail "$1: verify exit $rc, not 1"
    grep -q "$5" err-v-$1 || fail "$1: verify does not say '$5'"
    resume "$1" err-r-$1
    grep -q "$5" err-r-$1 || fail "$1: cairn run does not say '$5'"
    grep -q "restoring .*$G1" err-r-$1 || fail "$1: generation 1 not restored"
    [ -f "$1/$G2.corrupt" ] || fail "$1: the forged image was not set aside"
}
check_forged plain-core 0x100 16 "$(put64 2305843009213693953)" "section 0 (core): says"
check_forged plain-maps 0x101 0 "$(put64 4097)" "section 1 (maps): mapping 0 \[0x1001-"
check_forged plain-files 0x103 0 fbffffff "section 2 (files): fd -5"
echo "ok: keyed images restored with the right key only; forged images refused"
