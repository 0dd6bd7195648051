# cairn inspect on single image files: header, job section, sections table.
t cairn inspect plain/ckpt-00000000000000000003.cairn
t cairn inspect zstd/ckpt-00000000000000000003.cairn
t cairn inspect --no-verify zstd/ckpt-00000000000000000003.cairn
t cairn inspect corrupt/ckpt-00000000000000000002.cairn
t cairn inspect truncated/ckpt-00000000000000000002.cairn
t cairn inspect empty.cairn
t cairn inspect foreign.txt
t cairn inspect leftovers/ckpt-00000000000000000000.cairn.corrupt
