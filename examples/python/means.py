#!/usr/bin/env python3
"""means.py — means of pairs of random integers, then the mean of the means.

The numpy tutorial's job, with cairn: draw two integers in 1..300, store
their mean, 500 times, and print the mean of the 500 means. The point it
makes about checkpointing: the state of the random number generator is part
of the state of the job. Restore the samples but not the generator, and a
resumed run draws other numbers than an uninterrupted one would have. Here
the samples are a numpy array that cairn protects in place (no copy, the
array is filled back on restore), and the generator is pickled with the
loop counter at each checkpoint, at the same step as the array is written,
so a resumed run prints exactly the same answer, bit for bit.

    python3 means.py                  # 500 samples, 10 ms each: about 5 s
    python3 means.py -n 100000 -d 0 -r 7

The store is means.ckpt in the current directory. The options are those of
sum.py, plus -r SEED.
"""
import argparse
import sys
import time

import cairn

try:
    import numpy as np
except ImportError:
    sys.exit("means.py needs numpy (Debian: apt-get install python3-numpy)")


def main():
    p = argparse.ArgumentParser(description="Mean of means of random pairs, with cairn.")
    p.add_argument("-n", type=int, default=500, help="samples (default 500)")
    p.add_argument("-r", type=int, default=1, metavar="SEED", help="random seed (default 1)")
    p.add_argument("-d", type=float, default=0.01, metavar="SECONDS",
                   help="pause after each sample (default 0.01)")
    p.add_argument("-s", default="means.ckpt", metavar="STORE",
                   help="checkpoint store directory (default means.ckpt)")
    p.add_argument("-i", type=float, default=1.0, metavar="SECONDS",
                   help="seconds between checkpoints (default 1)")
    p.add_argument("-v", action="store_true", help='print "step K" on stderr per sample')
    args = p.parse_args()
    if args.n < 1:
        p.error("-n must be at least 1")

    with cairn.open(args.s, interval=args.i) as store:
        # The samples: written and restored in place, never copied. Change
        # the array in place (means[k] = ..., means += ...); `means = ...`
        # would make a new array that the store does not know.
        means = store.protect("means", np.zeros(args.n))
        # The loop counter and the generator, pickled at each checkpoint.
        store.protect_object("state", {"k": 0, "rng": np.random.default_rng(args.r)})
        if store.restore():
            print(f"means: resumed at step {store['state']['k']}", file=sys.stderr)
        state = store["state"]
        rng = state["rng"]

        while state["k"] < args.n:
            a, b = rng.integers(1, 301, size=2)  # the tutorial's random_integers(1, 300)
            means[state["k"]] = np.mean([a, b])
            state["k"] += 1
            if args.v:
                print(f"step {state['k']}", file=sys.stderr)
            if args.d > 0:
                time.sleep(args.d)
            store.step()

        overall = float(np.mean(means))
        print(f"mean of {args.n} sample means = {overall!r} ({overall.hex()})", flush=True)
        store.complete()


if __name__ == "__main__":
    main()
