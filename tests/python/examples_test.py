#!/usr/bin/env python3
"""examples_test.py PY — the examples of examples/python run as a user
would: `python3 NAME.py` with no arguments, in an empty current directory.
Each must run for more than a few seconds, print its answer as its last
(and only) stdout line, keep its store NAME.ckpt in the current directory
and leave it marked finished. The answer must be the one of a fast run."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

EXPECTED = {"sum": "sum of 1..3000 = 4501500"}


def main():
    py = sys.argv[1]
    examples = os.environ["CAIRN_PY_EXAMPLES"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
    failed = 0
    for name in ("sum", "means"):
        script = os.path.join(examples, f"{name}.py")
        work = tempfile.mkdtemp(prefix=f"cairn-pyex-{name}-")
        try:
            t0 = time.monotonic()
            r = subprocess.run([py, script], cwd=work, env=env, capture_output=True, text=True,
                               timeout=120)
            took = time.monotonic() - t0
            fast = subprocess.run([py, script, "-d", "0", "-s", "fast.ckpt"], cwd=work, env=env,
                                  capture_output=True, text=True, timeout=120)
            lines = r.stdout.splitlines()
            want = EXPECTED.get(name, fast.stdout.strip())
            problems = []
            if r.returncode != 0 or fast.returncode != 0:
                problems.append(f"exit {r.returncode}/{fast.returncode}: {r.stderr}{fast.stderr}")
            if lines != [want]:
                problems.append(f"stdout {lines!r}, expected [{want!r}]")
            if sorted(os.listdir(os.path.join(work, f"{name}.ckpt"))) != ["events.jsonl", "finished", "lock"]:
                problems.append(f"no finished store {name}.ckpt in the current directory")
            if took < 3:
                problems.append(f"ran {took:.1f} s by default, not more than a few seconds")
            if problems:
                failed += 1
                print(f"examples_test: {name}.py: FAIL: " + "; ".join(problems))
            else:
                print(f"examples_test: {name}.py: ok in {took:.1f} s: {lines[0]}")
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"examples_test: {2 - failed} passed, {failed} failed")
    return 1 if failed else 0


sys.exit(main())
