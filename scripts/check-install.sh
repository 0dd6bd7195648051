#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check-install.sh — an installed cairn, used as its users use it.
#
#   check-install.sh BUILD_DIR            `make check-install`: the plain build
#                                          installed into a scratch prefix
#   check-install.sh --home BUILD_DIR     the README's user install: HOME is a
#                                          scratch directory, the prefix
#                                          $HOME/.local, and everything is found
#                                          through the variables the README sets
#                                          (PATH, MANPATH, PKG_CONFIG_PATH,
#                                          CMAKE_PREFIX_PATH; no LD_LIBRARY_PATH)
#                                          (ctest install_home, as root and as
#                                          cairn-ci)
#   check-install.sh --installed PREFIX   a tree installed already: the .debs
#                                          in /usr (tests/packaging/deb.sh)
#
# What the installed tree must do: cairn --version; man finds cairn(1),
# cairn-run(1), libcairn(3), cairn_open(3) (and cairn-fortran(3)); the bash
# completion loads; cairn run finds its runtime and restorer in
# libexec/cairn/ (a job checkpointed, stopped and restored); cairn.pc builds a
# C program that runs without LD_LIBRARY_PATH; find_package(cairn) builds
# programs with cairn::cairn, cairn::cairn_static and cairn::fortran; and
# cairn-fortran.pc builds a gfortran program that checkpoints, stops and
# resumes (when gfortran is installed, the module must be). CAIRN_CHECK_NO_MAN=1
# skips the manual pages (a system whose dpkg drops /usr/share/man).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
mode=scratch
case ${1:-} in
--home) mode=home; shift ;;
--installed) mode=installed; shift ;;
esac
fail() { echo "check-install: $*" >&2; exit 1; }
note() { echo "check-install: $*"; }

dir=$(mktemp -d /tmp/cairn-install.XXXXXX)
trap 'rm -rf "$dir"' EXIT
case $mode in
scratch)
  prefix=$dir/prefix
  cmake --install "${1:-build}" --prefix "$prefix" >/dev/null
  ;;
home)
  export HOME=$dir/home
  mkdir -p "$HOME"
  prefix=$HOME/.local
  cmake --install "${1:-build}" --prefix "$prefix" >/dev/null
  ;;
installed)
  prefix=${1:?check-install.sh --installed PREFIX}
  ;;
esac
# What the README's install section says to set for a prefix of one's own.
unset LD_LIBRARY_PATH CAIRN_RESTORER CAIRN_RUNTIME_LIB
if [ "$mode" != installed ]; then
  export PATH=$prefix/bin:$PATH
  export MANPATH=$prefix/share/man:
  export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
  export CMAKE_PREFIX_PATH=$prefix
fi
cairn=$prefix/bin/cairn
[ "$(command -v cairn)" = "$cairn" ] || fail "cairn on PATH is $(command -v cairn), not $cairn"
version=$(sed -n 's/#define CAIRN_VERSION_STRING "\(.*\)"/\1/p' "$top/include/cairn.h")
[ "$(cairn --version)" = "cairn $version" ] || fail "cairn --version says '$(cairn --version)'"
[ "$(cairn run --version)" = "cairn $version" ] || fail "cairn run --version says '$(cairn run --version)'"

[ -x "$prefix/libexec/cairn/cairn-restore" ] || fail "no libexec/cairn/cairn-restore"
[ -f "$prefix/libexec/cairn/libcairn-runtime.so" ] || fail "no libexec/cairn/libcairn-runtime.so"
[ ! -e "$prefix/bin/cairn-restore" ] || fail "cairn-restore is on PATH (bin/)"

fortran=0
if command -v gfortran >/dev/null; then
  pkg-config --exists cairn-fortran || fail "gfortran is installed but cairn-fortran.pc is not (the Fortran module was not built?)"
  fortran=1
fi

# Manual pages, through MANPATH (or the system's).
if [ "${CAIRN_CHECK_NO_MAN:-0}" = 1 ]; then
  note "manual pages not checked (CAIRN_CHECK_NO_MAN=1)"
elif ! command -v man >/dev/null; then
  fail "man is not installed (Debian: man-db)"
else
  pages="cairn cairn-run cairn-checkpoint cairn-inspect cairn-verify cairn-ls cairn-advise libcairn cairn_open cairn_step"
  [ $fortran = 1 ] && pages="$pages cairn-fortran"
  for p in $pages; do
    where=$(man -w "$p" 2>/dev/null) || fail "man $p: no such page (MANPATH=${MANPATH:-})"
    case $where in "$prefix"/share/man/*) ;; *) fail "man $p finds $where, not the page in $prefix/share/man" ;; esac
  done
  text=$(MANWIDTH=80 man cairn-run 2>/dev/null) || fail "man cairn-run fails"
  grep -q 'restore it' <<<"$text" || fail "man cairn-run does not render"
fi

# The bash completion loads and completes.
comp=$prefix/share/bash-completion/completions/cairn
[ -f "$comp" ] || fail "no $comp"
[ "$(bash -c '. "$1"; COMP_WORDS=(cairn ver); COMP_CWORD=1; _cairn; echo "${COMPREPLY[*]}"' _ "$comp")" = verify ] ||
  fail "the bash completion does not complete 'cairn ver'"

# A job checkpointed every second and stopped (exit 85), then restored by
# the same command line until it finishes: the runtime and the restorer are
# both needed, and only the installed ones can be found.
cd "$dir"
job=(/usr/bin/python3 -c 'import time
for i in range(30): time.sleep(0.1)
print("done")')
stopped=0
for pass in 1 2 3 4 5 6 7 8 9 10; do
  rc=0
  cairn run --store st --interval 1 --exit-code 85 -- "${job[@]}" >>out 2>>err || rc=$?
  [ $rc -eq 85 ] && { stopped=$((stopped + 1)); continue; }
  [ $rc -eq 0 ] || { cat err >&2; fail "cairn run exited $rc (pass $pass)"; }
  break
done
[ $rc -eq 0 ] && [ $stopped -ge 1 ] || { cat err >&2; fail "the job was never checkpointed and restored"; }
grep -q "restored from generation" err || { cat err >&2; fail "no restore"; }
[ "$(cat out)" = done ] || fail "the job's output is $(cat out)"
! grep -q "cannot be preloaded" err || { cat err >&2; fail "the runtime was not found"; }
note "cairn run: stopped $stopped times (exit 85), restored, finished"

# cairn.pc: the paths of this prefix, and a program that compiles and runs
# without LD_LIBRARY_PATH.
includedir=$(pkg-config --variable=includedir cairn)
[ "$includedir" = "$prefix/include" ] || fail "cairn.pc: includedir is $includedir, not $prefix/include"
cat >prog.c <<'C'
#include <cairn.h>
#include <stdio.h>
int main(void)
{
    cairn_t *c;
    int i = 0;
    if (cairn_open(&c, "prog.ckpt", NULL) < 0)
        return 1;
    cairn_protect(c, "i", &i, sizeof i);
    if (cairn_restore(c) < 0)
        return 1;
    for (; i < 3; i++)
        cairn_step(c);
    cairn_complete(c);
    cairn_close(c);
    printf("%d %s\n", i, cairn_version_string());
    return 0;
}
C
# shellcheck disable=SC2046
cc prog.c -o prog $(pkg-config --cflags --libs cairn) || fail "cannot build against cairn.pc"
[ "$(CAIRN_QUIET=1 ./prog 2>/dev/null)" = "3 $version" ] || fail "the pkg-config program did not run"
note "pkg-config cairn: a C program builds and runs without LD_LIBRARY_PATH"

# The same through cairn-fortran.pc, in Fortran: with CAIRN_STEPS=3 and
# CAIRN_EXIT_CODE=85 it checkpoints and exits every 3 steps, and the same
# command line resumes it until it prints its answer.
if [ $fortran = 1 ]; then
  cat >count.f90 <<'F'
program count
   use, intrinsic :: iso_fortran_env, only: error_unit
   use cairn
   implicit none
   type(cairn_t) :: ck
   integer, target :: i, total
   logical :: resumed
   i = 0
   total = 0
   call cairn_open(ck, 'count.ckpt')
   call cairn_protect(ck, 'i', i)
   call cairn_protect(ck, 'total', total)
   call cairn_restore(ck, restored=resumed)
   if (resumed) write (error_unit, '(a,i0)') 'resumed at step ', i
   do while (i < 10)
      i = i + 1
      total = total + i
      call cairn_step(ck)
   end do
   print '(i0)', total
   call cairn_complete(ck)
   call cairn_close(ck)
end program count
F
  # shellcheck disable=SC2046
  gfortran count.f90 -o count $(pkg-config --cflags --libs cairn-fortran) ||
    fail "cannot build a Fortran program against cairn-fortran.pc"
  runs=0
  while :; do
    runs=$((runs + 1))
    [ $runs -le 10 ] || fail "the Fortran program never finished"
    rc=0
    CAIRN_STEPS=3 CAIRN_EXIT_CODE=85 CAIRN_QUIET=1 ./count >count.out 2>>count.err || rc=$?
    [ $rc -eq 85 ] && continue
    [ $rc -eq 0 ] || { cat count.err >&2; fail "the Fortran program exited $rc"; }
    break
  done
  [ "$(cat count.out)" = 55 ] || fail "the Fortran program printed $(cat count.out), not 55"
  [ $runs -eq 4 ] && grep -q 'resumed at step 9' count.err ||
    { cat count.err >&2; fail "the Fortran program did not resume three times ($runs runs)"; }
  note "pkg-config cairn-fortran: a gfortran program checkpoints, stops and resumes (4 runs)"
fi

# find_package(cairn): the shared and the static library, and the module.
mkdir cm
cp prog.c cm/
langs=C
components=
if [ $fortran = 1 ]; then
  cp count.f90 cm/
  langs="C Fortran"
  components="COMPONENTS fortran"
fi
cat >cm/CMakeLists.txt <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(consumer LANGUAGES $langs)
find_package(cairn $version REQUIRED $components)
add_executable(prog_shared prog.c)
target_link_libraries(prog_shared PRIVATE cairn::cairn)
add_executable(prog_static prog.c)
target_link_libraries(prog_static PRIVATE cairn::cairn_static)
if(TARGET cairn::fortran)
  add_executable(count count.f90)
  target_link_libraries(count PRIVATE cairn::fortran)
endif()
CMAKE
cmake -S cm -B cm/build >cm.log 2>&1 && cmake --build cm/build >>cm.log 2>&1 ||
  { cat cm.log >&2; fail "find_package(cairn) does not build a program"; }
for p in prog_shared prog_static; do
  (cd cm/build && [ "$(CAIRN_QUIET=1 ./$p 2>/dev/null)" = "3 $version" ]) || fail "the CMake-built $p did not run"
done
libs=$(ldd cm/build/prog_static)
! grep -q libcairn <<<"$libs" || fail "prog_static links libcairn.so"
if [ $fortran = 1 ]; then
  (cd cm/build && [ "$(CAIRN_QUIET=1 ./count 2>/dev/null)" = 55 ]) || fail "the CMake-built Fortran program did not run"
fi
note "find_package(cairn): cairn::cairn, cairn::cairn_static${components:+ and cairn::fortran} build programs that run"

echo "check-install: installed tree works ($mode, $prefix): cairn run, libexec/cairn, man, completion, cairn.pc${components:+, cairn-fortran.pc}, find_package(cairn)"
