#!/usr/bin/env python3
"""killtest.py — kills a Python job with SIGKILL again and again, restarts it
with the same command line until it finishes, and checks that its answer is
bit for bit that of an uninterrupted run and that the work was resumed, not
redone. The Python counterpart of tests/e2e/killdriver.c.

    killtest.py [-k KILLS] [-S STEPS] [--seed N] -- PROG ARGS...

PROG ARGS is run as PROG ARGS -s STORE -v in a scratch directory: it must
print its answer on stdout, "resumed at step K" and (with -v) "step K" after
every step on stderr, and accept -d SECONDS (the reference run gets -d 0).

Every kill is synchronised on an event of the job, never on a timer:
  write   the instant the n-th (1-3) image temp file (.tmp-<generation>-<pid>)
          appears in the store (inotify): a kill in the middle of writing;
  commit  the instant the n-th (1-3) generation is renamed into place (inotify):
          a kill just after a checkpoint;
  step    when the job prints "step K", K 1 to 4*STEPS past where it started.
The job checkpoints every STEPS steps (CAIRN_STEPS), so the kills do not
depend on the machine's speed. Then the driver checks:
  - the last run's stdout equals the reference's, byte for byte;
  - every run after the first resumed, at a step at most STEPS before the
    last step the killed run printed and not after it; resume points never
    go backwards; each run's first step follows its resume point;
  - the last run resumed past step 0;
  - steps executed over all runs are at most N + kills * STEPS;
  - no run reported a corrupt or skipped image;
  - the store holds only "finished", "lock" and the event log;
  - at least one kill aimed at a write landed before the image was
    committed (a .tmp-* file was left).
Randomness comes from one seed, printed first (--seed or
CAIRN_E2E_SEED repeats the kill plan). CAIRN_E2E_KEEP=1 keeps the scratch
directory.
"""
import argparse
import ctypes
import os
import random
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

HARD_TIMEOUT = 120.0      # seconds: a run that takes longer hangs
STORE = "job.ckpt"

IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000

TMP_RE = re.compile(r"^\.tmp-[0-9]")
GEN_RE = re.compile(r"^ckpt-[0-9]+\.cairn$")
STEP_RE = re.compile(rb"^step ([0-9]+)$")
RESUMED_RE = re.compile(rb"resumed at step ([0-9]+)")


class Fail(Exception):
    pass


class Inotify:
    """The store's IN_CREATE and IN_MOVED_TO events, through libc."""

    def __init__(self, path):
        libc = ctypes.CDLL(None, use_errno=True)
        self.fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        if libc.inotify_add_watch(self.fd, os.fsencode(path), IN_CREATE | IN_MOVED_TO) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")

    def events(self):
        out = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return out
            off = 0
            while off + 16 <= len(data):
                _, mask, _, length = struct.unpack_from("iIII", data, off)
                name = data[off + 16:off + 16 + length].rstrip(b"\0").decode(errors="replace")
                out.append((mask, name))
                off += 16 + length


class Run:
    def __init__(self, tag):
        self.tag = tag
        self.killed = False
        self.plan = None
        self.resumed = None     # K from "resumed at step K"
        self.first_step = None
        self.last_step = None
        self.bad_image = False
        self.tmp_left = False
        self.status = None
        self.had_image = False  # a generation was in the store when it started

    def start(self):
        return self.resumed if self.resumed is not None else 0


def show(tag, what="err", limit=3000):
    try:
        with open(f"{tag}.{what}", "rb") as f:
            text = f.read()[-limit:].decode(errors="replace")
    except OSError:
        text = "(none)"
    print(f"--- {what} of run {tag} (last {limit} bytes) ---\n{text}--- end ---", file=sys.stderr)


def run_job(argv, env, ino, tag, plan, steps):
    """Runs the job once; plan is None (let it finish) or (mode, n)."""
    r = Run(tag)
    r.plan = plan
    ino.events()  # drop what earlier runs left
    r.had_image = any(GEN_RE.match(n) for n in os.listdir(STORE))
    with open(f"{tag}.out", "wb") as out, open(f"{tag}.err", "wb") as log:
        proc = subprocess.Popen(argv + ["-s", STORE, "-v"], stdout=out, stderr=subprocess.PIPE,
                                env=env, stdin=subprocess.DEVNULL)
        errfd = proc.stderr.fileno()
        deadline = time.monotonic() + HARD_TIMEOUT
        writes = commits = 0
        target = None
        pending = b""

        def kill():
            if not r.killed:
                proc.send_signal(signal.SIGKILL)
                r.killed = True

        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                proc.kill()
                proc.wait()
                show(tag)
                raise Fail(f"run {tag} still going after {HARD_TIMEOUT:.0f} s: it hangs")
            ready, _, _ = select.select([errfd, ino.fd], [], [], left)
            if ino.fd in ready:
                for mask, name in ino.events():
                    if mask & IN_CREATE and TMP_RE.match(name):
                        writes += 1
                        if plan and plan[0] == "write" and writes >= plan[1]:
                            kill()
                    if mask & IN_MOVED_TO and GEN_RE.match(name):
                        commits += 1
                        if plan and plan[0] == "commit" and commits >= plan[1]:
                            kill()
            if errfd in ready:
                chunk = os.read(errfd, 65536)
                if not chunk:
                    break  # the job is gone
                log.write(chunk)
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    m = RESUMED_RE.search(line)
                    if m:
                        r.resumed = int(m.group(1))
                    m = STEP_RE.match(line)
                    if m:
                        k = int(m.group(1))
                        if r.first_step is None:
                            r.first_step = k
                            if plan and plan[0] == "step":
                                target = r.start() + plan[1]
                        r.last_step = k
                        if target is not None and k >= target:
                            kill()
                    if b"corrupt" in line or b"cairn: skipping" in line:
                        r.bad_image = True
        proc.stderr.close()
        r.status = proc.wait()
    if r.killed:
        r.tmp_left = any(TMP_RE.match(n) for n in os.listdir(STORE))
    return r


def reference(argv, env):
    with open("ref.out", "wb") as out, open("ref.err", "wb") as err:
        status = subprocess.call(argv + ["-d", "0", "-s", "ref.ckpt", "-v"], stdout=out,
                                 stderr=err, env=env, stdin=subprocess.DEVNULL,
                                 timeout=HARD_TIMEOUT)
    if status != 0:
        show("ref")
        raise Fail(f"the uninterrupted run failed (status {status})")
    steps = [int(m.group(1)) for m in
             (STEP_RE.match(l) for l in open("ref.err", "rb").read().split(b"\n")) if m]
    if not steps or steps[0] != 1:
        raise Fail('the reference run printed no "step K" lines from 1 (is -v supported?)')
    with open("ref.out", "rb") as f:
        return f.read(), steps[-1]


def main():
    p = argparse.ArgumentParser(description="Kill a job with SIGKILL on events until done.")
    p.add_argument("-k", "--kills", type=int, default=8)
    p.add_argument("-S", "--steps", type=int, default=10, help="CAIRN_STEPS for the job")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("argv", nargs=argparse.REMAINDER)
    a = p.parse_args()
    argv = a.argv[1:] if a.argv[:1] == ["--"] else a.argv
    if not argv or a.kills < 3 or a.steps < 1:
        p.error("need -- PROG ARGS, at least 3 kills and STEPS >= 1")
    argv[0] = shutil.which(argv[0]) or argv[0]
    argv = [os.path.abspath(x) if os.path.exists(x) else x for x in argv]
    name = os.path.basename(argv[1] if len(argv) > 1 and argv[1].endswith(".py") else argv[0])

    seed = a.seed
    if seed is None and os.environ.get("CAIRN_E2E_SEED"):
        seed = int(os.environ["CAIRN_E2E_SEED"], 0)
    if seed is None:
        seed = int.from_bytes(os.urandom(6), "little")
    print(f"killtest: {name}: seed {seed} (--seed {seed} repeats this kill plan)", flush=True)
    rng = random.Random(seed)

    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    env["CAIRN_STEPS"] = str(a.steps)

    work = tempfile.mkdtemp(prefix=f"cairn-pykill-{name}-")
    os.chdir(work)
    ok = False
    try:
        ref_out, n = reference(argv, env)
        os.mkdir(STORE, 0o700)
        ino = Inotify(STORE)
        # Each mode as often as the others, in a random order.
        modes = [("write", "commit", "step")[i % 3] for i in range(a.kills)]
        rng.shuffle(modes)
        plans = []
        for m in modes:
            plans.append((m, rng.randint(1, 4 * a.steps) if m == "step" else rng.randint(1, 3)))
        runs = []
        for i in range(a.kills + 50):
            plan = plans[i] if i < len(plans) else None
            r = run_job(argv, env, ino, f"run{i:03d}", plan, a.steps)
            runs.append(r)
            if r.bad_image:
                show(r.tag)
                raise Fail(f"run {r.tag} met a corrupt or unusable image")
            if r.killed and r.status == -signal.SIGKILL:
                continue
            if r.status == 0:
                break
            show(r.tag)
            raise Fail(f"run {r.tag} ({plan}) ended with status {r.status}, not by our SIGKILL")
        else:
            raise Fail("the job never finished")
        check(runs, ref_out, n, a)
        ok = True
    except Fail as e:
        print(f"killtest: {name}: FAIL: {e}", file=sys.stderr)
    finally:
        os.chdir("/")
        if os.environ.get("CAIRN_E2E_KEEP", "0") not in ("", "0"):
            print(f"killtest: keeping {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


def check(runs, ref_out, n, a):
    final = runs[-1]
    kills = [r for r in runs if r.killed]
    with open(f"{final.tag}.out", "rb") as f:
        out = f.read()
    if out != ref_out:
        raise Fail(f"the output differs from the uninterrupted run's:\n--- reference ---\n"
                   f"{ref_out.decode(errors='replace')}--- job ---\n{out.decode(errors='replace')}")
    if len(kills) < a.kills:
        raise Fail(f"only {len(kills)} kills before the job finished (want {a.kills}): make it longer")
    last_resume = 0
    executed = 0
    for prev, r in zip([None] + runs[:-1], runs):
        start = r.start()
        if r.had_image != (r.resumed is not None):
            show(r.tag)
            raise Fail(f"run {r.tag} " + ("did not resume from the checkpoint in the store"
                                          if r.had_image else "resumed from an empty store"))
        if prev is not None and prev.last_step is not None and not (
                prev.last_step - a.steps <= start <= prev.last_step):
            raise Fail(f"run {r.tag} started at step {start}, but run {prev.tag} printed "
                       f"step {prev.last_step} and checkpoints every {a.steps} steps")
        if start < last_resume:
            raise Fail(f"run {r.tag} started at step {start}, before an earlier resume at "
                       f"{last_resume}: checkpointed work was lost")
        last_resume = start
        if r.first_step is not None and r.first_step != start + 1:
            raise Fail(f"run {r.tag} resumed at step {start} but its first step was {r.first_step}")
        if r.last_step is not None:
            executed += r.last_step - start
    if final.start() <= 0:
        raise Fail("the final run did not resume (it started from step 0)")
    bound = n + len(kills) * a.steps
    if executed > bound or executed >= 2 * n:
        raise Fail(f"{executed} steps executed for a job of {n} (bound {bound}): work was redone")
    left = sorted(os.listdir(STORE))
    if left != ["events.jsonl", "finished", "lock"]:
        raise Fail(f'the store should hold only "finished", "lock" and "events.jsonl", it holds {left}')
    by_mode = {}
    for r in kills:
        by_mode[r.plan[0]] = by_mode.get(r.plan[0], 0) + 1
    midwrite = sum(1 for r in kills if r.plan[0] == "write" and r.tmp_left)
    if midwrite < 1:
        raise Fail(f"none of the {by_mode.get('write', 0)} kills aimed at a checkpoint write "
                   "landed before the image was committed")
    print(f"killtest: PASS: {len(kills)} kills ({', '.join(f'{v} on {k}' for k, v in sorted(by_mode.items()))}; "
          f"{midwrite} landed mid-write with a .tmp-* left), {len(runs) - 1} restarts; "
          f"last resumed at step {final.start()} of {n}; {executed} steps executed "
          f"({executed / n:.2f}x, bound {bound}); output identical to the uninterrupted run "
          f"({len(ref_out)} bytes)")


if __name__ == "__main__":
    sys.exit(main())
