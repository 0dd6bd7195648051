#!/bin/sh
# SPDX-License-Identifier: MIT
# tree_pool.sh — the job of transparent_tree_pool (trees.cmake): python3's
# multiprocessing.Pool(2) (two forked worker processes, the pool's three
# threads, pipes and a semaphore between them) mapping a deterministic
# function over CHUNKS chunks; imap() gives the results in chunk order, one
# line each (flushed), whatever worker computed them and when. Then the
# gate (CAIRN_TEST_GATE, as progress.h's finish_gate) and the total.
#   tree_pool.sh CHUNKS
# The job is python3 itself (exec).
exec /usr/bin/python3 -c '
import multiprocessing, os, sys, time

def work(k):
    s = k
    for i in range(k * 800000, (k + 1) * 800000):
        s = (s * 31 + i * i) % 1000000007
    return k, s

if __name__ == "__main__":
    chunks = int(sys.argv[1])
    total = 0
    with multiprocessing.get_context("fork").Pool(2) as pool:
        for k, s in pool.imap(work, range(chunks)):
            total = (total * 7 + s) % 1000000007
            print("pool: chunk", k + 1, "of", chunks, s, flush=True)
    gate = os.environ.get("CAIRN_TEST_GATE")
    while gate and not os.path.exists(gate):
        time.sleep(0.005)
    print("pool:", chunks, "chunks, total", total, flush=True)
' "$@"
