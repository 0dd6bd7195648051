#!/bin/sh
# attack.sh — one user against another, and against root (root only: it
# makes the users cairn-mallory and cairn-victim with useradd). The victim's
# store is a sticky directory everyone may write to (mode 1777, as a shared
# scratch area often is); mallory plants files in it:
#   1. mallory's own image (a real checkpoint of mallory's job) as the
#      victim's newest generation: the victim skips it (not its file) and
#      restores its own job; mallory's program never runs as the victim;
#   2. the same against root;
#   3. a lock file of mallory's: the victim's cairn run refuses the store
#      instead of running beside another process;
#   4. a symbolic link as cairn-run.pid pointing at a file of the victim's:
#      never followed, the file untouched.
# Mallory rewrites the uid in each planted image's header to the victim's
# (and fixes the checksums: PATCH_UID), as anyone can without a key.
#   attack.sh CAIRN COUNTER PATCH_UID
set -eu
CAIRN=$1; COUNTER=$2; PATCH=$3
[ "$(id -u)" -eq 0 ] || { echo "skipped: needs root (makes two users)"; exit 77; }
M=cairn-mallory; V=cairn-victim
for u in $M $V; do id -u $u >/dev/null 2>&1 || useradd --create-home --shell /bin/sh $u; done
W=$(mktemp -d /tmp/cairn-attack.XXXXXX)
chmod 0755 "$W"
PIDS=
cleanup() {
    for p in $PIDS; do kill -9 $(pgrep -P "$p" 2>/dev/null) "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; tail -n 5 "$W"/*/err* >&2 || true; exit 1; }
G1=ckpt-00000000000000000001.cairn
G2=ckpt-00000000000000000002.cairn
as() { u=$1; shift; runuser -u "$u" -- "$@"; }
wait_for() { # FILE PID
    i=0
    until [ -e "$1" ]; do
        i=$((i + 1)); [ $i -lt 3000 ] || fail "$1 never came"
        kill -0 "$2" 2>/dev/null || fail "cairn run ended before $1"
        sleep 0.01
    done
}
# checkpoint USER DIR STORE N: USER's job in DIR writes generation 1 in
# STORE, then is killed (it was asked for with cairn checkpoint).
checkpoint() {
    u=$1; d=$2; st=$3; n=$4
    runuser -u "$u" -- sh -c 'cd "$1" && exec "$2" run --store "$3" -- "$4" "$5" \
        >>out.txt 2>>err-start </dev/null' sh "$d" "$CAIRN" "$st" "$COUNTER" "$n" &
    p=$!; PIDS="$PIDS $p"
    wait_for "$st/cairn-run.pid" $p
    (cd "$d" && as "$u" "$CAIRN" checkpoint --store "$st" >/dev/null)
    wait_for "$st/$G1" $p
    kill -9 $(pgrep -P $p) $p 2>/dev/null || true
    wait $p 2>/dev/null || true
}
"$COUNTER" 9000 >"$W/ref.txt"
mkdir "$W/m" "$W/v" "$W/r" "$W/shared"
chown $M: "$W/m"; chown $V: "$W/v" "$W/shared"; chmod 1777 "$W/shared"
# Mallory's image: a checkpoint of mallory's own job (another command).
checkpoint $M "$W/m" "$W/m/st" 7777
# 1. The victim's store in the shared sticky directory, generation 1 its
# own; mallory adds generation 2.
mkdir "$W/shared/st"; chown $V: "$W/shared/st"; chmod 1777 "$W/shared/st"
checkpoint $V "$W/v" "$W/shared/st" 9000
as $M cp "$W/m/st/$G1" "$W/shared/st/$G2"; as $M chmod 0644 "$W/shared/st/$G2"
as $M "$PATCH" "$W/shared/st/$G2" "$(id -u $V)"
# run_as USER DIR ERR STORE N: cairn run as USER in DIR, output appended to
# DIR/out.txt (the user's own file); its exit status.
run_as() {
    rc=0
    runuser -u "$1" -- sh -c 'cd "$1" && exec "$2" run --store "$3" -v -- "$4" "$5" \
        >>out.txt 2>"$6" </dev/null' sh "$2" "$CAIRN" "$4" "$COUNTER" "$5" "$3" || rc=$?
    echo $rc
}
rc=$(run_as $V "$W/v" err-1 "$W/shared/st" 9000)
grep -q "skipping .*$G2: owned by uid $(id -u $M), not by you" "$W/v/err-1" ||
    fail "1: mallory's image was not refused by owner"
grep -q "job restored from generation 1" "$W/v/err-1" || fail "1: the victim's own generation not restored (exit $rc)"
cmp -s "$W/v/out.txt" "$W/ref.txt" || fail "1: the victim's output is not its own job's"
echo "ok 1: mallory's image planted in the victim's sticky store is refused"
# 2. The same with root as the victim.
mkdir "$W/r/st"; chmod 1777 "$W/r/st"
checkpoint root "$W/r" "$W/r/st" 9000
as $M cp "$W/m/st/$G1" "$W/r/st/$G2"; as $M chmod 0644 "$W/r/st/$G2"
as $M "$PATCH" "$W/r/st/$G2" 0
rc=$(run_as root "$W/r" err-2 "$W/r/st" 9000)
grep -q "skipping .*$G2: owned by uid $(id -u $M), not by you" "$W/r/err-2" ||
    fail "2: mallory's image was not refused by root"
cmp -s "$W/r/out.txt" "$W/ref.txt" || fail "2: root's output is not its own job's (exit $rc)"
echo "ok 2: root refuses mallory's image too"
# 3. Mallory's lock in a fresh sticky store of the victim's.
mkdir "$W/shared/st3"; chown $V: "$W/shared/st3"; chmod 1777 "$W/shared/st3"
as $M sh -c "umask 077; : >'$W/shared/st3/lock'"
rc=$(run_as $V "$W/v" err-3 "$W/shared/st3" 10)
[ $rc -eq 4 ] || fail "3: a store with mallory's lock gave exit $rc, not 4"
grep -q "st3/lock: " "$W/v/err-3" || fail "3: no message naming the lock"
echo "ok 3: a lock file planted by mallory makes the victim refuse the store"
# 4. A link as the pid file, to a file of the victim's.
mkdir "$W/shared/st4"; chown $V: "$W/shared/st4"; chmod 1777 "$W/shared/st4"
as $V sh -c "echo secret >'$W/v/precious'; chmod 600 '$W/v/precious'"
as $M ln -s "$W/v/precious" "$W/shared/st4/cairn-run.pid"
rc=$(run_as $V "$W/v" err-4 "$W/shared/st4" 10)
[ "$rc" -eq 0 ] || fail "4: the job failed (exit $rc)"
[ "$(cat "$W/v/precious")" = secret ] || fail "4: the victim's file was written through the link"
echo "ok 4: a link planted as the pid file is never followed"
