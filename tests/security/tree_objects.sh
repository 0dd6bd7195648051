#!/bin/sh
# SPDX-License-Identifier: MIT
# tree_objects.sh — a process tree's object records (eventfds, timerfds,
# signalfds, AF_UNIX sockets: docs/FORMAT.md, "object") are checked before
# the restorer sees them (format/proc_tree_check.c). Each forged copy of the
# seed (tests/fuzz/corpus/process-objects.cairn: a tree of 2 processes, 5
# records: eventfd, timerfd, socket of the first, eventfd and socket of the
# second), its checksums fixed up, must be reported by `cairn verify` as a
# malformed process tree; the seed itself verifies.
#   tree_objects.sh CAIRN FORGE SEED
set -eu
CAIRN=$1; FORGE=$2; SEED=$3
W=$(mktemp -d "${TMPDIR:-/tmp}/cairn-tree-objects.XXXXXX")
trap 'rm -rf "$W"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
"$CAIRN" verify -q "$SEED" || fail "the seed does not verify"
TREE=0x10c
REC=184 # header 72, 2 members of 48, the objects header of 16
# forged NAME OFFSET HEXBYTES WORDS: the tree section with HEXBYTES at
# OFFSET must be refused, the message matching WORDS.
forged() {
    cp "$SEED" "$W/$1.cairn"
    "$FORGE" "$W/$1.cairn" $TREE 0 "$2" "$3" || fail "$1: cannot forge"
    if "$CAIRN" verify "$W/$1.cairn" >"$W/$1.out" 2>"$W/$1.err"; then
        fail "$1: a forged image verifies"
    fi
    grep -Eq "$4" "$W/$1.err" || fail "$1: not the expected refusal: $(cat "$W/$1.err")"
    echo "ok $1: $(head -c 200 "$W/$1.err")"
}
forged count $((REC - 16)) 06 "counts .* do not fit"
forged kind $((REC + 8)) 0c "object record 0 .* names no live process"
forged pid $((REC + 0)) 63 "object record 0 .* names no live process"
forged later $((REC + 3 * 72 + 12)) 04 "object record 3 .* first record"
forged self_peer $((REC + 2 * 72 + 20)) 02 "its peer is no socket"
forged bytes $((REC + 2 * 72 + 64)) 64 "does not match its pipes and sockets"
forged clock $((REC + 72 + 32)) 63 "makes no sense for a timerfd"
forged twice $((REC + 4 * 72 + 4)) 05 "fd 5 of process 3 listed twice"
echo "ok: 8 forged object records refused"
