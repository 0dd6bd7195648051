#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deb-build.sh [OUT_DIR] — `make deb`: the Debian packages libcairn0,
# libcairn-dev, cairn (and python3-cairn from a tree with python/) in OUT_DIR
# (default build-deb/), built by `dpkg-buildpackage -b -us -uc` from a copy
# of the source tree (dpkg-buildpackage writes into debian/ and puts the
# packages in the parent directory). DEB_BUILD_OPTIONS defaults to
# "nocheck parallel=N" (the test suite is make check's job). Needs
# debhelper, dpkg-dev and the build dependencies of debian/control
# (scripts/deps.sh --test installs them). The build log is OUT_DIR/build.log.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "${1:-build-deb}" && cd "${1:-build-deb}" && pwd)
version=$(sed -n 's/#define CAIRN_VERSION_STRING "\(.*\)"/\1/p' "$top/include/cairn.h")
deb_version=$(sed -n '1s/^cairn (\([^)]*\)).*/\1/p' "$top/debian/changelog")
if [ "$deb_version" != "$version" ]; then
  echo "deb-build: debian/changelog is at $deb_version, include/cairn.h at $version: add a changelog entry" >&2
  exit 1
fi
for t in dpkg-buildpackage dh; do
  command -v $t >/dev/null || { echo "deb-build: $t is missing (apt-get install debhelper dpkg-dev)" >&2; exit 1; }
done
rm -rf "$out/src" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
tree=$out/src/cairn-$version
mkdir -p "$tree"
tar -C "$top" --exclude=./build --exclude='./build-*' --exclude=./.git -cf - . | tar -C "$tree" -xf -
profiles=()
[ -f "$tree/python/CMakeLists.txt" ] || profiles=(-Ppkg.cairn.nopython)
if ! (cd "$tree" && DEB_BUILD_OPTIONS=${DEB_BUILD_OPTIONS:-"nocheck parallel=$(nproc)"} \
      dpkg-buildpackage -b -us -uc "${profiles[@]}" >"$out/build.log" 2>&1); then
  tail -60 "$out/build.log" >&2
  echo "deb-build: dpkg-buildpackage failed (log: $out/build.log)" >&2
  exit 1
fi
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out/"
rm -rf "$out/src"
echo "deb-build: dpkg-buildpackage -b -us -uc ${profiles[*]}:"
(cd "$out" && ls ./*.deb | sed 's|^./|  |')
