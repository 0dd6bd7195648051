"""Builds the Python module cairn from the cairn source tree.

    python3 -m pip install --no-build-isolation ./python    (see README.md)

The extension cairn._cairn is python/src/*.c with libcairn's own sources
(../lib/*.c) compiled in, so it needs no installed libcairn and no
LD_LIBRARY_PATH; it links Debian's libzstd, libxxhash and libsodium. It uses
CPython's limited API (abi3), so one wheel serves Python 3.11 and later.
`make install` builds the same module with CMake (python/CMakeLists.txt).
"""
import glob
import os
import re
import subprocess

from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, ".."))


def rel(*parts):
    # setuptools wants paths relative to this directory
    return os.path.relpath(os.path.join(TOP, *parts), HERE)


def version():
    with open(os.path.join(TOP, "include", "cairn.h")) as f:
        text = f.read()
    parts = [re.search(rf"#define CAIRN_VERSION_{p} (\d+)", text).group(1)
             for p in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(parts)


def pkg_config(*libs):
    """-I, -L and -l flags for the libraries (pkg-config if it is there)."""
    try:
        out = subprocess.run(["pkg-config", "--cflags", "--libs", *libs], check=True,
                             capture_output=True, text=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = ["-lzstd", "-lxxhash", "-lsodium"]
    flags = {"include_dirs": [], "library_dirs": [], "libraries": []}
    for f in out:
        if f.startswith("-I"):
            flags["include_dirs"].append(f[2:])
        elif f.startswith("-L"):
            flags["library_dirs"].append(f[2:])
        elif f.startswith("-l"):
            flags["libraries"].append(f[2:])
    return flags


if not os.path.isfile(os.path.join(TOP, "lib", "cairn.c")):
    raise SystemExit("setup.py builds the module from the cairn source tree: "
                     f"{os.path.join(TOP, 'lib')} is missing")

deps = pkg_config("libzstd", "libxxhash", "libsodium")
lib_sources = sorted(rel("lib", os.path.basename(p))
                     for p in glob.glob(os.path.join(TOP, "lib", "*.c")))

extension = Extension(
    "cairn._cairn",
    sources=["src/module.c", *lib_sources],
    # lib/*.c find lib/'s private headers next to them; the module sees
    # cairn.h and lib/internal/ only.
    include_dirs=[rel("include"), rel("lib", "internal"), rel("format"),
                  *deps["include_dirs"]],
    library_dirs=deps["library_dirs"],
    libraries=[*deps["libraries"], "m"],
    extra_compile_args=["-std=gnu11", "-fvisibility=hidden"],
    py_limited_api=True,
)

setup(
    name="cairn",
    version=version(),
    description="Checkpoint/restart for long Python jobs (libcairn)",
    long_description=open(os.path.join(HERE, "README.md")).read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=["cairn"],
    ext_modules=[extension],
    options={"bdist_wheel": {"py_limited_api": "cp311"}},
    zip_safe=False,
)
