#!/bin/sh
# SPDX-License-Identifier: MIT
# same_rules.sh CAIRN SAME_RULES RESTORER — makes a real process image
# (cairn run on /bin/sleep, outside a pid namespace so that the restorer can
# be run directly), then runs faults_same_rules on it (see same_rules.c).
set -eu
CAIRN=$1; SAME=$2; RESTORER=$3
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-same-rules.XXXXXX")
CPID=
cleanup() {
    [ -n "$CPID" ] && kill -9 $(pgrep -P "$CPID" 2>/dev/null) "$CPID" 2>/dev/null || true
    rm -rf "$W"
}
trap cleanup EXIT
cd "$W"
CAIRN_NO_NAMESPACE=1 "$CAIRN" run --store s --interval 0.2 -- /bin/sleep 100000 2>err </dev/null &
CPID=$!
# The event: the first generation committed (the job sleeps forever).
i=0
until [ -f s/ckpt-00000000000000000001.cairn ]; do
    i=$((i + 1))
    [ $i -lt 2000 ] || { cat err >&2; echo "FAIL: no checkpoint was committed" >&2; exit 1; }
    kill -0 "$CPID" 2>/dev/null || { cat err >&2; echo "FAIL: cairn run ended" >&2; exit 1; }
    sleep 0.02
done
kill -9 $(pgrep -P "$CPID") "$CPID" 2>/dev/null || true
wait "$CPID" 2>/dev/null || true
CPID=
"$SAME" "$RESTORER" s/ckpt-00000000000000000001.cairn
