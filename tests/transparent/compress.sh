#!/bin/sh
# SPDX-License-Identifier: MIT
# compress.sh — compressed process images (cairn run --compress, issue 13):
#  1. an uncompressed generation, then a compressed one restored from it
#     (a mixed store); verify, ls and inspect read the compressed image;
#  2. cairn killed while it compresses the next generation: the store
#     keeps the last good one (no new generation, nothing half-written);
#  3. a corrupt compressed memory section: cairn verify fails naming the
#     section; the restore sets the generation aside and resumes the one
#     before, and the job ends with the output of an uninterrupted run.
# The job (counter) waits at its gate (progress.h); every step waits for
# what cairn or the job printed, never for a time.
#   compress.sh CAIRN COUNTER
set -eu
CAIRN=$1; COUNTER=$2
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-compress.XXXXXX")
CPID=
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
. "$HERE/events.sh"
trap '[ -n "$CPID" ] && kill_tree "$CPID"; rm -rf "$W"' EXIT
cd "$W"
N=3000
"$COUNTER" $N >ref.txt
export CAIRN_TEST_GATE=$W/gate
ST=$W/st

# zstd_sections FILE: how many sections of the image FILE are zstd.
zstd_sections() {
    python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off, n = 128, 0
while d[off:off + 4] == b'SECT':
    codec, = struct.unpack_from('<H', d, off + 6)
    data, stored = struct.unpack_from('<QQ', d, off + 16)
    n += codec == 1
    off = (data + stored + 7) & ~7
print(n)
EOF
}
# corrupt FILE: flips a byte in the middle of the largest zstd section's
# payload; prints that section's index.
corrupt() {
    python3 - "$1" <<'EOF'
import struct, sys
p = sys.argv[1]
d = bytearray(open(p, 'rb').read())
off, i, best = 128, 0, None
while d[off:off + 4] == b'SECT':
    codec, = struct.unpack_from('<H', d, off + 6)
    data, stored = struct.unpack_from('<QQ', d, off + 16)
    if codec == 1 and (best is None or stored > best[2]):
        best = (i, data, stored)
    off = (data + stored + 7) & ~7
    i += 1
d[best[1] + best[2] // 2] ^= 0x5a
open(p, 'wb').write(d)
print(best[0])
EOF
}
# run K [OPTIONS]: cairn run number K in the background.
run() {
    _k=$1; shift
    "$CAIRN" run --store "$ST" --output direct -v "$@" -- "$COUNTER" $N \
        >>out.txt 2>>"err$_k" </dev/null &
    CPID=$!
}
progressed() { has_lines out.txt "$1" || ended "$CPID"; }
restored() { has_text "err$1" 'job restored' || ended "$CPID"; }
# checkpoint K: one more generation, after some more progress.
checkpoint() {
    poll_until 120 "run $1: progress" progressed $(($(lines out.txt) + 3))
    _before=$(newest "$ST")
    checkpoint_now "$ST" "$CPID" || fail "run $1: cairn run ended"
    poll_until 120 "run $1: a new generation" newer_than "$ST" "$_before"
}
G1=$(gen_file 1); G2=$(gen_file 2); G3=$(gen_file 3)

# 1. Uncompressed, then compressed from it.
run 1
checkpoint 1
kill_tree "$CPID"; CPID=
[ "$(zstd_sections "$ST/$G1")" -eq 0 ] || fail "1: generation 1 has zstd sections"
run 2 --compress zstd
poll_until 120 "run 2: the restore" restored 2
has_text err2 "restored from generation 1" || fail "1: run 2 did not restore generation 1"
checkpoint 2
kill_tree "$CPID"; CPID=
z=$(zstd_sections "$ST/$G2")
[ "$z" -gt 0 ] || fail "1: generation 2 has no zstd section"
has_text err2 "checkpoint 2 compressed" || fail "1: cairn did not say it compressed"
"$CAIRN" verify --all "$ST" >verify.txt 2>&1 || fail "1: verify: $(cat verify.txt)"
"$CAIRN" ls "$ST" >ls.txt 2>&1 || fail "1: ls: $(cat ls.txt)"
grep -q ' ok' ls.txt || fail "1: ls does not say ok: $(cat ls.txt)"
"$CAIRN" inspect "$ST/$G2" >inspect.txt 2>&1 || fail "1: inspect: $(cat inspect.txt)"
grep -q zstd inspect.txt || fail "1: inspect shows no zstd section"
echo "ok 1: a compressed generation ($z zstd sections) restored from an uncompressed one; verify, ls, inspect read it"

# 2. cairn dies while it compresses generation 3.
CAIRN_TEST_PACK_DIE=3 run 3 --compress zstd
poll_until 120 "run 3: the restore" restored 3
has_text err3 "restored from generation 2" || fail "2: run 3 did not restore generation 2"
poll_until 120 "run 3: progress" progressed $(($(lines out.txt) + 3))
checkpoint_now "$ST" "$CPID" || fail "2: cairn run ended"
rc=0; wait "$CPID" || rc=$?
[ $rc -eq 137 ] || fail "2: cairn run exited $rc, not killed while it compressed"
kill_tree "$CPID"; CPID=
[ "$(newest "$ST")" = "$G2" ] || fail "2: the newest generation is $(newest "$ST"), not 2"
[ ! -e "$ST/$G3" ] || fail "2: a generation 3 exists"
"$CAIRN" verify "$ST" >verify2.txt 2>&1 || fail "2: verify: $(cat verify2.txt)"
echo "ok 2: cairn killed while compressing: generation 2 is still the newest, and valid"

# 3. A corrupt compressed section.
bad=$(corrupt "$ST/$G2")
rc=0; "$CAIRN" verify "$ST/$G2" >verify3.txt 2>&1 || rc=$?
[ $rc -eq 1 ] || fail "3: verify of the corrupt image exited $rc: $(cat verify3.txt)"
grep -q "section $bad" verify3.txt || fail "3: verify does not name section $bad: $(cat verify3.txt)"
: >"$W/gate"
run 4 --compress zstd
rc=0; wait "$CPID" || rc=$?; CPID=
[ $rc -eq 0 ] || fail "3: the last run exited $rc"
has_text err4 "is corrupt" || fail "3: the corrupt generation was not reported"
has_text err4 "restored from generation 1" || fail "3: generation 1 was not restored"
[ -e "$ST/$G2.corrupt" ] || fail "3: generation 2 was not set aside"
cmp ref.txt out.txt || fail "3: the output differs from an uninterrupted run's"
echo "ok 3: a corrupt zstd section named by verify (section $bad); the restore fell back to generation 1; output identical"

# 4. Keyed and compressed: the MAC is made again over the stored form; the
#    image verifies with the key, and a run with the key restores it.
head -c 48 /dev/urandom >key; chmod 600 key
ST=$W/keyed; rm -f out.txt gate
run 5 --compress zstd:3 --key key
checkpoint 5
kill_tree "$CPID"; CPID=
[ "$(zstd_sections "$ST/$G1")" -gt 0 ] || fail "4: the keyed generation has no zstd section"
CAIRN_KEY_FILE=key "$CAIRN" verify "$ST" >verify4.txt 2>&1 || fail "4: verify with the key: $(cat verify4.txt)"
: >"$W/gate"
run 6 --compress zstd --key key
rc=0; wait "$CPID" || rc=$?; CPID=
[ $rc -eq 0 ] || fail "4: the keyed run exited $rc"
has_text err6 "restored from generation 1" || fail "4: the keyed generation was not restored"
cmp ref.txt out.txt || fail "4: the output differs from an uninterrupted run's"
echo "ok 4: a keyed compressed image verifies with its key and restores"
