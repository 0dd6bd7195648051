# cairn inspect on stores: valid, compressed, corrupt newest, truncated,
# zero-length newest, finished, leftovers (quarantine and temp), lock held.
t cairn inspect plain
t cairn inspect zstd
t cairn inspect corrupt
t cairn inspect --no-verify corrupt
t cairn inspect truncated
t cairn inspect zero
t cairn inspect finished
t cairn inspect leftovers
t cairn inspect notastore
t cairn inspect missing
# A running job holds the store's lock (flock, as libcairn takes it).
t flock plain/lock sh -c '"$CAIRN" inspect plain'
