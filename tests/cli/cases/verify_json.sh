# cairn verify --json: one JSON object whatever the outcome, with the exit
# status of the text mode; the messages still on stderr.
t cairn verify --json plain
t cairn verify --json corrupt
t cairn verify --json --all plain
t cairn verify --json -q truncated/ckpt-00000000000000000002.cairn
t cairn verify --json finished
t cairn verify --json missing
tj corrupt.json cairn verify --json corrupt
check corrupt.json \
  "d['kind'] == 'store' and d['ok'] is False and d['status'] == 'invalid'" \
  "d['fallback_generation'] == 1 and d['images'][0]['generation'] == 2" \
  "'data checksum mismatch' in d['images'][0]['reason']"
tj all.json cairn verify --json --all corrupt
check all.json \
  "[(i['generation'], i['ok']) for i in d['images']] == [(2, False), (1, True)]" \
  "d['status'] == 'invalid' and d['fallback_generation'] is None"
tj empty.json cairn verify --json empty.cairn
check empty.json \
  "d['kind'] == 'image' and d['images'][0]['generation'] is None and d['images'][0]['size'] == 0"
