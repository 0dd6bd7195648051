#!/bin/sh
# SPDX-License-Identifier: MIT
# tree_subprocess.sh — the job of transparent_tree_subprocess (trees.cmake):
# python3 running programs with subprocess and its default close_fds=True,
# which closes every descriptor above 2 in the child before exec, cairn's
# fds 3 and 4 too (the runtime registers them on the job's endpoint
# instead, runtime/tree.c):
#  1. subprocess.run(/bin/sh -c LOOP): a shell loop printing a line a round
#     (ROUNDS of them);
#  2. subprocess.run(COUNTER N): progs/counter.c on python's stdout;
#  3. subprocess.Popen(COUNTER N, stdout=PIPE): python reads its lines from
#     the pipe and prints them;
# each with the gate variable emptied (the gate is at the end of the whole
# job), then the gate (CAIRN_TEST_GATE, as progress.h's finish_gate) and a
# last line. The output is the same in every run. With 3 kills (cycle.sh
# places kill k in the second half of the k-th quarter of the output) and
# about as many lines in each part, each kill lands in another child.
#   tree_subprocess.sh COUNTER N ROUNDS
# The job is python3 itself (exec).
exec /usr/bin/python3 -c '
import os, subprocess, sys, time
counter, n, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
env = dict(os.environ, CAIRN_TEST_GATE="")
loop = ("i=0; s=1; while [ $i -lt %d ]; do j=0; while [ $j -lt 4000 ]; do "
        "s=$(( (s * 31 + j) %% 1000003 )); j=$((j + 1)); done; i=$((i + 1)); "
        "echo \"sh: round $i of %d $s\"; done" % (rounds, rounds))
r = subprocess.run(["/bin/sh", "-c", loop], env=env)
print("python: sh exited", r.returncode, flush=True)
r = subprocess.run([counter, n], env=env)
print("python: counter exited", r.returncode, flush=True)
p = subprocess.Popen([counter, n], env=env, stdout=subprocess.PIPE, text=True)
for line in p.stdout:
    print("piped:", line, end="", flush=True)
print("python: piped counter exited", p.wait(), flush=True)
gate = os.environ.get("CAIRN_TEST_GATE")
while gate and not os.path.exists(gate):
    time.sleep(0.005)
print("python: done", flush=True)
' "$@"
