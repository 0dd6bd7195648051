#!/usr/bin/env python3
"""install_test.py CMAKE — `make install` of the Python module.

`make install PREFIX=$HOME/.local` is `cmake --install build --prefix
$HOME/.local`; this installs the build tree's `python` component the same
way for a scratch HOME, then checks, as the README says, that the module
lands in the user site directory ~/.local/lib/python3.X/site-packages/cairn/
and that `python3 -c 'import cairn'` works from any directory with no
PYTHONPATH, and that an example runs on the installed module. A prefix that
python3 does not search (here /opt-like) gets
PREFIX/lib/python3.X/site-packages and a note naming PYTHONPATH."""
import os
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ["CAIRN_PY_BUILD"]
EXAMPLES = os.environ["CAIRN_PY_EXAMPLES"]
VER = f"python{sys.version_info[0]}.{sys.version_info[1]}"


def fail(msg):
    print(f"install_test: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def install(cmake, prefix, env):
    r = subprocess.run([cmake, "--install", BUILD, "--component", "python", "--prefix", prefix],
                       env=env, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        fail(f"cmake --install failed:\n{r.stdout}{r.stderr}")
    return r.stdout + r.stderr


def main():
    cmake = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="cairn-pyinstall-")
    try:
        home = os.path.join(tmp, "home")
        os.mkdir(home)
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "PYTHONUSERBASE", "PYTHONNOUSERSITE")
               and not k.startswith("CAIRN_")}
        env["HOME"] = home
        # 1. PREFIX=$HOME/.local: the user site directory.
        install(cmake, os.path.join(home, ".local"), env)
        site = os.path.join(home, ".local", "lib", VER, "site-packages")
        for f in ("__init__.py", "_errors.py", "_cairn.abi3.so"):
            if not os.path.isfile(os.path.join(site, "cairn", f)):
                fail(f"{f} is not in {site}/cairn")
        elsewhere = os.path.join(tmp, "elsewhere")
        os.mkdir(elsewhere)
        r = subprocess.run([sys.executable, "-c", "import cairn; print(cairn.__file__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or r.stdout.strip() != os.path.join(site, "cairn", "__init__.py"):
            fail(f"import cairn did not find the installed module: {r.stdout}{r.stderr}")
        r = subprocess.run([sys.executable, os.path.join(EXAMPLES, "sum.py"), "-n", "100",
                            "-d", "0"], cwd=elsewhere, env=env, capture_output=True, text=True,
                           timeout=60)
        if r.returncode != 0 or r.stdout != "sum of 1..100 = 5050\n":
            fail(f"sum.py on the installed module: {r.returncode} {r.stdout}{r.stderr}")
        print(f"install_test: PREFIX=$HOME/.local: {site}/cairn, imported from "
              f"{elsewhere} with no PYTHONPATH, sum.py ran")
        # 2. A prefix python3 does not search.
        opt = os.path.join(tmp, "opt")
        said = install(cmake, opt, env)
        target = os.path.join(opt, "lib", VER, "site-packages")
        if not os.path.isfile(os.path.join(target, "cairn", "_cairn.abi3.so")):
            fail(f"the module is not in {target}: {said}")
        if f"PYTHONPATH={target}" not in said:
            fail(f"no note about PYTHONPATH for {opt}: {said}")
        env2 = dict(env, HOME=os.path.join(tmp, "nohome"), PYTHONPATH=target)
        r = subprocess.run([sys.executable, "-c", "import cairn; print(cairn.__file__)"],
                           cwd=elsewhere, env=env2, capture_output=True, text=True, timeout=60)
        if r.returncode != 0 or not r.stdout.startswith(target):
            fail(f"import with PYTHONPATH={target}: {r.stdout}{r.stderr}")
        print(f"install_test: PREFIX={opt}: {target}/cairn with a note to set PYTHONPATH")
        print("install_test: 2 passed, 0 failed")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()
