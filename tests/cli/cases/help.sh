# Every help text, --version, and usage errors (exit 2, naming the argument).
# The command list in `cairn --help` is checked by property, not verbatim,
# so that adding a command (commands.h) does not change this transcript.
listed() { sed -nE 's/^  ([a-z]+) {2,}[a-z].*/\1/p' "$@"; }
unlisted() { grep -vE '^(\[stderr\] )?  [a-z]+ {2,}[a-z]' "$@"; }
cairn --help > usage.txt; echo "cairn --help: exit $?"
unlisted usage.txt
for c in inspect verify ls advise checkpoint log; do listed usage.txt | grep -qx $c && echo "lists $c"; done
cairn -h | cmp - usage.txt && echo "cairn -h = cairn --help"
cairn help | cmp - usage.txt && echo "cairn help = cairn --help"
for c in $(listed usage.txt); do
  cairn help $c > a.txt 2>&1 && cairn $c --help > b.txt 2>&1 && cmp -s a.txt b.txt ||
    echo "FAIL: 'cairn help $c' differs from 'cairn $c --help' or fails"
  [ -s a.txt ] || echo "FAIL: 'cairn help $c' prints nothing"
done
echo "every listed command: 'cairn help CMD' = 'cairn CMD --help', exit 0"
t cairn --version
t cairn help inspect
t cairn inspect --help
t cairn verify --help
t cairn ls -h
t cairn advise --help
t cairn checkpoint --help
t cairn log --help
# The version is the library's.
[ "$(cairn --version)" = "cairn $(sed -n 's/#define CAIRN_VERSION_STRING "\(.*\)"/\1/p' "$(dirname "$CHECK")/../../include/cairn.h")" ] && echo "version matches cairn.h"
t cairn > out.txt
unlisted out.txt
t cairn bogus
t cairn --bogus
t cairn help bogus
t cairn help inspect extra
t cairn inspect --bogus plain
t cairn inspect --json=yes plain
t cairn inspect
t cairn inspect plain zstd
t cairn verify
t cairn verify -x plain
t cairn checkpoint --timeout 5 --store plain
t cairn checkpoint --wait --timeout soon --store plain
t cairn checkpoint --wait --store plain
t cairn ls --depth
t cairn ls --depth many
t cairn advise
t cairn advise --cost abc
t cairn advise --cost -5 --mtbi 1h
t cairn advise --cost 60 --mtbi 0
t cairn advise --cost 60 --store plain
t cairn advise --cost 60 extra
