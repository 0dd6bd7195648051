#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# dist.sh [BUILD_DIR] — `make dist`: the relocatable bundle,
# BUILD_DIR/cairn-VERSION-linux-ARCH.tar.gz (BUILD_DIR: build-dist).
#
# The tree is built with CAIRN_STATIC_DEPS=ON (cmake/CairnStaticDeps.cmake):
# libzstd, libxxhash and libsodium are linked in statically, so cairn, its
# runtime and restorer, and libcairn need nothing but the C library. It is
# installed, stripped, into one directory that runs from wherever it is
# unpacked: cairn finds its runtime and restorer from its own path
# (../libexec/cairn/, or beside it), cairn.pc and cairn-fortran.pc are
# rewritten relative to ${pcfiledir}, and the CMake package is relocatable.
# cairn is static; the runtime and libcairn.so need glibc 2.28 or later
# (docs/TRANSPARENT.md, "glibc versions"). tests/packaging/bundle.sh checks
# that and runs it where the three libraries are hidden.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(mkdir -p "${1:-build-dist}" && cd "${1:-build-dist}" && pwd)
jobs=$(nproc 2>/dev/null || echo 2)
version=$(sed -n 's/#define CAIRN_VERSION_STRING "\(.*\)"/\1/p' "$top/include/cairn.h")
name=cairn-$version-linux-$(uname -m)

cmake -S "$top" -B "$build/tree" -DCAIRN_WERROR=OFF -DCAIRN_TESTS=OFF -DCAIRN_STATIC_DEPS=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build/configure.log" ||
  { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build/tree" -j "$jobs" >"$build/build.log" 2>&1 ||
  { tail -40 "$build/build.log" >&2; exit 1; }
stage=$build/stage/$name
rm -rf "$build/stage"
cmake --install "$build/tree" --prefix "$stage" --strip >/dev/null

# pkg-config files relative to where they are: the bundle moves. libcairn.so
# holds zstd, xxhash and sodium, so cairn.pc requires no libzstd.pc & co.
# (which a node without the -dev packages lacks); linking libcairn.a
# (--static) still needs their archives.
for pc in "$stage"/lib/pkgconfig/*.pc; do
  sed -i 's|^prefix=.*|prefix=${pcfiledir}/../..|' "$pc"
done
sed -i '/^Requires.private:/d; s/^Libs.private: /Libs.private: -lzstd -lxxhash -lsodium /' \
  "$stage/lib/pkgconfig/cairn.pc"
cp "$top/LICENSE" "$stage/LICENSE"
cp "$top/packaging/bundle-README.md" "$stage/README.md"
if grep -rlF "$stage" "$stage" >/dev/null; then
  echo "dist: these files name the staging directory, so the bundle would not move:" >&2
  grep -rlF "$stage" "$stage" >&2
  exit 1
fi
for f in "$stage/bin/cairn" "$stage/libexec/cairn/libcairn-runtime.so" "$stage"/lib/libcairn.so.*.*; do
  if ldd "$f" | grep -E 'lib(zstd|xxhash|sodium)'; then
    echo "dist: $f still needs a shared library that should be linked in" >&2
    exit 1
  fi
done
tar --sort=name --owner=0 --group=0 --numeric-owner -C "$build/stage" -czf "$build/$name.tar.gz" "$name"
echo "dist: $build/$name.tar.gz ($(du -h "$build/$name.tar.gz" | cut -f1)): cairn, libexec/cairn/, libcairn (zstd, xxhash, sodium linked in)"
