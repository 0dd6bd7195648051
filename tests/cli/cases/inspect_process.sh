# cairn inspect / verify of a process image (cairn run): core state,
# mappings and descriptors. The image is a fuzz seed (tests/fuzz/corpus,
# a real cairn run image shrunk to a few pages), so its content is fixed.
seeds=$(dirname "$0")/../../fuzz/corpus
cp "$seeds/process-fileio.cairn" proc.cairn
t cairn inspect proc.cairn
t cairn verify proc.cairn
tj proc.json cairn inspect --json proc.cairn
check proc.json \
  "d['status'] == 'valid' and d['flags'] == 1 and d['job'] is None" \
  "d['process']['comm'] == 'fileio' and d['process']['threads'] == 1" \
  "len(d['process']['mappings']) == 11 and [f['fd'] for f in d['process']['files']] == [0, 1, 2, 4, 5]" \
  "d['process']['files'][4]['rollback'] is True and d['process']['mappings'][10]['name'] == '[vdso]'"
# A store holding it: one line per generation.
mkdir pstore && chmod 700 pstore && cp proc.cairn pstore/ckpt-00000000000000000001.cairn
t cairn inspect pstore
