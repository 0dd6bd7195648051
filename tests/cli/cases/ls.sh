# cairn ls: one line per store, states ok / finished / corrupt-newest.
t cairn ls
t cairn ls --no-verify
t cairn ls plain zstd
t cairn ls .
t cairn ls --depth 0 .
t cairn ls notastore
t cairn ls plain missing
mkdir -p deep/a/b && cp -r plain deep/a/b/store
t cairn ls deep
t cairn ls --depth 3 deep
tj ls.json cairn ls --json plain finished corrupt
check ls.json \
  "[r['path'] for r in d] == ['plain', 'finished', 'corrupt']" \
  "[r['state'] for r in d] == ['ok', 'finished', 'corrupt-newest']" \
  "[r['generations'] for r in d] == [2, 0, 2]" \
  "[r['newest_generation'] for r in d] == [3, None, 2]" \
  "d[0]['size'] == 2 * 4752 and d[1]['age_s'] is None and d[0]['age_s'] >= 0"
