# cairn inspect --json: parses as JSON, with the expected keys and values.
img=plain/ckpt-00000000000000000003.cairn
tj store.json cairn inspect --json plain
python3 -m json.tool store.json > /dev/null && echo "json.tool accepts store.json"
check store.json \
  "d['kind'] == 'store' and d['path'] == 'plain' and d['state'] == 'ok'" \
  "d['finished'] is False and d['lock'] == {'present': True, 'holder_pid': 0}" \
  "[g['generation'] for g in d['generations']] == [2, 3]" \
  "d['newest_valid_generation'] == 3" \
  "all(g['status'] == 'valid' and g['reason'] is None for g in d['generations'])" \
  "[g['job']['steps'] for g in d['generations']] == [200, 300]" \
  "[g['job']['checkpoints'] for g in d['generations']] == [2, 3]" \
  "all(g['job']['policy'] == 'time' and g['job']['interval_s'] == 86400 for g in d['generations'])" \
  "all(g['job']['last_cost_s'] > 0 for g in d['generations'])" \
  "all(g['size'] == 4752 and g['format'] == '1.0' and g['flags'] == 0 for g in d['generations'])" \
  "d['quarantined'] == [] and d['temp_files'] == []"
tj image.json cairn inspect --json zstd/ckpt-00000000000000000003.cairn
check image.json \
  "d['kind'] == 'image' and d['status'] == 'valid' and d['generation'] == 3" \
  "sorted(d) == sorted(['kind', 'path', 'file', 'size', 'status', 'reason', 'format', 'flags', 'generation', 'created', 'created_ns', 'writer_version', 'writer_version_number', 'host', 'uid', 'pid', 'job', 'sections'])" \
  "d['created'].endswith('Z') and abs(d['created_ns'] / 1e9 - __import__('time').time()) < 3600" \
  "[s['type_name'] for s in d['sections']] == ['job', 'region', 'region', 'region']" \
  "[s['name'] for s in d['sections']] == ['', 'counter', 'odd \"name\"\té', 'data']" \
  "[s['codec'] for s in d['sections']] == ['none', 'zstd', 'zstd', 'zstd']" \
  "[s['raw_size'] for s in d['sections']] == [64, 8, 100, 65536]" \
  "d['sections'][2]['flags'] == 1" \
  "close(d['sections'][3]['ratio'], 65536 / d['sections'][3]['stored_size'], 1e-8)" \
  "all(len(s['checksum']) == 16 and s['status'] == 'ok' for s in d['sections'])" \
  "d['uid'] == __import__('os').getuid()"
tj corrupt.json cairn inspect --json corrupt
check corrupt.json \
  "d['state'] == 'corrupt-newest' and d['newest_valid_generation'] == 1" \
  "d['generations'][1]['status'] == 'corrupt'" \
  "'data checksum mismatch' in d['generations'][1]['reason']" \
  "[s['status'] for s in d['generations'][1]['sections']] == ['ok', 'ok', 'ok', 'corrupt']"
tj trunc.json cairn inspect --json truncated/ckpt-00000000000000000002.cairn
check trunc.json \
  "d['status'] == 'corrupt' and 'truncated' in d['reason'] and 'sections' not in d"
tj finished.json cairn inspect --json finished
check finished.json \
  "d['state'] == 'finished' and d['finished'] is True and d['generations'] == []"
tj leftovers.json cairn inspect --json leftovers
check leftovers.json \
  "d['quarantined'] == [{'file': 'ckpt-00000000000000000000.cairn.corrupt', 'size': 4752}]" \
  "d['temp_files'] == [{'file': '.tmp-00000000000000000002-4242', 'size': 300}]"
flock plain/lock "$CAIRN" inspect --json plain > locked.json
check locked.json "d['lock']['holder_pid'] > 0"
