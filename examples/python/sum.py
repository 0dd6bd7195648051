#!/usr/bin/env python3
"""sum.py — add up 1..N, one number per step, and survive being killed.

The checkpointing tutorials' first example, with cairn. The whole state of
the job is the loop counter and the running total, kept in one object that
cairn pickles at each checkpoint. Run it, kill it (even with kill -9), run
the same command again: it goes on from the last checkpoint and prints the
same answer.

    python3 sum.py                    # 1..3000, 2 ms a step: about 6 s
    python3 sum.py -n 100000 -d 0     # as fast as it goes
    CAIRN_INTERVAL=10m python3 sum.py # checkpoint every 10 minutes

The store is the directory sum.ckpt in the current directory (-s to
change). Options common to the examples: -n N steps, -d SECONDS of pause
after each step (to make it slow enough to interrupt), -s STORE, -v to print
"step K" on stderr after every step (the tests count steps with it),
-i SECONDS between checkpoints (default 1 here, to see it work; cairn's
default is 5 minutes; CAIRN_INTERVAL and CAIRN_STEPS override it).
stdout carries the answer only; "resumed at step K" goes to stderr.
"""
import argparse
import sys
import time

import cairn


class State:
    """Everything the next step depends on."""

    def __init__(self):
        self.i = 0      # numbers added so far
        self.total = 0  # their sum


def main():
    p = argparse.ArgumentParser(description="Add up 1..N, checkpointed with cairn.")
    p.add_argument("-n", type=int, default=3000, help="last number (default 3000)")
    p.add_argument("-d", type=float, default=0.002, metavar="SECONDS",
                   help="pause after each step (default 0.002)")
    p.add_argument("-s", default="sum.ckpt", metavar="STORE",
                   help="checkpoint store directory (default sum.ckpt)")
    p.add_argument("-i", type=float, default=1.0, metavar="SECONDS",
                   help="seconds between checkpoints (default 1)")
    p.add_argument("-v", action="store_true", help='print "step K" on stderr per step')
    args = p.parse_args()

    with cairn.open(args.s, interval=args.i) as store:
        store.protect_object("state", State())
        if store.restore():                    # cairn.RESTORED, or FRESH (0)
            print(f"sum: resumed at step {store['state'].i}", file=sys.stderr)
        state = store["state"]                 # the restored object, or the new one

        while state.i < args.n:
            state.i += 1        # advance first: a checkpoint below says "i steps done"
            state.total += state.i
            if args.v:
                print(f"step {state.i}", file=sys.stderr)
            if args.d > 0:
                time.sleep(args.d)
            store.step()        # cheap, unless a checkpoint is due

        # The answer first, then complete(): if the job is killed in between,
        # the rerun resumes from the last checkpoint and prints it again.
        print(f"sum of 1..{args.n} = {state.total}", flush=True)
        store.complete()


if __name__ == "__main__":
    main()
