#!/bin/sh
# SPDX-License-Identifier: MIT
# real.sh — unmodified Debian programs under cairn run (see cycle.sh):
#   real.sh CAIRN python|bc|gzip|sha256sum|gawk
# Exits 77 (skipped) when the program is not installed.
#
# cycle.sh places its kills by the lines a job has written, so each input
# makes its program write as it goes: the Python loop prints a line every
# 2,000,000 iterations (flushed), bc prints each of eight results as it has
# it, gzip -c writes compressed blocks all along (its newlines count), and
# sha256sum prints a line per file, the awk loop a line per million
# iterations (gawk keeps its alternate signal stack in its heap, which
# cairn's writer must not run on). The programs themselves are unchanged
# and cannot wait for a gate: NOGATE=1.
set -eu
CAIRN=$1; HERE=$(dirname "$0")
need() { command -v "$1" >/dev/null 2>&1 || { echo "skipped: $1 is not installed"; exit 77; }; }
export NOGATE=1
case $2 in
python)
    need /usr/bin/python3
    SETUP="printf 's = 0\nfor k in range(12):\n    for i in range(k * 2000000, (k + 1) * 2000000):\n        s += i * i %% 7\n    print(k, s, flush=True)\nprint(s)\n' > loop.py" \
        exec "$HERE/cycle.sh" "$CAIRN" 3 "" /usr/bin/python3 loop.py ;;
bc)
    need bc
    SETUP="printf 'scale=1000\n4*a(1)\ne(1)\nl(2)\nl(3)\ns(1)\nl(5)\ne(1/2)\nl(7)\nquit\n' > f.bc" \
        exec "$HERE/cycle.sh" "$CAIRN" 3 "" bc -l f.bc ;;
gzip)
    need gzip
    # big gets one mtime in both directories: gzip stores it in its header.
    SETUP="seq 1 15000000 > big && touch -d @1000000000 big" exec "$HERE/cycle.sh" "$CAIRN" 3 "" gzip -c big ;;
sha256sum)
    need sha256sum
    SETUP="seq 1 10000000 > big" exec "$HERE/cycle.sh" "$CAIRN" 3 "" sha256sum big big big big big big big big ;;
gawk)
    need gawk
    SETUP="printf 'BEGIN { s = 0\n  for (k = 0; k < 12; k++) {\n    for (i = k * 1000000; i < (k + 1) * 1000000; i++) s = (s + i * i) %% 1000003\n    print k, s; fflush()\n  }\n  print s\n}\n' > loop.awk" \
        exec "$HERE/cycle.sh" "$CAIRN" 3 "" gawk -f loop.awk ;;
esac
echo "unknown program $2" >&2; exit 2
