#!/usr/bin/env python3
"""pip_test.py — `python3 -m pip install --no-build-isolation ./python`
works offline: it builds the module from the source tree with Debian's
setuptools and wheel, nothing downloaded (--no-index). The tree's include/,
lib/, format/ and python/ are copied first, so that the build (pip builds a
local directory in place) leaves nothing in the source tree; the module is
installed with --target, which needs no root and no virtual environment,
and must import and checkpoint from there."""
import os
import shutil
import subprocess
import sys
import tempfile

SOURCE = os.environ["CAIRN_PY_SOURCE"]
JOB = """
import cairn, sys
assert cairn.__file__.startswith(sys.argv[1]), cairn.__file__
with cairn.open("p.ckpt") as s:
    b = s.protect("b", bytearray(4))
    s.protect_object("o", {"x": 1})
    s.restore()
    b[:] = b"pip!"
    s.checkpoint()
with cairn.open("p.ckpt") as s:
    b = s.protect("b", bytearray(4))
    s.protect_object("o", None)
    assert s.restore() == cairn.RESTORED and b == b"pip!" and s["o"] == {"x": 1}
print("ok", cairn.__version__)
"""


def main():
    tmp = tempfile.mkdtemp(prefix="cairn-pypip-")
    try:
        src = os.path.join(tmp, "src")
        ignore = shutil.ignore_patterns("build", "*.egg-info", "__pycache__")
        for d in ("include", "lib", "format", "python"):
            shutil.copytree(os.path.join(SOURCE, d), os.path.join(src, d), ignore=ignore)
        target = os.path.join(tmp, "target")
        env = {k: v for k, v in os.environ.items()
               if k != "PYTHONPATH" and not k.startswith(("CAIRN_", "PIP_"))}
        env.update(HOME=tmp, PIP_DISABLE_PIP_VERSION_CHECK="1")
        cmd = [sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-index",
               "--no-deps", "--no-cache-dir", "--root-user-action=ignore", "--target", target,
               os.path.join(src, "python")]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            print(f"pip_test: FAIL: {' '.join(cmd)}:\n{r.stdout}{r.stderr}", file=sys.stderr)
            print("pip_test: needs python3-pip, python3-setuptools, python3-wheel, python3-dev "
                  "(scripts/deps.sh --test)", file=sys.stderr)
            return 1
        if not os.path.isfile(os.path.join(target, "cairn", "_cairn.abi3.so")):
            print(f"pip_test: FAIL: no cairn/_cairn.abi3.so in {target}: {os.listdir(target)}")
            return 1
        r = subprocess.run([sys.executable, "-c", JOB, target], cwd=tmp,
                           env=dict(env, PYTHONPATH=target), capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0 or not r.stdout.startswith("ok"):
            print(f"pip_test: FAIL: the pip-installed module: {r.stdout}{r.stderr}")
            return 1
        print(f"pip_test: pip built and installed the module offline into {target}: "
              f"{r.stdout.strip()}")
        print("pip_test: 1 passed, 0 failed")
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


sys.exit(main())
