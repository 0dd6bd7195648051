#!/bin/sh
# SPDX-License-Identifier: MIT
# config.sh — cairn run is configured like libcairn (issue 12): the same
# CAIRN_* variables with the same meaning, durations with units, a bad value
# named on stderr, and a command-line flag winning over its variable. The
# job (counter) waits at its gate (progress.h), so nothing depends on speed:
# every step waits for what cairn printed.
#   config.sh CAIRN COUNTER
set -eu
CAIRN=$1; COUNTER=$2
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-config.XXXXXX")
CPID=
fail() { echo "FAIL: $*" >&2; cat "$W"/err* >&2 || true; exit 1; }
. "$HERE/events.sh"
trap '[ -n "$CPID" ] && kill_tree "$CPID"; rm -rf "$W"' EXIT
cd "$W"

# 1. CAIRN_INTERVAL (with a unit) and CAIRN_VERBOSE, no flags: periodic
#    checkpoints, each said.
CAIRN_TEST_GATE=$W/gate1 CAIRN_INTERVAL=0.2s CAIRN_VERBOSE=1 "$CAIRN" run --store s1 -- \
    "$COUNTER" 50 >out1 2>err1 &
CPID=$!
poll_until 120 "1: a periodic checkpoint" has_text err1 "checkpoint 1 committed"
: >gate1
rc=0; wait $CPID || rc=$?; CPID=
[ $rc -eq 0 ] || fail "1: exit $rc"
grep -q "ignoring" err1 && fail "1: a variable was ignored"
echo "ok 1: CAIRN_INTERVAL=0.2s and CAIRN_VERBOSE=1 honoured"

# 2. CAIRN_EXIT_CODE=85: the run ends with 85 after a periodic checkpoint.
rc=0; CAIRN_TEST_GATE=$W/gate2 CAIRN_INTERVAL=0.2 CAIRN_EXIT_CODE=85 \
    "$CAIRN" run --store s2 -- "$COUNTER" 50 >out2 2>err2 || rc=$?
[ $rc -eq 85 ] || fail "2: exit $rc, not 85"
[ -n "$(newest s2)" ] || fail "2: no image"
echo "ok 2: CAIRN_EXIT_CODE=85 honoured"

# 3. The flag wins over its variable.
rc=0; CAIRN_TEST_GATE=$W/gate3 CAIRN_INTERVAL=0.2 CAIRN_EXIT_CODE=85 \
    "$CAIRN" run --store s3 --exit-code 86 -- "$COUNTER" 50 >out3 2>err3 || rc=$?
[ $rc -eq 86 ] || fail "3: exit $rc, not 86"
echo "ok 3: --exit-code wins over CAIRN_EXIT_CODE"

# 4. A bad value is named, and the default used.
rc=0; CAIRN_INTERVAL=soon "$CAIRN" run --store s4 -- true >out4 2>err4 || rc=$?
[ $rc -eq 0 ] || fail "4: exit $rc"
grep -q 'CAIRN_INTERVAL="soon"' err4 || fail "4: the bad value is not named"
echo "ok 4: a bad CAIRN_INTERVAL is named on stderr"
