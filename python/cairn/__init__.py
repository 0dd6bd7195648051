"""cairn: checkpoint/restart for long Python jobs.

A job protects the state it needs to go on, calls step() once per iteration
of its main loop, and gets atomic, checksummed checkpoints on an interval
(default 5 minutes), every N steps, or when the scheduler sends SIGTERM
(HTCondor eviction, Slurm preemption). The next run of the same program
restores the newest valid checkpoint and goes on from there.

    import sys, numpy as np, cairn

    with cairn.open("job.ckpt") as store:          # a directory, created
        x = store.protect("x", np.zeros(1_000_000))  # restored in place
        store.protect_object("state", {"i": 0})      # pickled at checkpoints
        if store.restore():
            print("resumed at step", store["state"]["i"], file=sys.stderr)
        state = store["state"]
        while state["i"] < 1000:
            x += np.sin(x + state["i"])
            state["i"] += 1
            store.step()                 # cheap unless a checkpoint is due
        print(x.sum())
        store.complete()                 # a rerun starts from scratch

Two kinds of state:
  - buffers (numpy arrays, bytearray, array.array, writable memoryviews),
    with Store.protect(): written and restored in place, never copied;
  - any picklable object, with Store.protect_object(): pickled when a
    checkpoint is written, inside step() or checkpoint(), so the pickle and
    the buffers describe the same moment; restore() unpickles it and
    store[name] gives it back.

Checkpoints are taken only inside step() and checkpoint(): a signal just
asks for one, and the program's state is consistent there because the
program chose that point. After SIGTERM, step() writes the checkpoint and
raises SystemExit(143), so `finally` blocks, `with` blocks and atexit
handlers run as for any exit.

The CAIRN_* environment variables of libcairn apply (CAIRN_INTERVAL,
CAIRN_STEPS, CAIRN_KEEP, CAIRN_EXIT_CODE, CAIRN_COMPRESS, CAIRN_QUIET, ...)
and override what the program passes, so a pool admin can tune a job.
Errors raise cairn.Error, whose .code is libcairn's negative error code.
"""

from ._errors import Error
from ._cairn import (
    Store,
    strerror,
    version,
    optimal_interval,
    FRESH,
    RESTORED,
    CHECKPOINTED,
    EXIT_REQUESTED,
    ECORRUPT,
    EFOREIGN,
    EVERSION,
    EMISMATCH,
    ENOIMAGE,
    EBUSY,
    ESTATE,
    EINVAL,
    ETRUNCATED,
    ECODEC,
    EAUTH,
    ENOTSUP,
)

__version__ = version()

__all__ = [
    "Store", "open", "Error", "strerror", "version", "optimal_interval",
    "FRESH", "RESTORED", "CHECKPOINTED", "EXIT_REQUESTED",
    "ECORRUPT", "EFOREIGN", "EVERSION", "EMISMATCH", "ENOIMAGE", "EBUSY",
    "ESTATE", "EINVAL", "ETRUNCATED", "ECODEC", "EAUTH", "ENOTSUP",
]


def open(path, **options):
    """open(path, **options) -> Store

    Opens (creating if needed) the checkpoint store at `path`, a directory,
    and locks it. The same as cairn.Store(path, **options); see Store for
    the options. Use it in a `with` statement, which closes the store at
    the end of the block (it does not mark the job finished: call
    complete() once the result is written).
    """
    return Store(path, **options)
