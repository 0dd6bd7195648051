#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run.sh — golden-file driver for the cairn CLI tests (in the spirit of
# zstd's tests/cli-tests).
#
#   run.sh [--update] CAIRN MKSTORE CASE.sh...
#
# For each case: makes a fresh temp directory, builds the fixture stores
# there with MKSTORE (see make_fixtures), runs the case with that directory
# as the working directory, masks volatile fields, and compares the
# transcript with CASE.sh.out. With --update, writes CASE.sh.out instead.
# Inside a case, `t CMD...` prints "$ CMD", its stdout, its stderr lines
# prefixed "[stderr] ", and "[exit N]"; `tj FILE CMD...` does the same but
# sends stdout to FILE; `cairn` runs the binary under test; `check FILE
# EXPR...` runs tests/cli/check.py (JSON assertions). Transcripts must not
# contain absolute paths: the suite also runs from a copy of the tree.
set -u
update=0
if [ "${1:-}" = "--update" ]; then update=1; shift; fi
if [ $# -lt 3 ]; then
  echo "usage: run.sh [--update] CAIRN MKSTORE CASE.sh..." >&2
  exit 2
fi
CAIRN=$(realpath "$1"); MKSTORE=$(realpath "$2"); shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
export CAIRN MKSTORE CHECK="$HERE/check.py"
unset CAIRN_COMPRESS CAIRN_INTERVAL CAIRN_KEEP CAIRN_EXIT_CODE CAIRN_STEPS CAIRN_QUIET CAIRN_VERBOSE

# Fixtures, all made by libcairn (names are what the cases use):
#   plain/      3 checkpoints, keep 2: generations 2 and 3
#   zstd/       the same with CAIRN_COMPRESS=zstd:3
#   corrupt/    newest generation has one payload byte flipped (in "data")
#   truncated/  newest generation cut in half
#   zero/       newest generation is an empty file
#   finished/   cairn_complete() was called
#   leftovers/  one generation, a quarantined *.corrupt file and a .tmp-* file
#   notastore/  a directory with an unrelated file
#   empty.cairn a zero-length file; foreign.txt a text file
make_fixtures() {
  local flip
  "$MKSTORE" plain || return 1
  CAIRN_COMPRESS=zstd:3 "$MKSTORE" zstd --size 65536 || return 1
  "$MKSTORE" corrupt --checkpoints 2 || return 1
  flip=$(( $(stat -c %s corrupt/ckpt-00000000000000000002.cairn) - 64 - 100 ))
  printf '\xff' | dd of=corrupt/ckpt-00000000000000000002.cairn bs=1 seek="$flip" \
    conv=notrunc status=none || return 1
  "$MKSTORE" truncated --checkpoints 2 || return 1
  truncate -s 2000 truncated/ckpt-00000000000000000002.cairn || return 1
  "$MKSTORE" zero --checkpoints 2 || return 1
  : > zero/ckpt-00000000000000000002.cairn
  "$MKSTORE" finished --checkpoints 1 --finish || return 1
  "$MKSTORE" leftovers --checkpoints 1 || return 1
  cp plain/ckpt-00000000000000000002.cairn leftovers/ckpt-00000000000000000000.cairn.corrupt
  head -c 300 plain/ckpt-00000000000000000003.cairn > leftovers/.tmp-00000000000000000002-4242
  mkdir notastore && echo hello > notastore/README
  : > empty.cairn
  echo "not an image" > foreign.txt
}

# Volatile fields: creation times, hosts, uids, pids, measured costs (and the
# job section's checksum, which covers the cost), ages, the version.
mask() {
  sed -E \
    -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/<TIME>/g' \
    -e 's/host        .*, uid [0-9]+, pid [0-9]+/host        <HOST>, uid <UID>, pid <PID>/' \
    -e 's/held by pid [0-9]+/held by pid <PID>/' \
    -e 's/last checkpoint cost [0-9.]+ s/last checkpoint cost <COST> s/' \
    -e '/^ +[0-9]+  job  /s/[0-9a-f]{16}/<CHECKSUM>/' \
    -e 's/ +[0-9]+(s|m[0-9]{2}s|h[0-9]{2}m|d[0-9]{2}h)  (ok|finished|corrupt-newest|empty)$/  <AGE>  \2/' \
    -e 's/cairn [0-9]+\.[0-9]+\.[0-9]+/cairn <VERSION>/g'
}

# The helpers a case sees.
helpers='
cairn() { "$CAIRN" "$@"; }
check() { python3 "$CHECK" "$@"; }
# t CMD...: the transcript of one command.
t() {
  local err rc
  err=$(mktemp "$SCRATCH/.stderr.XXXXXX")
  echo "\$ $*"
  "$@" 2>"$err"; rc=$?
  sed "s/^/[stderr] /" "$err"
  rm -f "$err"
  echo "[exit $rc]"
}
# tj FILE CMD...: the same, with the command'"'"'s stdout going to FILE.
tj() {
  local out=$1 err rc
  shift
  err=$(mktemp "$SCRATCH/.stderr.XXXXXX")
  echo "\$ $* > $out"
  "$@" >"$out" 2>"$err"; rc=$?
  sed "s/^/[stderr] /" "$err"
  rm -f "$err"
  echo "[exit $rc]"
}
'

run_case() {
  local case=$1 scratch out status=0
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/cairn-cli-test.XXXXXX") || return 1
  out=$(mktemp "${TMPDIR:-/tmp}/cairn-cli-out.XXXXXX") || { rm -rf "$scratch"; return 1; }
  if ! (cd "$scratch" && make_fixtures) > "$out" 2>&1; then
    echo "FAIL $(basename "$case"): could not make the fixtures:" >&2
    cat "$out" >&2
    status=1
  else
    (cd "$scratch" && SCRATCH="$scratch" bash -c "$helpers"'
      source "$0"' "$case") 2>&1 | mask > "$out"
    if [ $update = 1 ]; then
      cat "$out" > "$case.out"
      echo "updated $case.out"
    elif ! diff -u "$case.out" "$out" >&2; then
      echo "FAIL $(basename "$case"): transcript differs from $case.out (diff above)" >&2
      status=1
    else
      echo "ok   $(basename "$case")"
    fi
  fi
  rm -rf "$scratch" "$out"
  return $status
}

rc=0
for c in "$@"; do
  run_case "$(realpath "$c")" || rc=1
done
exit $rc
