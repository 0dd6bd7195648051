# cairn verify: exit 0 only when the newest image verifies completely; the
# reason (file, section, byte offset) on stderr; --all; exit statuses.
t cairn verify plain
t cairn verify zstd
t cairn verify -q plain
t cairn verify plain/ckpt-00000000000000000002.cairn
t cairn verify corrupt
t cairn verify corrupt/ckpt-00000000000000000001.cairn
t cairn verify truncated
t cairn verify zero
t cairn verify empty.cairn
t cairn verify foreign.txt
t cairn verify --all plain
t cairn verify --all corrupt
t cairn verify finished
t cairn verify notastore
t cairn verify missing
t cairn verify leftovers
# A flipped byte in any section of the compressed store is caught.
for off in 200 400 600 900; do
  cp zstd/ckpt-00000000000000000003.cairn flip.cairn
  printf '\x5a' | dd of=flip.cairn bs=1 seek=$off conv=notrunc status=none
  t cairn verify -q flip.cairn
done
