#!/usr/bin/env python3
"""sigterm_test.py PY SUM_PY — SIGTERM to a Python job (what HTCondor and
Slurm send on eviction or preemption) makes it write a checkpoint and exit
with 143; the rerun resumes from that very checkpoint and prints the answer
of an uninterrupted run.

The job checkpoints only on the signal (CAIRN_INTERVAL=1h). SIGTERM is sent
when the job prints "step K" for a chosen K (an event, not a timer), three
times in a row; then the job runs to the end. Each rerun must resume at the
last step the terminated run printed: the checkpoint is taken in the step()
after that line.
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

N = 400


def fail(msg):
    print(f"sigterm_test: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def run(cmd, env, term_at=None):
    """Runs the job; with term_at, sends SIGTERM when it prints that step."""
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL)
    err = []
    last = resumed = None
    for raw in p.stderr:
        line = raw.decode(errors="replace")
        err.append(line)
        m = re.match(r"step (\d+)$", line)
        if m:
            last = int(m.group(1))
            if term_at is not None and last == term_at:
                p.send_signal(signal.SIGTERM)
        m = re.search(r"resumed at step (\d+)", line)
        if m:
            resumed = int(m.group(1))
    out = p.stdout.read()
    p.wait(timeout=120)
    return p.returncode, out, "".join(err), last, resumed


def main():
    py, sum_py = sys.argv[1], os.path.abspath(sys.argv[2])
    work = tempfile.mkdtemp(prefix="cairn-pysigterm-")
    os.chdir(work)
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        ref = subprocess.run([py, sum_py, "-n", str(N), "-d", "0", "-s", "ref.ckpt"], env=env,
                             capture_output=True, timeout=120)
        if ref.returncode != 0:
            fail(f"the uninterrupted run failed: {ref.stderr.decode()}")
        env["CAIRN_INTERVAL"] = "1h"
        cmd = [py, sum_py, "-n", str(N), "-d", "0.005", "-s", "job.ckpt", "-v", "-i", "3600"]
        expect_resume = None
        for term_at in (60, 150, 280):
            rc, out, err, last, resumed = run(cmd, env, term_at)
            if rc != 143:
                fail(f"SIGTERM at step {term_at}: exit status {rc}, not 143\n{err[-2000:]}")
            if "signal 15: checkpoint written, exiting with status 143" not in err:
                fail(f"no checkpoint message after SIGTERM:\n{err[-2000:]}")
            if "Traceback" in err or out:
                fail(f"a terminated run printed a traceback or an answer:\n{err[-2000:]}{out}")
            if resumed != expect_resume:
                fail(f"run terminated at {term_at} resumed at {resumed}, expected {expect_resume}")
            gens = [n for n in os.listdir("job.ckpt") if n.startswith("ckpt-")]
            if not gens:
                fail("no checkpoint in the store after SIGTERM")
            print(f"sigterm_test: SIGTERM at step {term_at}: exit 143 after step {last}, "
                  f"{len(gens)} generation(s) in the store", flush=True)
            expect_resume = last
        rc, out, err, last, resumed = run(cmd, env)
        if rc != 0:
            fail(f"the last run failed ({rc}):\n{err[-2000:]}")
        if resumed != expect_resume:
            fail(f"the last run resumed at {resumed}, expected {expect_resume}")
        if out != ref.stdout:
            fail(f"output {out!r} differs from the uninterrupted run's {ref.stdout!r}")
        if sorted(os.listdir("job.ckpt")) != ["events.jsonl", "finished", "lock"]:
            fail(f"store holds {sorted(os.listdir('job.ckpt'))}")
        print(f"sigterm_test: PASS: 3 SIGTERMs, each a checkpoint and exit 143; every rerun "
              f"resumed at the step the signal stopped; last resumed at {resumed} of {N}; "
              f"output identical to the uninterrupted run: {out.decode().strip()}")
    finally:
        os.chdir("/")
        shutil.rmtree(work, ignore_errors=True)


main()
