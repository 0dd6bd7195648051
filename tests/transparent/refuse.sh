#!/bin/sh
# refuse.sh — jobs cairn cannot checkpoint run on exactly as without cairn,
# and each refused checkpoint says why:
#   1. a job that execs a static binary (no runtime there): never sent the
#      checkpoint signal, which would kill it;
#   2. a job that blocks every signal: the checkpoint is refused at once
#      instead of waiting for ever.
#   refuse.sh CAIRN STATIC BLOCKER
set -eu
CAIRN=$1; STATIC=$2; BLOCKER=$3
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
rc=0; "$CAIRN" run --store s2 --interval 0.1 -- "$BLOCKER" >out2 2>err2 || rc=$?
[ $rc -eq 0 ] || fail "2: exit $rc"
grep -q "blocked done" out2 || fail "2: no output"
grep -q "blocks cairn's checkpoint signal" err2 || fail "2: no message"
echo "ok 2: a job blocking every signal runs to its end, each checkpoint refused"
