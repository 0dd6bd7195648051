# cairn log: a hand-written log (every kind of event, escapes, a line cut
# by a crash, the rotated events.jsonl.1 read first) in text (TZ=UTC) and
# JSON; the log libcairn wrote for a fixture; errors and exit statuses.
export TZ=UTC
mkdir hist
cat > hist/events.jsonl.1 <<'EOT'
{"time":1767225600.000000,"event":"start","source":"libcairn","pid":100,"command":"./sim --steps 9"}
EOT
cat > hist/events.jsonl <<'EOT'
{"time":1767225601.250000,"event":"commit","source":"libcairn","pid":100,"generation":1,"bytes":4752,"pause_ns":1500000,"durable_ns":1500000}
{"time":1767225602.000000,"event":"signal","source":"libcairn","pid":100,"signal":"SIGTERM","reason":"checkpoint, then exit"}
{"time":1767225602.5,"event":"exit","source":"libcairn","pid":100,"generation":1,"status":143}
{"time":1767229200.000000,"event":"start","source":"cairn run","pid":200,"command":"python3 \"a b.py\"\tx"}
{"time":1767229200.125000,"event":"restore","source":"cairn run","pid":200,"generation":1}
{"time":1767229260.000000,"event":"refused","source":"cairn run","pid":200,"reason":"the job has a socket (fd 3)"}
{"time":1767229261.000000,"event":"failed","source":"cairn run","pid":200,"reason":"cannot commit: No space left on device"}
{"time":1767229262.000000,"event":"commit","source":"cairn run","pid":200,"generation":2,"bytes":5138022,"pause_ns":812000,"durable_ns":21500000}
{"time":1767229300.000000,"event":"finished","source":"cairn run","pid":200,"reason":"the job exited"}
{"time":1767229300.0001,"event":"exit","source":"cairn run","pid":200,"status":0}
{"time":1767229301.000000,"event":"commit","source":"cairn run","pid":2
EOT
t cairn log hist
tj hist.json cairn log --json hist
check hist.json \
  "[e['event'] for e in d] == ['start', 'commit', 'signal', 'exit', 'start', 'restore', 'refused', 'failed', 'commit', 'finished', 'exit']" \
  "d[4]['command'] == 'python3 \"a b.py\"\tx' and d[8]['bytes'] == 5138022"
tj plain.json cairn log --json plain
check plain.json \
  "[e['event'] for e in d] == ['start', 'commit', 'commit', 'commit']" \
  "[e['generation'] for e in d[1:]] == [1, 2, 3] and all(e['source'] == 'libcairn' for e in d)" \
  "all(e['bytes'] == 4752 and e['pause_ns'] > 0 for e in d[1:])"
tj finished.json cairn log --json finished
check finished.json "d[-1]['event'] == 'finished' and 'after 100 steps' in d[-1]['reason']"
t cairn log notastore
t cairn log missing
t cairn log foreign.txt
t cairn log
t cairn log hist plain
mkdir planted && ln -s ../hist/events.jsonl planted/events.jsonl
t cairn log planted
