#!/bin/sh
# SPDX-License-Identifier: MIT
# fatal.sh FORTRAN_API DIR — a call without stat= that fails (cairn_protect
# of a strided section) stops the program: status 1, a message naming the
# call and the reason, and gfortran's ERROR STOP.
set -u
api=$1 dir=$2
rm -rf "$dir" && mkdir -p "$dir" || exit 1
"$api" "$dir" fatal 2>"$dir/err"
rc=$?
cat "$dir/err"
[ $rc -eq 1 ] || { echo "fatal.sh: exit status $rc, not 1"; exit 1; }
grep -q 'cairn: cairn_protect("strided"): invalid argument' "$dir/err" ||
  { echo "fatal.sh: no message naming cairn_protect"; exit 1; }
grep -q 'ERROR STOP 1' "$dir/err" || { echo "fatal.sh: no ERROR STOP"; exit 1; }
rm -rf "$dir"
echo "fatal.sh: the failed call stopped the program with a message"
