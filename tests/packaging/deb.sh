#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# deb.sh SOURCE_DIR — the Debian packages (ctest packaging_deb, root only).
#
# Builds the packages in a scratch directory (packaging/deb-build.sh, what
# `make deb` runs: dpkg-buildpackage -b -us -uc from a copy of the tree,
# DEB_BUILD_OPTIONS="nocheck parallel=N"), checks what each package holds,
# installs them with dpkg -i, runs scripts/check-install.sh --installed /usr
# on them (cairn run restoring a job, man pages, completion, pkg-config,
# find_package(cairn), the Fortran module) and purges them again.
#
# Exit 77 (skipped) when not root, or when cairn packages are installed
# already (they are not this test's to replace).
set -euo pipefail
src=$(cd "$1" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "deb.sh: skipped: dpkg -i needs root"; exit 77; }
for p in libcairn0 libcairn-dev cairn python3-cairn; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    echo "deb.sh: skipped: $p is installed already; this test installs and purges its own"
    exit 77
  fi
done
version=$(sed -n 's/#define CAIRN_VERSION_STRING "\(.*\)"/\1/p' "$src/include/cairn.h")
work=$(mktemp -d /tmp/cairn-deb.XXXXXX)
installed=()
cleanup() {
  if [ ${#installed[@]} -gt 0 ]; then
    dpkg --purge "${installed[@]}" >/dev/null 2>&1 || echo "deb.sh: could not purge ${installed[*]}" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
start=$(date +%s)
"$src/packaging/deb-build.sh" "$work" || { echo "deb.sh: FAIL: the packages do not build"; exit 1; }
echo "deb.sh: built in $(($(date +%s) - start)) s"
nopython=0
[ -f "$src/python/CMakeLists.txt" ] || nopython=1

# Each package holds what it should (and libcairn0 nothing but the library).
# (The listing is read whole first: grep -q in a pipe under pipefail would
# fail the pipe when it stops reading early.)
has() {
  local files
  files=$(dpkg-deb -c "$work/$1" | awk '{print $6}')
  grep -qE "$2" <<<"$files" || { echo "deb.sh: FAIL: $1 lacks $2"; exit 1; }
}
arch=$(dpkg --print-architecture)
lib=libcairn0_${version}_$arch.deb dev=libcairn-dev_${version}_$arch.deb cli=cairn_${version}_$arch.deb
has "$lib" '/usr/lib/[^/]+/libcairn\.so\.0\.'
! dpkg-deb -c "$work/$lib" | awk '{print $6}' | grep -E '/usr/(bin|include)/' ||
  { echo "deb.sh: FAIL: libcairn0 holds programs or headers"; exit 1; }
for f in '/usr/include/cairn\.h' '/usr/lib/[^/]+/libcairn\.a' '/usr/lib/[^/]+/pkgconfig/cairn\.pc' \
         '/usr/lib/[^/]+/cmake/cairn/cairnConfig\.cmake' '/usr/include/cairn/fortran/cairn\.mod' \
         '/usr/lib/[^/]+/libcairn_fortran\.a' '/usr/share/man/man3/libcairn\.3'; do
  has "$dev" "$f"
done
for f in '/usr/bin/cairn$' '/usr/libexec/cairn/cairn-restore' '/usr/libexec/cairn/libcairn-runtime\.so' \
         '/usr/share/man/man1/cairn\.1' '/usr/share/bash-completion/completions/cairn'; do
  has "$cli" "$f"
done
debs=("$work/$lib" "$work/$dev" "$work/$cli")
py=$(cd "$work" && ls python3-cairn_*.deb 2>/dev/null || true)
[ -z "$py" ] || debs+=("$work/$py")
[ -n "$py" ] || [ $nopython = 1 ] || { echo "deb.sh: FAIL: python/ exists but no python3-cairn"; exit 1; }

# Install, and use the installed tree as a user would.
if ! dpkg -i "${debs[@]}" >"$work/dpkg.log" 2>&1; then
  cat "$work/dpkg.log"
  installed=(libcairn0 libcairn-dev cairn python3-cairn)
  echo "deb.sh: FAIL: dpkg -i failed"
  exit 1
fi
installed=(libcairn0 libcairn-dev cairn)
[ -z "$py" ] || installed+=(python3-cairn)
echo "deb.sh: dpkg -i: ${installed[*]} installed"
# A Docker image's dpkg may leave /usr/share/man out (path-exclude).
no_man=0
if grep -rqs '^path-exclude=/usr/share/man' /etc/dpkg/dpkg.cfg.d/; then
  no_man=1
  echo "deb.sh: this system's dpkg excludes /usr/share/man: manual pages not checked"
fi
CAIRN_CHECK_NO_MAN=$no_man "$src/scripts/check-install.sh" --installed /usr
if [ -n "$py" ]; then
  # Debian's python3, which the package is for (not a pyenv or conda one).
  (cd "$work" && /usr/bin/python3 -c 'import cairn; print("deb.sh: python3-cairn imports from", cairn.__file__)
assert cairn.__file__.startswith("/usr/lib/python3/")') ||
    { echo "deb.sh: FAIL: python3-cairn does not import"; exit 1; }
fi
echo "deb.sh: PASS: the packages build, install and work"
