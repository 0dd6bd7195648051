# SPDX-License-Identifier: MIT
# tree_objects.py N — a job for measuring what eventfds and sockets add to
# a process tree's pause (docs/TRANSPARENT.md, "Process trees"): N
# socketpairs with 1 KiB queued in each and min(N, 50) eventfds, inherited
# by a child; both compute for 6 s. Run it as
#   cairn run --store st --interval 1 --verbose -- python3 bench/tree_objects.py 100
# and compare the "paused" figures with N = 0.
import os, socket, sys, time
n = int(sys.argv[1])
pairs = [socket.socketpair() for _ in range(n)]
for a, b in pairs:
    a.send(b"x" * 1024)
efds = [os.eventfd(i) for i in range(min(n, 50))]
pid = os.fork()
t0 = time.time()
s = 0
while time.time() - t0 < 6:
    for i in range(100000):
        s = (s * 31 + i) % 1000003
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
print("done", s)
