#!/bin/bash
# SPDX-License-Identifier: MIT
# tree_churn.sh — the job of transparent_tree_churn (trees.cmake): bash
# forking short-lived children all the time, so that a checkpoint nearly
# always finds a process starting, exec'ing or ending:
#   tree_churn.sh ITERATIONS
# Each iteration runs /bin/true (a fork, an exec, an exit and a reap); every
# 2% of them a line with the count and the sum of the exit statuses. A
# round spoiled by a child coming or going is started again by cairn at
# once (cli/run_job.c, CHURN_RETRIES), and a child caught between its fork
# and its exec keeps the checkpoint signal blocked across the exec
# (runtime/exec.c). Then the gate (progress.h's finish_gate) and the total.
set -u
n=$1 step=$(( $1 / 50 )) sum=0
for (( i = 1; i <= n; i++ )); do
    /bin/true
    sum=$(( sum + $? ))
    if (( i % step == 0 )); then echo "churn: $i of $n, statuses $sum"; fi
done
gate=${CAIRN_TEST_GATE:-}
while [ -n "$gate" ] && [ ! -e "$gate" ]; do /bin/true; done
echo "churn: done $n, statuses $sum"
