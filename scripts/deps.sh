#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Makes sure the Debian packages cairn needs are present: to build and
# install it (`make`, `make demo`, `make install`), or with --test also to
# run the checks (`make check`: cmocka, the analysers, the tools the tests
# run). As root, installs what is missing; otherwise prints the exact command.
set -euo pipefail
# libc6-dev: gcc only recommends it, and apt-get --no-install-recommends
# would leave the C library's headers out.
build=(cmake make gcc libc6-dev pkg-config libzstd-dev libxxhash-dev libsodium-dev)
# Built when present: python3-dev gives the Python module (python/). As
# root it is installed with the rest; otherwise its absence is only a note.
optional=(python3-dev)
# python3-dev, -numpy, -setuptools, -wheel, -pip: the Python module's tests
# (tests/python: the build, the examples, pip install ./python offline).
# gfortran: the Fortran module and its tests; man-db: the manual pages'
# tests (groff); debhelper, dpkg-dev: the .deb packages (tests/packaging).
# libopenblas0-pthread, octave, r-base-core, openjdk-17-jdk-headless: the
# multi-threaded programs of tests/transparent/real_threads.sh (numpy on the
# pthread OpenBLAS, octave-cli, Rscript, java and javac).
test=(libcmocka-dev clang python3 util-linux procps cppcheck valgrind bc gzip coreutils
      python3-dev python3-numpy python3-setuptools python3-wheel python3-pip
      gfortran man-db debhelper dpkg-dev gawk
      libopenblas0-pthread octave r-base-core openjdk-17-jdk-headless)
pkgs=("${build[@]}")
[ "${1:-}" = "--test" ] && pkgs+=("${test[@]}")
if ! command -v dpkg-query >/dev/null; then
  echo "deps: not a Debian system; cairn needs the equivalents of: ${pkgs[*]}" >&2
  exit 0
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${1:-}" != "--test" ]; then
  for p in "${optional[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" && continue
    if [ "$(id -u)" -eq 0 ]; then
      missing+=("$p")
    else
      echo "deps: note: $p is not installed, so the Python module is not built" \
           "(as root: apt-get install -y --no-install-recommends $p)" >&2
    fi
  done
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "deps: missing Debian packages. Run as root:" >&2
  echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
