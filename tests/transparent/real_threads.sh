#!/bin/sh
# SPDX-License-Identifier: MIT
# real_threads.sh — unmodified multi-threaded Debian programs under cairn run
# (see cycle.sh; the single-threaded ones are real.sh's):
#   real_threads.sh CAIRN numpy|octave cg|octave fib|rscript|java
# Exits 77 (skipped) when the program (or the pthread OpenBLAS) is not
# installed. Each job is checkpointed, SIGKILLed with cairn and restored 3
# times; its output must equal an uninterrupted run's byte for byte. The
# images are large (100-230 MB: every library is embedded) and the job goes
# on while one is written, so each job prints for ~10 s: the last quarter of
# its output, left after the last kill, must outlast the writing of that
# checkpoint. (Should the job end while the writer runs, cairn marks the
# store finished and cycle.sh's next run starts afresh: "stdout differs".)
#
# Where their threads come from:
#  - numpy: matrix products through the pthread OpenBLAS
#    (libopenblas0-pthread). LD_LIBRARY_PATH picks its libblas.so.3 whatever
#    the system's libblas.so.3 alternative says, and OPENBLAS_NUM_THREADS=2
#    makes it start one worker thread (main + 1) on any machine. The script
#    exits 1 if the pthread OpenBLAS is not mapped or the process has only
#    one thread, so the test cannot pass single-threaded. The matrices hold
#    integers (products of values < 1009 over 900 terms stay far below
#    2^53), so every sum is exact whatever order the threads add in.
#  - octave-cli: its signal-watcher thread (the main thread blocks the
#    asynchronous signals, the watcher takes them), plus OpenBLAS's worker
#    (Octave's BLAS is the libblas.so.3 alternative; OPENBLAS_NUM_THREADS=2
#    fixes the count). Two scripts: the conjugate-gradient solver of the
#    MATLAB checkpointing tutorial (cg.m) on 16 diagonal blocks of
#    gallery("wathen", 30, 30) (larger Wathen matrices take gallery() minutes
#    to build) for 6 right-hand sides from a fixed seed, printing each
#    residual with 4 digits, and a Fibonacci / golden-ratio loop.
#    --no-history: Octave otherwise writes its history file at exit (and
#    complains on stderr).
#  - Rscript: R's own interpreter is single-threaded; its BLAS is the
#    libblas.so.3 alternative, which libopenblas0-pthread makes OpenBLAS
#    (priority 100): LD_LIBRARY_PATH and OPENBLAS_NUM_THREADS=2 as for numpy
#    give it a worker thread, and the loop multiplies a small matrix. Rscript
#    execs the bash script /usr/lib/R/bin/R, which execs the R binary: the
#    runtime follows the exec chain.
#  - java: HotSpot's ~20 threads (GC, JIT compilers, VM thread, signal
#    dispatcher, ...). -XX:-UsePerfData: otherwise the JVM maps
#    /tmp/hsperfdata_USER/PID writable MAP_SHARED (for jstat), which cairn
#    refuses (a shared memory mapping); javac gets it too (-J), or it would
#    leave the directory /tmp/hsperfdata_USER behind.
#    -XX:ActiveProcessorCount=2 fixes the number of GC and compiler threads
#    whatever the machine's CPU count; -Xmx64m bounds the heap the image
#    holds. The JIT stays on (-Xint takes ~50 s here): the output depends on
#    the program only. The class-data-sharing archive (classes.jsa, a
#    private file mapping) and lib/modules (read-only MAP_SHARED) are
#    mappings cairn embeds like any other.
set -eu
CAIRN=$1; HERE=$(cd "$(dirname "$0")" && pwd)
need() { command -v "$1" >/dev/null 2>&1 || { echo "skipped: $1 is not installed"; exit 77; }; }
OB=/usr/lib/x86_64-linux-gnu/openblas-pthread
need_openblas() {
    [ -f "$OB/libblas.so.3" ] ||
        { echo "skipped: $OB/libblas.so.3 is missing (libopenblas0-pthread)"; exit 77; }
    export LD_LIBRARY_PATH="$OB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" OPENBLAS_NUM_THREADS=2
}
# The job's files are written once here; SETUP copies them into the
# reference's and the job's directories.
SRC=$(mktemp -d "${TMPDIR:-/tmp}/cairn-real-threads.XXXXXX")
trap 'rm -rf "$SRC"' EXIT
case $2${3:+-$3} in
numpy)
    need /usr/bin/python3
    /usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "skipped: numpy is not installed"; exit 77; }
    need_openblas
    cat >"$SRC/mm.py" <<'EOF'
import os, sys
import numpy as np
if "openblas-pthread" not in open("/proc/self/maps").read():
    sys.exit("numpy does not use the pthread OpenBLAS")
n = 900
i = np.arange(n, dtype=np.float64)
a = np.mod(np.outer(i, i + 3), 7.0)
b = np.mod(np.add.outer(i, 2 * i), 11.0)
for k in range(150):
    b = np.mod(a @ b + k, 1009.0)
    if k == 0 and len(os.listdir("/proc/self/task")) < 2:
        sys.exit("numpy runs with one thread: OpenBLAS started no worker")
    print(k, int(b.sum()), int(b[k, :].sum()), flush=True)
print(int(b.sum()))
EOF
    set -- /usr/bin/python3 mm.py ;;
octave-cg)
    need octave-cli
    need_openblas
    cat >"$SRC/cg.m" <<'EOF'
rand("state", 42);
A = kron(speye(16), gallery("wathen", 30, 30));
tol = 1e-10;
for j = 1:6
  b = A * rand(rows(A), 1);
  r = b + A * b; y = -r; z = A * y; s = y' * z; t = (r' * y) / s; x = -b + t * y;
  for k = 1:numel(b)
    r = r - t * z;
    printf("%d %d %.3e\n", j, k, norm(r)); fflush(stdout);
    if norm(r) < tol
      break;
    end
    B = (r' * z) / s; y = -r + B * y; z = A * y; s = y' * z; t = (r' * y) / s; x = x + t * y;
  end
  printf("system %d: converged in %d iterations, sum(x) = %.6f\n", j, k, sum(x));
end
EOF
    set -- octave-cli --norc --no-history cg.m ;;
octave-fib)
    need octave-cli
    need_openblas
    cat >"$SRC/fib.m" <<'EOF'
phi = (1 + sqrt(5)) / 2;
for rep = 1:40
  a = 0; b = 1; s = 0;
  for i = 1:(30000 + 500 * rep)
    c = mod(a + b, 1000000007); a = b; b = c;
    s = mod(s + a * rep, 1000000007);
  end
  x = 1; y = 1;
  for i = 1:(10 * rep)
    z = x + y; x = y; y = z;
  end
  printf("%d %d %d %.12f %.3e\n", rep, b, s, y / x, abs(y / x - phi)); fflush(stdout);
end
EOF
    set -- octave-cli --norc --no-history fib.m ;;
rscript)
    need Rscript
    need_openblas
    cat >"$SRC/loop.R" <<'EOF'
s <- 0
for (k in 0:119) {
  v <- ((k * 200000):((k + 1) * 200000 - 1)) %% 1000003
  for (i in 1:20) s <- (s + sum((v * (v + i)) %% 97)) %% 1000000007
  m <- matrix(((1:40000) + k) %% 13, 200)
  cat(k, s, sum(m %*% m), "\n")
}
cat(s, "\n")
EOF
    set -- Rscript --vanilla loop.R ;;
java)
    need java
    need javac
    cat >"$SRC/Main.java" <<'EOF'
import java.util.HashMap;

public class Main {
    public static void main(String[] args) {
        HashMap<Integer, Long> m = new HashMap<>();
        long s = 0;
        for (int k = 0; k < 90; k++) {
            for (int i = 0; i < 400000; i++) {
                int key = (int) ((i * 2654435761L + k) % 100003);
                long v = m.getOrDefault(key, 0L);
                m.put(key, (v * 31 + i + k) % 1000000007L);
            }
            s = 0;
            for (long v : m.values()) s = (s * 7 + v) % 1000000007L;
            System.out.println(k + " " + m.size() + " " + s);
        }
        System.out.println(s);
    }
}
EOF
    javac -J-XX:-UsePerfData -d "$SRC" "$SRC/Main.java" || { echo "javac failed" >&2; exit 1; }
    set -- java -XX:-UsePerfData -XX:ActiveProcessorCount=2 -Xmx64m -cp . Main ;;
*)
    echo "unknown program $2" >&2; exit 2 ;;
esac
rc=0
NOGATE=1 SETUP="cp '$SRC'/* ." "$HERE/cycle.sh" "$CAIRN" 3 "" "$@" || rc=$?
exit $rc
