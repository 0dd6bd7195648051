#!/usr/bin/env bash
# check-install.sh BUILD_DIR — the user's path (`make check-install`): the
# plain build (no -Werror) installed into a scratch prefix, then what the
# installed tree must do. cairn run finds its runtime and restorer in
# libexec/cairn/ (a job checkpointed, stopped and restored), and cairn.pc
# builds and links a program against the tree.
set -euo pipefail
build=${1:-build}
dir=$(mktemp -d /tmp/cairn-install.XXXXXX)
trap 'rm -rf "$dir"' EXIT
prefix=$dir/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
fail() { echo "check-install: $*" >&2; exit 1; }

[ -x "$prefix/libexec/cairn/cairn-restore" ] || fail "no libexec/cairn/cairn-restore"
[ -f "$prefix/libexec/cairn/libcairn-runtime.so" ] || fail "no libexec/cairn/libcairn-runtime.so"
[ ! -e "$prefix/bin/cairn-restore" ] || fail "cairn-restore is on PATH (bin/)"

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
  env -u CAIRN_RESTORER -u CAIRN_RUNTIME_LIB "$prefix/bin/cairn" run --store st --interval 1 \
    --exit-code 85 -- "${job[@]}" >>out 2>>err || rc=$?
  [ $rc -eq 85 ] && { stopped=$((stopped + 1)); continue; }
  [ $rc -eq 0 ] || { cat err >&2; fail "cairn run exited $rc (pass $pass)"; }
  break
done
[ $rc -eq 0 ] && [ $stopped -ge 1 ] || { cat err >&2; fail "the job was never checkpointed and restored"; }
grep -q "restored from generation" err || { cat err >&2; fail "no restore"; }
[ "$(cat out)" = done ] || fail "the job's output is $(cat out)"
! grep -q "cannot be preloaded" err || { cat err >&2; fail "the runtime was not found"; }

# cairn.pc: the paths of this prefix, and a program that compiles and runs.
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
[ "$(pkg-config --variable=includedir cairn)" = "$prefix/include" ] || fail "includedir is wrong"
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
    printf("%d\n", i);
    return 0;
}
C
# shellcheck disable=SC2046
cc prog.c -o prog $(pkg-config --cflags --libs cairn) || fail "cannot build against cairn.pc"
[ "$(CAIRN_QUIET=1 LD_LIBRARY_PATH=$prefix/lib ./prog 2>/dev/null)" = 3 ] || fail "the program did not run"
echo "check-install: installed tree works (cairn run, libexec/cairn, cairn.pc)"
