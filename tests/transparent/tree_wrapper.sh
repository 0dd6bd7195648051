#!/bin/bash
# SPDX-License-Identifier: MIT
# tree_wrapper.sh — the job of transparent_tree_wrapper (trees.cmake): a
# bash wrapper that does not exec, but runs two children one after the
# other and prints each one's exit status:
#   tree_wrapper.sh COUNTER N ROUNDS
#  1. COUNTER N (progs/counter.c: a compute loop printing a line every 2%),
#     with the gate variable emptied: the gate is at the end of the whole
#     job, not of its first part;
#  2. python3: ROUNDS rounds of a deterministic integer loop, a line each
#     (flushed), then the gate (CAIRN_TEST_GATE, as progress.h's
#     finish_gate), the result, and exit 5.
# So a checkpoint finds bash waiting in wait4() for a child that is either
# a C program or python3. The output (the lines of both, then the two
# statuses) is the same in every run.
set -u
counter=$1 n=$2 rounds=$3
CAIRN_TEST_GATE='' "$counter" "$n"
echo "wrapper: counter exited $?"
/usr/bin/python3 -c '
import os, sys, time
rounds = int(sys.argv[1])
s = 0
for k in range(rounds):
    for i in range(k * 200000, (k + 1) * 200000):
        s = (s * 31 + i * i) % 1000000007
    print("python: round", k + 1, "of", rounds, s, flush=True)
gate = os.environ.get("CAIRN_TEST_GATE")
while gate and not os.path.exists(gate):
    time.sleep(0.005)
print("python:", s, flush=True)
sys.exit(5)
' "$rounds"
echo "wrapper: python3 exited $?"
