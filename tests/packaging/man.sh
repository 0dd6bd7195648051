#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# man.sh SOURCE_DIR MAN_DIR CAIRN — the manual pages against the code (ctest
# docs_man). MAN_DIR is the build's man/ (man1/, man3/, as installed).
#  - every page renders with no groff warning, and man -M finds every page,
#    the function pages (.so) included;
#  - every command of `cairn --help` has a page, listed in cairn(1);
#  - each cairn-CMD(1) names exactly the options of the command's table in
#    cli/cmd_CMD.c (long and short);
#  - libcairn(3) lists every CAIRN_* variable libcairn reads
#    (lib/options.c) and no other, and every error code of cairn.h with its
#    value; the variables of cairn-run(1) are read by cli/;
#  - the version in each page's footer is `cairn --version`'s.
set -euo pipefail
src=$1 man=$2 cairn=$3
fails=0
fail() { echo "man.sh: FAIL: $*"; fails=$((fails + 1)); }
# The text of a page's section (roff source), from .SH NAME to the next .SH.
section() { awk -v s=".SH $2" '$0 == s {on = 1; next} /^\.SH / {on = 0} on' "$1"; }
# Options in roff source: \-\-name and \-x, as --name and -x.
options_in() {
  sed 's/\\-/-/g; s/\\f[BIRP]//g' | grep -oE '(^|[^a-zA-Z0-9_-])(--[a-z][a-z-]*|-[a-zA-Z]\b)' |
    sed -E 's/^[^-]*//' | sort -u
}

version=$("$cairn" --version | sed 's/^cairn //')
pages=("$man"/man1/*.1 "$man"/man3/*.3)
for p in "${pages[@]}"; do
  name=$(basename "$p")
  if grep -q '^\.so ' "$p"; then
    target=$(sed -n 's/^\.so //p' "$p")
    [ -f "$man/$target" ] || fail "$name points to $target, which does not exist"
  else
    warn=$(groff -man -ww -z -Tutf8 "$p" 2>&1) || true
    [ -z "$warn" ] || fail "$name: groff warns: $warn"
    grep -q "^\.TH .* \"cairn $version\"" "$p" || fail "$name: footer is not \"cairn $version\""
  fi
  MANPATH= man -M "$man" -w "${name%.*}" >/dev/null 2>&1 || fail "man -M $man cannot find ${name%.*}"
done
echo "man.sh: ${#pages[@]} pages render without warnings and man finds them"

commands=$("$cairn" --help | sed -nE 's/^  ([a-z]+) {2,}[a-z].*/\1/p')
for c in $commands; do
  page=$man/man1/cairn-$c.1
  [ -f "$page" ] || { fail "no page cairn-$c.1 for 'cairn $c'"; continue; }
  grep -q "^\.BR cairn\\\\-$c (1)" "$man/man1/cairn.1" || fail "cairn.1 does not refer to cairn-$c(1)"
  table=$(sed -n '/struct cli_opt opts\[\] *=/,/};/p' "$src/cli/cmd_$c.c" |
    grep -oE '\{"[a-z-]+", *('"'"'.'"'"'|0)' |
    sed -E "s/\{\"([a-z-]+)\", *('(.)'|0)/--\1\n-\3/" | grep -vx -- - | sort -u)
  [ -n "$table" ] || { fail "no option table in cli/cmd_$c.c"; continue; }
  documented=$( { section "$page" SYNOPSIS; section "$page" OPTIONS; } | options_in | grep -vx -- -)
  missing=$(comm -23 <(echo "$table") <(echo "$documented"))
  extra=$(comm -13 <(echo "$table") <(echo "$documented"))
  [ -z "$missing" ] || fail "cairn-$c.1 does not document: $(echo $missing)"
  [ -z "$extra" ] || fail "cairn-$c.1 documents options cairn $c does not have: $(echo $extra)"
done
echo "man.sh: every command has a page naming exactly its options:" $commands

lib=$man/man3/libcairn.3
read_vars=$(sed -n '/vars\[\] = {/,/};/p' "$src/lib/options.c" | grep -oE '"CAIRN_[A-Z_]+"' | tr -d '"' | sort -u)
[ -n "$read_vars" ] || fail "no variables found in lib/options.c"
page_vars=$(section "$lib" ENVIRONMENT | grep -oE '^\.B CAIRN_[A-Z_]+' | sed 's/^\.B //' | sort -u)
missing=$(comm -23 <(echo "$read_vars") <(echo "$page_vars"))
extra=$(comm -13 <(echo "$read_vars") <(echo "$page_vars"))
[ -z "$missing" ] || fail "libcairn.3 does not document: $(echo $missing)"
[ -z "$extra" ] || fail "libcairn.3 documents variables libcairn does not read: $(echo $extra)"
n=0
while read -r code value; do
  n=$((n + 1))
  grep -q "^\.BR CAIRN_E$code \" (\\\\$value)\"" "$lib" || fail "libcairn.3 lacks CAIRN_E$code ($value)"
done < <(grep -oE 'X\([A-Z]+, *-[0-9]+,' "$src/include/cairn.h" | sed -E 's/X\(([A-Z]+), *(-[0-9]+),/\1 \2/')
[ $n -ge 10 ] || fail "only $n error codes found in cairn.h"
for v in $(grep -oE 'CAIRN_[A-Z_]+' <(section "$man/man1/cairn-run.1" ENVIRONMENT) | sort -u); do
  grep -rqF "\"$v\"" "$src/cli" "$src/lib/options.c" "$src/format/control.h" ||
    fail "cairn-run.1 documents $v, which neither cli/ nor libcairn reads"
done
echo "man.sh: libcairn(3) has the $(echo "$read_vars" | wc -w) variables of lib/options.c and the $n error codes of cairn.h"
[ $fails -eq 0 ] || { echo "man.sh: $fails failures"; exit 1; }
echo "man.sh: PASS"
