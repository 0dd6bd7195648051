#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bundle.sh SOURCE_DIR — the relocatable bundle of `make dist` (ctest
# packaging_bundle, root only: it needs a mount namespace).
#
# Builds the bundle (packaging/dist.sh, in a scratch directory), unpacks it
# somewhere else, checks that none of its ELF files needs more than
# GLIBC_2.28 (tests/analysis/glibc-versions), builds a C program against its
# cairn.pc, and then, in a mount namespace (unshare -m) where every libzstd,
# libxxhash and libsodium shared object is hidden under an empty file:
#  - shows the libraries are gone (python3's ctypes cannot load them);
#  - bin/cairn runs from the unpacked bundle, and `cairn run` checkpoints a
#    job, stops it (--exit-code 85) and restores it until it finishes;
#  - the same with the three files copied flat into a sandbox directory, as
#    HTCondor's transfer_input_files leaves them;
#  - cairn verify and cairn inspect read the store;
#  - the C program (libcairn.so from the bundle) checkpoints with zstd
#    compression and a key, stops, and resumes.
set -euo pipefail
src=$(cd "$1" && pwd)
[ "$(id -u)" -eq 0 ] || { echo "bundle.sh: skipped: unshare -m needs root"; exit 77; }
command -v unshare >/dev/null || { echo "bundle.sh: FAIL: no unshare (util-linux)"; exit 1; }
work=$(mktemp -d /tmp/cairn-bundle.XXXXXX)
trap 'rm -rf "$work"' EXIT

start=$(date +%s)
"$src/packaging/dist.sh" "$work/dist"
echo "bundle.sh: make dist took $(($(date +%s) - start)) s"
tarball=$(ls "$work"/dist/cairn-*-linux-*.tar.gz)
mkdir -p "$work/node/opt/elsewhere"
tar -C "$work/node/opt/elsewhere" -xzf "$tarball"
bundle=$(ls -d "$work"/node/opt/elsewhere/cairn-*)
# What a pool's nodes need: glibc 2.28 (EL8) or later, for each ELF.
"$src/tests/analysis/glibc-versions" "$bundle/bin/cairn" "$bundle"/libexec/cairn/* "$bundle"/lib/libcairn.so.*.*

# Built outside the namespace (the compiler is not what is tested), run inside.
cat >"$work/prog.c" <<'C'
#include <cairn.h>
#include <stdio.h>
int main(void)
{
    cairn_t *c;
    static double x[4096];
    long i = 0;
    if (cairn_open(&c, "prog.ckpt", NULL) < 0)
        return 1;
    cairn_protect(c, "i", &i, sizeof i);
    cairn_protect(c, "x", x, sizeof x);
    int rc = cairn_restore(c);
    if (rc < 0)
        return 1;
    if (rc == CAIRN_RESTORED)
        fprintf(stderr, "prog: resumed at step %ld\n", i);
    for (; i < 10; i++) {
        x[i] = (double)i / 3;
        cairn_step(c);
    }
    double s = 0;
    for (int k = 0; k < 10; k++)
        s += x[k];
    printf("%.17g\n", s);
    cairn_complete(c);
    cairn_close(c);
    return 0;
}
C
# shellcheck disable=SC2046
cc "$work/prog.c" -o "$work/prog" $(PKG_CONFIG_PATH=$bundle/lib/pkgconfig pkg-config --cflags --libs cairn)
used=$(ldd "$work/prog" | sed -n 's/.*libcairn\.so\.0 => \([^ ]*\).*/\1/p')
[ -n "$used" ] && [ "$(realpath "$used")" = "$(realpath "$bundle/lib/libcairn.so.0")" ] ||
  { ldd "$work/prog"; echo "bundle.sh: FAIL: prog does not use the bundle's libcairn.so"; exit 1; }
mkdir -p "$work/home"
head -c 32 /dev/urandom >"$work/home/key"
chmod 600 "$work/home/key"

cat >"$work/inside.sh" <<'INSIDE'
set -euo pipefail
bundle=$1 work=$2
fail() { echo "bundle.sh: FAIL: $*"; exit 1; }
# Hide every libzstd, libxxhash and libsodium shared object (the files the
# symbolic links lead to) under an empty file.
: >"$work/empty"
hidden=0
for f in $(ls /usr/lib/*/lib{zstd,xxhash,sodium}.so* /usr/lib/lib{zstd,xxhash,sodium}.so* 2>/dev/null |
           xargs -r -n1 realpath | sort -u); do
  mount --bind "$work/empty" "$f"
  hidden=$((hidden + 1))
done
[ $hidden -ge 3 ] || fail "found only $hidden of the libraries to hide"
for l in libzstd.so.1 libxxhash.so.0 libsodium.so.23; do
  ! /usr/bin/python3 -c "import ctypes; ctypes.CDLL('$l')" 2>/dev/null || fail "$l can still be loaded"
done
echo "bundle.sh: in the namespace, $hidden files are hidden: libzstd, libxxhash and libsodium cannot be loaded"

job=(/usr/bin/python3 -c 'import time
for i in range(30): time.sleep(0.1)
print("done")')
# Runs `CAIRN run` until the job finishes; it must be stopped (85) at least once.
run_job() {
  local cairn=$1 dir=$2 stopped=0 rc pass
  mkdir -p "$dir"
  cd "$dir"
  for pass in 1 2 3 4 5 6 7 8 9 10; do
    rc=0
    "$cairn" run --store st --interval 1 --exit-code 85 -- "${job[@]}" >>out 2>>err || rc=$?
    [ $rc -eq 85 ] && { stopped=$((stopped + 1)); continue; }
    [ $rc -eq 0 ] || { cat err; fail "cairn run exited $rc (pass $pass) in $dir"; }
    break
  done
  [ $stopped -ge 1 ] && grep -q "restored from generation" err || { cat err; fail "no checkpoint and restore in $dir"; }
  [ "$(cat out)" = done ] || fail "the job printed $(cat out)"
  echo "bundle.sh: $cairn: the job was stopped $stopped times and restored, output intact"
}
"$bundle/bin/cairn" --version
run_job "$bundle/bin/cairn" "$work/run1"

# HTCondor's sandbox: the three files side by side.
mkdir -p "$work/sandbox"
cp "$bundle/bin/cairn" "$bundle/libexec/cairn/cairn-restore" "$bundle/libexec/cairn/libcairn-runtime.so" "$work/sandbox/"
run_job "$work/sandbox/cairn" "$work/sandbox/job"

# cairn inspect and verify read a store (xxhash, and the job's images).
cd "$work/run1"
"$bundle/bin/cairn" run --store kept --interval 0.3 --exit-code 85 -- "${job[@]}" >/dev/null 2>&1 && fail "the job was not stopped"
"$bundle/bin/cairn" verify kept || fail "cairn verify"
report=$("$bundle/bin/cairn" inspect --json kept) || fail "cairn inspect exited $?"
grep -q '"status": "valid"' <<<"$report" || fail "cairn inspect does not find the image valid"

# libcairn.so from the bundle: zstd compression and an authenticated image;
# the answer must be the uninterrupted run's.
mkdir -p "$work/ref"
(cd "$work/ref" && "$work/prog" >ref.out 2>/dev/null) || fail "prog does not run"
cd "$work"
runs=0
while :; do
  runs=$((runs + 1))
  [ $runs -le 10 ] || fail "prog never finished"
  rc=0
  CAIRN_STEPS=4 CAIRN_EXIT_CODE=85 CAIRN_COMPRESS=zstd:3 CAIRN_KEY_FILE=$work/home/key \
    "$work/prog" >prog.out 2>>prog.err || rc=$?
  if [ $rc -eq 85 ]; then
    if [ $runs -eq 1 ]; then # the image: compressed, and authenticated only with the key
      report=$("$bundle/bin/cairn" inspect --json prog.ckpt) || fail "cairn inspect prog.ckpt"
      grep -q '"codec": "zstd"' <<<"$report" || fail "prog's image is not compressed with zstd"
      CAIRN_KEY_FILE=$work/home/key "$bundle/bin/cairn" verify -q prog.ckpt || fail "the keyed image does not verify"
    fi
    continue
  fi
  [ $rc -eq 0 ] || { cat prog.err; fail "prog exited $rc"; }
  break
done
cmp -s prog.out ref/ref.out && [ $runs -ge 3 ] && grep -q 'resumed at step' prog.err || { cat prog.err prog.out; fail "prog did not resume"; }
echo "bundle.sh: the bundle's libcairn.so wrote zstd-compressed, keyed images and restored them ($runs runs)"
INSIDE
unshare -m --propagation private bash "$work/inside.sh" "$bundle" "$work"
echo "bundle.sh: PASS: the bundle runs where libzstd, libxxhash and libsodium are hidden"
