#!/bin/sh
# SPDX-License-Identifier: MIT
# real.sh — unmodified Debian programs under cairn run (see cycle.sh):
#   real.sh CAIRN python|bc|gzip|sha256sum
# Exits 77 (skipped) when the program is not installed.
set -eu
CAIRN=$1; HERE=$(dirname "$0")
need() { command -v "$1" >/dev/null 2>&1 || { echo "skipped: $1 is not installed"; exit 77; }; }
case $2 in
python)
    need /usr/bin/python3
    SETUP="printf 's=0\nfor i in range(40000000): s+=i*i%%7\nprint(s)\n' > loop.py" \
        exec "$HERE/cycle.sh" "$CAIRN" 3 "" /usr/bin/python3 loop.py ;;
bc)
    need bc
    SETUP="printf 'scale=2800; 4*a(1)\nquit\n' > pi.bc" exec "$HERE/cycle.sh" "$CAIRN" 3 "" bc -l pi.bc ;;
gzip)
    need gzip
    # big gets one mtime in both directories: gzip stores it in its header.
    SETUP="seq 1 15000000 > big && touch -d @1000000000 big" exec "$HERE/cycle.sh" "$CAIRN" 3 "" gzip -c big ;;
sha256sum)
    need sha256sum
    SETUP="seq 1 15000000 > big" exec "$HERE/cycle.sh" "$CAIRN" 3 "" sha256sum big big big big big big ;;
esac
echo "unknown program $2" >&2; exit 2
