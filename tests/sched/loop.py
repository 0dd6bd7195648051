# SPDX-License-Identifier: MIT
# loop.py — the unmodified program the `cairn run` scheduler tests run under
# /usr/bin/python3 (tests/sched/slurm-run-test, examples/htcondor/cairn-run.sub):
#
#     python3 loop.py STEPS DELAY [PROGRESS_FILE]
#
# A deterministic computation of STEPS steps, each sleeping DELAY seconds
# (so the job's length does not depend on the CPU). Every 20 steps it prints
# a line on stdout and, if PROGRESS_FILE is given, appends one to that file,
# which it keeps open; at the end it prints the result. Its output does not
# depend on DELAY, so a run with DELAY 0 is the reference.
import sys
import time

steps, delay = int(sys.argv[1]), float(sys.argv[2])
progress = open(sys.argv[3], "a") if len(sys.argv) > 3 else None
s = 0
for i in range(1, steps + 1):
    for j in range(2000):
        s = (s * 31 + i * j) % 1000000007
    if i % 20 == 0:
        print(i, s, flush=True)
        if progress:
            progress.write(f"step {i} of {steps}: {s}\n")
            progress.flush()
    time.sleep(delay)
print("result", steps, s, flush=True)
