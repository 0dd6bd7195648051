#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# completion.sh SOURCE_DIR — the bash completion (packaging/bash-completion/
# cairn) against the code (ctest docs_completion): it offers every command of
# cli/commands.h, and for each command exactly the options of its table in
# cli/cmd_CMD.c; and a few completions come out as a user would see them.
set -euo pipefail
src=$1
fails=0
fail() { echo "completion.sh: FAIL: $*"; fails=$((fails + 1)); }
# shellcheck source=/dev/null
. "$src/packaging/bash-completion/cairn"
complete -p cairn >/dev/null || { echo "completion.sh: FAIL: no 'complete' for cairn"; exit 1; }

# Completes the words (the last one is the word being typed).
comp() {
  COMP_WORDS=(cairn "$@")
  COMP_CWORD=$(($# ))
  COMPREPLY=()
  _cairn
  printf '%s\n' "${COMPREPLY[@]}" | sort -u
}

commands=$(sed -nE 's/^ *X\(([a-z]+), ".*/\1/p' "$src/cli/commands.h" | sort -u)
offered=$(comp "" | grep -v '^-' | grep -vx help)
[ "$commands" = "$offered" ] || fail "commands offered: $(echo $offered); cli/commands.h: $(echo $commands)"
for c in $commands; do
  table=$(sed -n '/struct cli_opt opts\[\] *=/,/};/p' "$src/cli/cmd_$c.c" |
    grep -oE '\{"[a-z-]+", *('"'"'.'"'"'|0)' |
    sed -E "s/\{\"([a-z-]+)\", *('(.)'|0)/--\1\n-\3/" | grep -vx -- - | sort -u)
  got=$(comp "$c" -)
  [ "$table" = "$got" ] || fail "cairn $c -<TAB>: $(echo $got); cli/cmd_$c.c: $(echo $table)"
done
echo "completion.sh: every command, and each command's options:" $commands

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
mkdir store.ckpt other
touch notes.txt
[ "$(comp ins)" = inspect ] || fail "cairn ins<TAB> is not inspect: $(comp ins)"
[ "$(comp run --store s)" = store.ckpt ] || fail "cairn run --store s<TAB>: $(comp run --store s)"
[ "$(comp ls o)" = other ] || fail "cairn ls o<TAB> (directories): $(comp ls o)"
[ "$(comp run --signal TE)" = TERM ] || fail "cairn run --signal TE<TAB>: $(comp run --signal TE)"
[ "$(comp run -- pyth | grep -c '^python3$')" = 1 ] || ! command -v python3 >/dev/null ||
  fail "cairn run -- pyth<TAB> does not offer python3"
[ "$(comp run -- python3 no)" = notes.txt ] || fail "cairn run -- python3 no<TAB>: $(comp run -- python3 no)"
[ "$(comp help ad)" = advise ] || fail "cairn help ad<TAB>: $(comp help ad)"
[ "$(comp --ver)" = --version ] || fail "cairn --ver<TAB>: $(comp --ver)"
[ $fails -eq 0 ] || { echo "completion.sh: $fails failures"; exit 1; }
echo "completion.sh: PASS"
