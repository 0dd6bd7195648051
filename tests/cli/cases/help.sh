# Every help text, --version, and usage errors (exit 2, naming the argument).
t cairn --help
t cairn -h
t cairn help
t cairn --version
t cairn help inspect
t cairn inspect --help
t cairn verify --help
t cairn ls -h
t cairn advise --help
for c in inspect verify ls advise; do
  cmp <(cairn help $c) <(cairn $c --help) && echo "help $c = $c --help"
done
# The version is the library's.
[ "$(cairn --version)" = "cairn $(sed -n 's/#define CAIRN_VERSION_STRING "\(.*\)"/\1/p' "$(dirname "$CHECK")/../../include/cairn.h")" ] && echo "version matches cairn.h"
t cairn
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
t cairn ls --depth
t cairn ls --depth many
t cairn advise
t cairn advise --cost abc
t cairn advise --cost -5 --mtbi 1h
t cairn advise --cost 60 --mtbi 0
t cairn advise --cost 60 --store plain
t cairn advise --cost 60 extra
