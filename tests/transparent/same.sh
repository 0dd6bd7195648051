#!/bin/sh
# SPDX-License-Identifier: MIT
# same.sh — runs PROG once without cairn and once under `cairn run` (no
# checkpoint asked), each in a fresh directory: its stdout and exit status
# must be the same. For behaviour the runtime's interposition could change
# by itself (progs/vfork_handler.c).
#
#   same.sh CAIRN PROG [ARGS...]
set -eu
CAIRN=$1; shift
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-same.XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir "$W/ref" "$W/job"
ref=0; (cd "$W/ref" && "$@" >out.txt 2>err.txt </dev/null) || ref=$?
job=0; (cd "$W/job" && "$CAIRN" run --store st -- "$@" >out.txt 2>err.txt </dev/null) || job=$?
cmp -s "$W/ref/out.txt" "$W/job/out.txt" ||
    { echo "FAIL: stdout differs: without cairn '$(cat "$W/ref/out.txt")'," \
           "under cairn run '$(cat "$W/job/out.txt")'" >&2; cat "$W/job/err.txt" >&2; exit 1; }
[ $ref -eq $job ] || { echo "FAIL: exit $ref without cairn, $job under cairn run" >&2; exit 1; }
echo "ok: the same stdout and exit status ($ref): $(cat "$W/job/out.txt")"
