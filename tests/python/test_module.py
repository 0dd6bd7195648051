#!/usr/bin/env python3
"""Unit tests of the Python module cairn (stdlib unittest; run by ctest as
python.unit, with PYTHONPATH at the build tree's package).

Each test gets a scratch directory and no CAIRN_* variable from the caller
(CAIRN_QUIET=1 unless it wants libcairn's messages). What runs in a child
process (signals, exits, fork) is checked on its exit status and output.
"""
import array
import atexit  # noqa: F401  (used by the child scripts)
import errno
import glob
import os
import pickle
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import cairn

try:
    import numpy as np
except ImportError:  # the suite needs it: scripts/deps.sh --test installs python3-numpy
    np = None


def needs_numpy(test):
    def run(self):
        if np is None:
            self.fail("numpy is missing: install python3-numpy (scripts/deps.sh --test)")
        test(self)
    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    return run


class Counted:
    """Counts how often it is pickled."""
    pickles = 0

    def __init__(self, value):
        self.value = value

    def __getstate__(self):
        Counted.pickles += 1
        return {"value": self.value}


class Base(unittest.TestCase):
    def setUp(self):
        self.saved_env = {k: v for k, v in os.environ.items() if k.startswith("CAIRN_")}
        for k in self.saved_env:
            del os.environ[k]
        os.environ["CAIRN_QUIET"] = "1"
        self.dir = tempfile.mkdtemp(prefix="cairn-pyunit-")
        self.path = os.path.join(self.dir, "s.ckpt")

    def tearDown(self):
        for k in [k for k in os.environ if k.startswith("CAIRN_")]:
            del os.environ[k]
        os.environ.update(self.saved_env)
        shutil.rmtree(self.dir, ignore_errors=True)

    def generations(self, path=None):
        return sorted(os.path.basename(p)
                      for p in glob.glob(os.path.join(path or self.path, "ckpt-*.cairn")))

    def child(self, code, env=None, timeout=60, **kw):
        """Runs a Python script in a child; returns the CompletedProcess."""
        e = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        e.update(env or {})
        return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=self.dir,
                              env=e, capture_output=True, text=True, timeout=timeout, **kw)

    def start_child(self, code, env=None):
        """Starts a script that prints "ready" on stdout when it is looping;
        returns the process and the lines it printed before."""
        e = {k: v for k, v in os.environ.items() if not k.startswith("CAIRN_")}
        e.update(env or {})
        p = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], cwd=self.dir,
                             env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        before = []
        for line in p.stdout:  # blocks until the child says something
            if line == "ready\n":
                return p, before
            before.append(line)
        out, err = p.communicate()
        self.fail(f"the child ended before it was ready: {before} {err}")


# A child job: protects a counter, loops forever stepping every 10 ms, and
# says "ready" once it loops. {opts} are Store options.
LOOP_JOB = """
import atexit, sys, time, cairn
atexit.register(lambda: print("atexit ran", flush=True))
store = cairn.Store("s.ckpt", {opts})
store.protect_object("state", {{"i": 0}})
if store.restore():
    print("resumed at", store["state"]["i"], flush=True)
state = store["state"]
n = 0
try:
    while True:
        state["i"] += 1
        rc = store.step()
        if rc == cairn.EXIT_REQUESTED:
            print("exit requested at", state["i"], flush=True)
            break
        n += 1
        if n == 3:
            print("ready", flush=True)
        time.sleep(0.01)
finally:
    print("finally ran at", state["i"], flush=True)
"""


class TestBuffers(Base):
    def roundtrip(self, make, fill, check):
        """protect, restore (fresh), change the buffer, checkpoint; then a
        new store on a new, zeroed buffer restores the changed bytes."""
        with cairn.open(self.path) as s:
            buf = make()
            self.assertIs(s.protect("b", buf), buf)
            self.assertEqual(s.restore(), cairn.FRESH)
            fill(buf)  # after protect: only memory protected in place sees this
            s.checkpoint()
        with cairn.open(self.path) as s:
            buf2 = s.protect("b", make())
            self.assertEqual(s.restore(), cairn.RESTORED)
            check(buf2)
            self.assertTrue(s.restored)

    def test_bytearray(self):
        def fill(b):
            b[:] = bytes(range(32))
        self.roundtrip(lambda: bytearray(32), fill,
                       lambda b: self.assertEqual(bytes(b), bytes(range(32))))

    def test_array_array(self):
        def fill(a):
            for i in range(len(a)):
                a[i] = i * 1.5
        self.roundtrip(lambda: array.array("d", [0.0] * 10), fill,
                       lambda a: self.assertEqual(list(a), [i * 1.5 for i in range(10)]))

    def test_memoryview(self):
        backing = []

        def make():
            backing.append(bytearray(8))
            return memoryview(backing[-1])

        def fill(m):
            m[:] = b"abcdefgh"
        self.roundtrip(make, fill, lambda m: self.assertEqual(backing[-1], b"abcdefgh"))

    @needs_numpy
    def test_numpy_in_place(self):
        """A numpy array is restored into its own memory, not replaced."""
        with cairn.open(self.path) as s:
            a = s.protect("a", np.zeros((3, 4)))
            s.restore()
            a += np.arange(12).reshape(3, 4)
            s.checkpoint()
        with cairn.open(self.path) as s:
            b = np.zeros((3, 4))
            address = b.ctypes.data
            s.protect("a", b)
            s.restore()
            self.assertEqual(b.ctypes.data, address)
            np.testing.assert_array_equal(b, np.arange(12).reshape(3, 4))

    @needs_numpy
    def test_numpy_dtypes_and_order(self):
        def fill(a):
            a[...] = np.arange(a.size).reshape(a.shape, order="F")
        for make in (lambda: np.zeros((4, 5), order="F"),
                     lambda: np.zeros(7, dtype=np.int32),
                     lambda: np.zeros((2, 2), dtype=np.complex128)):
            shutil.rmtree(self.path, ignore_errors=True)
            self.roundtrip(make, fill, lambda a, m=make: np.testing.assert_array_equal(
                a, np.arange(m().size).reshape(m().shape, order="F")))

    def test_export_held_until_close(self):
        b = bytearray(8)
        a = array.array("i", [0, 0])
        s = cairn.Store(self.path)
        s.protect("b", b)
        s.protect("a", a)
        with self.assertRaises(BufferError):
            b.extend(b"x")
        with self.assertRaises(BufferError):
            a.append(1)
        s.close()
        b.extend(b"x")
        a.append(1)
        self.assertEqual(len(b), 9)

    @needs_numpy
    def test_numpy_resize_refused(self):
        a = np.zeros(8)
        with cairn.open(self.path) as s:
            s.protect("a", a)
            with self.assertRaises(ValueError):
                a.resize(16)

    def test_rejects_read_only(self):
        with cairn.open(self.path) as s:
            with self.assertRaisesRegex(TypeError, "writable"):
                s.protect("b", b"immutable")
            with self.assertRaisesRegex(TypeError, "writable"):
                s.protect("m", memoryview(bytearray(4)).toreadonly())

    @needs_numpy
    def test_rejects_non_contiguous_and_read_only_numpy(self):
        with cairn.open(self.path) as s:
            with self.assertRaisesRegex(TypeError, "contiguous"):
                s.protect("a", np.zeros(10)[::2])
            r = np.zeros(3)
            r.flags.writeable = False
            with self.assertRaises(TypeError):
                s.protect("r", r)

    def test_rejects_non_buffer(self):
        with cairn.open(self.path) as s:
            with self.assertRaisesRegex(TypeError, "protect_object"):
                s.protect("x", 5)

    def test_size_mismatch(self):
        with cairn.open(self.path) as s:
            s.protect("b", bytearray(8))
            s.restore()
            s.checkpoint()
        with cairn.open(self.path) as s:
            s.protect("b", bytearray(9))
            with self.assertRaises(cairn.Error) as cm:
                s.restore()
            self.assertEqual(cm.exception.code, cairn.EMISMATCH)

    def test_empty_buffer(self):
        self.roundtrip(lambda: bytearray(0), lambda b: None,
                       lambda b: self.assertEqual(b, bytearray()))


class TestObjects(Base):
    def test_roundtrip(self):
        with cairn.open(self.path) as s:
            st = s.protect_object("state", {"a": [1, 2], "s": "x"})
            s.restore()
            st["a"].append(3)            # changed after protect_object
            s.checkpoint()
        with cairn.open(self.path) as s:
            initial = {}
            s.protect_object("state", initial)
            self.assertEqual(s.restore(), cairn.RESTORED)
            self.assertEqual(s["state"], {"a": [1, 2, 3], "s": "x"})
            self.assertIsNot(s["state"], initial)

    def test_pickled_at_checkpoint_time(self):
        """The pickle is what the object was at the checkpoint, not later."""
        with cairn.open(self.path) as s:
            st = s.protect_object("state", {"i": 1})
            s.restore()
            st["i"] = 2
            s.checkpoint()
            st["i"] = 3                  # after the last checkpoint: lost
        with cairn.open(self.path) as s:
            s.protect_object("state", None)
            s.restore()
            self.assertEqual(s["state"], {"i": 2})

    def test_assignment_replaces(self):
        with cairn.open(self.path) as s:
            s.protect_object("n", 0)
            s.restore()
            s["n"] = 41
            s["n"] += 1
            s.checkpoint()
        with cairn.open(self.path) as s:
            s.protect_object("n", 0)
            s.restore()
            self.assertEqual(s["n"], 42)

    def test_only_pickled_when_due(self):
        Counted.pickles = 0
        with cairn.open(self.path, steps=5) as s:
            s.protect_object("c", Counted(0))
            self.assertEqual(Counted.pickles, 1)    # the trial pickle
            s.restore()
            results = [s.step() for _ in range(23)]
            self.assertEqual(results.count(cairn.CHECKPOINTED), 4)
            self.assertEqual(Counted.pickles, 1 + 4)
            self.assertEqual(s.stats()["checkpoints"], 4)

    @needs_numpy
    def test_consistent_with_buffers(self):
        """Buffers and pickled objects in one image describe one step."""
        with cairn.open(self.path, steps=7) as s:
            a = s.protect("a", np.zeros(1))
            st = s.protect_object("state", {"i": 0})
            s.restore()
            for i in range(1, 40):
                a[0] = i
                st["i"] = i
                s.step()
        with cairn.open(self.path) as s:
            a = s.protect("a", np.zeros(1))
            s.protect_object("state", None)
            s.restore()
            self.assertEqual(s["state"]["i"], 35)
            self.assertEqual(a[0], 35)

    def test_random_state(self):
        """A random.Random resumes its sequence exactly."""
        with cairn.open(self.path) as s:
            r = s.protect_object("rng", random.Random(5))
            s.restore()
            [r.random() for _ in range(10)]
            s.checkpoint()
            expected = [r.random() for _ in range(5)]
        with cairn.open(self.path) as s:
            s.protect_object("rng", random.Random())
            s.restore()
            self.assertEqual([s["rng"].random() for _ in range(5)], expected)

    @needs_numpy
    def test_numpy_generator_state(self):
        with cairn.open(self.path) as s:
            g = s.protect_object("g", np.random.default_rng(42))
            s.restore()
            g.integers(1, 301, size=100)
            s.checkpoint()
            expected = g.integers(1, 301, size=10).tolist()
        with cairn.open(self.path) as s:
            s.protect_object("g", np.random.default_rng(0))
            s.restore()
            self.assertEqual(s["g"].integers(1, 301, size=10).tolist(), expected)

    def assert_pickle_error(self, cm, name):
        self.assertIn(f"cairn: cannot pickle the object protected as {name!r}",
                      " ".join(getattr(cm.exception, "__notes__", [])))

    def test_unpicklable_fails_at_protect(self):
        with cairn.open(self.path) as s:
            with self.assertRaises((TypeError, AttributeError, pickle.PicklingError)) as cm:
                s.protect_object("f", lambda: 0)
            self.assert_pickle_error(cm, "f")
            with open(os.devnull) as f, self.assertRaises(TypeError) as cm:
                s.protect_object("file", f)
            self.assertNotIn("f", s)
            self.assertNotIn("file", s)

    def test_unpicklable_later_fails_at_step(self):
        with cairn.open(self.path, steps=1) as s:
            s.protect_object("x", [])
            s.restore()
            with open(os.devnull) as f:
                s["x"].append(f)
                with self.assertRaises(TypeError) as cm:
                    s.step()
            self.assert_pickle_error(cm, "x")
            self.assertEqual(self.generations(), [])
            self.assertEqual(s.stats()["failed"], 1)   # a cancelled checkpoint
            s["x"].clear()
            self.assertEqual(s.step(), cairn.CHECKPOINTED)

    def test_store_is_not_picklable(self):
        with cairn.open(self.path) as s:
            with self.assertRaises(TypeError):
                pickle.dumps(s)
            with self.assertRaises(TypeError):
                s.protect_object("me", {"store": s})

    def test_unpickle_failure(self):
        with cairn.open(self.path) as s:
            s.protect_object("x", Counted(1))
            s.restore()
            s.checkpoint()
        saved = Counted
        try:
            del globals()["Counted"]
            with cairn.open(self.path) as s:
                s.protect_object("x", None)
                with self.assertRaises(AttributeError) as cm:
                    s.restore()
                self.assertIn("cairn: cannot unpickle the object protected as 'x'",
                              " ".join(cm.exception.__notes__))
                self.assertEqual(s.state, "ready")
        finally:
            globals()["Counted"] = saved


class TestErrors(Base):
    def test_busy(self):
        with cairn.open(self.path):
            with self.assertRaises(cairn.Error) as cm:
                cairn.open(self.path)
        e = cm.exception
        self.assertEqual(e.code, cairn.EBUSY)
        self.assertEqual(e.code, -30006)
        self.assertEqual(e.message, cairn.strerror(cairn.EBUSY))
        self.assertEqual(e.path, self.path)
        self.assertIsNone(e.errno)
        self.assertIn("[cairn -30006] checkpoint store is in use by another process", str(e))

    def test_system_error(self):
        open(os.path.join(self.dir, "file"), "w").close()
        with self.assertRaises(cairn.Error) as cm:
            cairn.open(os.path.join(self.dir, "file", "s.ckpt"))
        self.assertEqual(cm.exception.code, -errno.ENOTDIR)
        self.assertEqual(cm.exception.errno, errno.ENOTDIR)
        self.assertEqual(cm.exception.message, os.strerror(errno.ENOTDIR))

    def test_states(self):
        s = cairn.Store(self.path)
        s.protect("b", bytearray(4))
        for call in (s.step, s.checkpoint, s.complete):
            with self.assertRaises(cairn.Error) as cm:
                call()
            self.assertEqual(cm.exception.code, cairn.ESTATE)
            self.assertIn("before restore()", str(cm.exception))
        s.restore()
        with self.assertRaises(cairn.Error) as cm:
            s.protect("c", bytearray(4))
        self.assertEqual(cm.exception.code, cairn.ESTATE)
        with self.assertRaises(cairn.Error):
            s.restore()
        s.complete()
        with self.assertRaises(cairn.Error) as cm:
            s.step()
        self.assertIn("after complete()", str(cm.exception))
        s.close()
        s.close()  # twice is fine
        with self.assertRaises(cairn.Error) as cm:
            s.stats()
        self.assertEqual(cm.exception.code, cairn.ESTATE)
        self.assertIn("closed", str(cm.exception))

    def test_names(self):
        with cairn.open(self.path) as s:
            with self.assertRaises(ValueError):
                s.protect("", bytearray(1))
            with self.assertRaises(ValueError):
                s.protect("x" * 256, bytearray(1))
            with self.assertRaises(TypeError):
                s.protect(b"bytes", bytearray(1))
            s.protect("x" * 255, bytearray(1))
            s.protect("ü", bytearray(1))
            with self.assertRaises(cairn.Error) as cm:
                s.protect_object("ü", 1)
            self.assertEqual(cm.exception.code, cairn.EINVAL)

    def test_corrupt_image(self):
        with cairn.open(self.path) as s:
            s.protect("b", bytearray(b"\xab" * 64))
            s.restore()
            s.checkpoint()
        (gen,) = self.generations()
        image = os.path.join(self.path, gen)
        with open(image, "rb") as f:
            data = bytearray(f.read())
        at = data.index(b"\xab" * 64)
        data[at + 10] ^= 0xFF
        with open(image, "r+b") as f:
            f.write(data)
        with cairn.open(self.path) as s:
            s.protect("b", bytearray(64))
            with self.assertRaises(cairn.Error) as cm:
                s.restore()
            self.assertEqual(cm.exception.code, cairn.ECORRUPT)

    def test_error_class(self):
        e = cairn.Error(cairn.EMISMATCH)
        self.assertEqual(e.message, "image does not match the protected regions")
        self.assertEqual(cairn.Error(-errno.ENOSPC).errno, errno.ENOSPC)
        e2 = pickle.loads(pickle.dumps(cairn.Error(cairn.EBUSY, path="p", hint="h")))
        self.assertEqual((e2.code, e2.path, e2.hint), (cairn.EBUSY, "p", "h"))
        self.assertTrue(issubclass(cairn.Error, Exception))

    def test_strerror_and_codes(self):
        self.assertEqual(cairn.strerror(cairn.ECORRUPT),
                         "checkpoint image is corrupt (checksum or structure)")
        self.assertEqual(cairn.strerror(-errno.ENOENT), os.strerror(errno.ENOENT))
        codes = [cairn.ECORRUPT, cairn.EFOREIGN, cairn.EVERSION, cairn.EMISMATCH,
                 cairn.ENOIMAGE, cairn.EBUSY, cairn.ESTATE, cairn.EINVAL, cairn.ETRUNCATED,
                 cairn.ECODEC, cairn.EAUTH, cairn.ENOTSUP]
        self.assertEqual(codes, list(range(-30001, -30013, -1)))

    def test_bad_options(self):
        for opts, exc in (({"interval": -1}, ValueError), ({"interval": "soon"}, ValueError),
                          ({"interval": 5, "steps": 2}, ValueError), ({"steps": 0}, ValueError),
                          ({"keep": 0}, ValueError), ({"compress": "gzip"}, ValueError),
                          ({"compress": 20}, ValueError), ({"exit_code": 256}, ValueError),
                          ({"exit_signals": ["NOPE"]}, ValueError),
                          ({"exit_signals": "TERM"}, TypeError),
                          ({"exit_signals": [signal.SIGKILL]}, ValueError),
                          ({"verbose": 2}, ValueError), ({"interval": True}, TypeError),
                          ({"bogus": 1}, TypeError)):
            with self.subTest(opts=opts):
                with self.assertRaises(exc):
                    cairn.Store(self.path, **opts)
        cairn.Store(self.path).close()  # none of them kept the store locked


class TestContextManager(Base):
    def test_closes(self):
        with cairn.open(self.path) as s:
            self.assertEqual(s.state, "open")
            s.protect_object("x", 1)
            s.restore()
            self.assertEqual(s.state, "ready")
        self.assertTrue(s.closed)
        self.assertEqual(s["x"], 1)          # objects stay readable
        with cairn.open(self.path):           # the lock was released
            pass

    def test_exception_does_not_complete(self):
        with self.assertRaises(ZeroDivisionError):
            with cairn.open(self.path) as s:
                s.protect_object("x", 7)
                s.restore()
                s.checkpoint()
                1 / 0
        self.assertTrue(s.closed)
        self.assertEqual(len(self.generations()), 1)
        with cairn.open(self.path) as s:
            s.protect_object("x", 0)
            self.assertEqual(s.restore(), cairn.RESTORED)
            self.assertEqual(s["x"], 7)

    def test_complete(self):
        with cairn.open(self.path) as s:
            s.protect_object("x", 1)
            s.restore()
            s.checkpoint()
            s.complete()
            self.assertEqual(s.state, "complete")
        self.assertEqual(sorted(os.listdir(self.path)), ["events.jsonl", "finished", "lock"])
        with cairn.open(self.path) as s:
            s.protect_object("x", 0)
            self.assertEqual(s.restore(), cairn.FRESH)
            self.assertEqual(s["x"], 0)


class TestMapping(Base):
    def test_mapping(self):
        with cairn.open(self.path) as s:
            s.protect("buf", bytearray(2))
            s.protect_object("obj", {"k": 1})
            self.assertEqual(len(s), 2)
            self.assertEqual(list(s), ["buf", "obj"])
            self.assertIn("obj", s)
            self.assertNotIn("nope", s)
            self.assertEqual(s.buffers, ("buf",))
            self.assertEqual(s.objects, ("obj",))
            with self.assertRaises(TypeError):
                s["buf"] = bytearray(2)
            with self.assertRaises(KeyError):
                s["nope"] = 1
            with self.assertRaises(KeyError):
                s["nope"]
            with self.assertRaises(TypeError):
                del s["obj"]
            self.assertIn("s.ckpt", repr(s))

    def test_steps_and_stats_across_restarts(self):
        with cairn.open(self.path, steps=4) as s:
            s.protect_object("x", 0)
            s.restore()
            for _ in range(10):
                s.step()
            self.assertEqual(s.steps, 10)
            st = s.stats()
            self.assertEqual((st["checkpoints"], st["generation"], st["restores"]), (2, 2, 0))
            self.assertEqual(st["policy"], "every 4 steps")
        with cairn.open(self.path, steps=4) as s:
            s.protect_object("x", 0)
            s.restore()
            self.assertEqual(s.steps, 8)
            self.assertEqual(s.stats()["restores"], 1)

    def test_docstrings(self):
        self.assertIn("checkpoint", cairn.__doc__)
        for obj in (cairn.Store, cairn.open, cairn.Error, cairn.strerror,
                    cairn.optimal_interval, cairn.version):
            self.assertTrue(obj.__doc__ and len(obj.__doc__) > 40, obj)
        for name in ("protect", "protect_object", "restore", "step", "checkpoint",
                     "complete", "close", "stats"):
            self.assertGreater(len(getattr(cairn.Store, name).__doc__), 60, name)

    def test_version(self):
        self.assertEqual(cairn.__version__, cairn.version())
        self.assertEqual(cairn.version(), cairn._cairn.HEADER_VERSION)
        self.assertRegex(cairn.version(), r"^\d+\.\d+\.\d+$")
        self.assertGreater(cairn.optimal_interval(10, 14400), 10)


class TestOptions(Base):
    def test_keep(self):
        with cairn.open(self.path, keep=3) as s:
            s.protect_object("x", 0)
            s.restore()
            for _ in range(5):
                s.checkpoint()
        self.assertEqual(len(self.generations()), 3)

    def test_interval(self):
        with cairn.open(self.path, interval="10m") as s:
            s.restore()
            self.assertEqual(s.stats()["interval"], 600)
        with cairn.open(self.path, interval=2.5) as s:
            s.restore()
            self.assertEqual(s.stats()["interval"], 2.5)
        with cairn.open(self.path, interval="auto", mtbi="1h") as s:
            s.restore()
            self.assertIn("MTBI 3600s", s.stats()["policy"])
            self.assertTrue(s.stats()["policy"].startswith("auto"))

    def test_interval_elapses(self):
        with cairn.open(self.path, interval=0.05) as s:
            s.protect_object("x", 0)
            s.restore()
            deadline = time.monotonic() + 10
            while s.step() != cairn.CHECKPOINTED:
                self.assertLess(time.monotonic(), deadline)
                time.sleep(0.001)
        self.assertEqual(len(self.generations()), 1)

    @needs_numpy
    def test_compress(self):
        sizes = {}
        for level in (False, True, "zstd:3"):
            path = os.path.join(self.dir, f"{level}.ckpt")
            with cairn.open(path, compress=level) as s:
                s.protect("zeros", np.zeros(1 << 17))
                s.restore()
                s.checkpoint()
            (gen,) = self.generations(path)
            sizes[level] = os.path.getsize(os.path.join(path, gen))
        self.assertGreater(sizes[False], 1 << 20)
        self.assertLess(sizes[True], sizes[False] // 10)
        self.assertLess(sizes["zstd:3"], sizes[False] // 10)


class TestEnvironment(Base):
    def test_steps_override_interval(self):
        os.environ["CAIRN_STEPS"] = "4"
        with cairn.open(self.path, interval=1000) as s:
            s.protect_object("x", 0)
            s.restore()
            self.assertEqual([s.step() for _ in range(8)].count(cairn.CHECKPOINTED), 2)
            self.assertEqual(s.stats()["policy"], "every 4 steps")

    def test_keep(self):
        os.environ["CAIRN_KEEP"] = "1"
        with cairn.open(self.path, keep=5) as s:
            s.protect_object("x", 0)
            s.restore()
            for _ in range(3):
                s.checkpoint()
        self.assertEqual(len(self.generations()), 1)

    def test_interval(self):
        os.environ["CAIRN_INTERVAL"] = "10m"
        with cairn.open(self.path, interval=5) as s:
            s.restore()
            self.assertEqual(s.stats()["interval"], 600)

    @needs_numpy
    def test_compress(self):
        os.environ["CAIRN_COMPRESS"] = "zstd"
        with cairn.open(self.path) as s:
            s.protect("zeros", np.zeros(1 << 17))
            s.restore()
            s.checkpoint()
        (gen,) = self.generations()
        self.assertLess(os.path.getsize(os.path.join(self.path, gen)), 1 << 16)

    def test_verbose_and_quiet(self):
        job = """
            import cairn
            with cairn.open("s.ckpt", steps=2) as s:
                s.protect_object("x", 0)
                s.restore()
                for _ in range(4):
                    s.step()
        """
        verbose = self.child(job, env={"CAIRN_VERBOSE": "1"})
        self.assertEqual(verbose.returncode, 0, verbose.stderr)
        self.assertIn("generation 2 committed", verbose.stderr)
        shutil.rmtree(self.path)
        quiet = self.child(job, env={"CAIRN_QUIET": "1"})
        self.assertEqual((quiet.returncode, quiet.stderr), (0, ""))
        shutil.rmtree(self.path)
        normal = self.child(job)
        self.assertIn("2 checkpoints", normal.stderr)

    def test_bad_variable_is_reported_and_ignored(self):
        r = self.child("""
            import cairn
            with cairn.open("s.ckpt", steps=3) as s:
                s.restore()
                print(s.stats()["policy"])
        """, env={"CAIRN_STEPS": "many"})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('ignoring CAIRN_STEPS="many"', r.stderr)
        self.assertEqual(r.stdout, "every 3 steps\n")

    def test_key_file(self):
        """CAIRN_KEY_FILE=default: images authenticated with the user's key;
        another user's key cannot restore them; key_file= names a key."""
        job = """
            import cairn, sys
            with cairn.open("s.ckpt") as s:
                s.protect_object("x", 0)
                try:
                    s.restore()
                except cairn.Error as e:
                    sys.exit(3 if e.code == cairn.EAUTH else 4)
                s["x"] += 42
                s.checkpoint()
        """
        homes = [os.path.join(self.dir, h) for h in ("h1", "h2")]
        for h in homes:
            os.mkdir(h)
        r = self.child(job, env={"HOME": homes[0], "CAIRN_KEY_FILE": "default"})
        self.assertEqual(r.returncode, 0, r.stderr)
        key = os.path.join(homes[0], ".config", "cairn", "key")
        self.assertTrue(os.path.isfile(key), r.stderr)
        r = self.child(job, env={"HOME": homes[1], "CAIRN_KEY_FILE": "default"})
        self.assertEqual(r.returncode, 3, r.stderr)
        self.assertIn("MAC mismatch", r.stderr)
        with cairn.open(self.path, key_file=key) as s:
            s.protect_object("x", 0)
            self.assertEqual(s.restore(), cairn.RESTORED)
            self.assertEqual(s["x"], 42)

    def test_exit_code_self_checkpoint(self):
        """CAIRN_EXIT_CODE: exit after the periodic checkpoint, as SystemExit."""
        job = LOOP_JOB.format(opts="")
        env = {"CAIRN_STEPS": "5", "CAIRN_EXIT_CODE": "85"}
        r = self.child(job, env=env)
        self.assertEqual(r.returncode, 85, r.stderr)
        self.assertIn("finally ran at 5", r.stdout)
        self.assertIn("atexit ran", r.stdout)
        self.assertIn("(self-checkpoint), exiting with status 85", r.stderr)
        self.assertEqual(self.generations(), ["ckpt-00000000000000000001.cairn"])
        r = self.child(job, env=env)
        self.assertEqual(r.returncode, 85, r.stderr)
        self.assertIn("resumed at 5", r.stdout)
        self.assertIn("finally ran at 10", r.stdout)


class TestSignals(Base):
    def test_sigterm_checkpoints_and_exits_143(self):
        p, _ = self.start_child(LOOP_JOB.format(opts="interval=3600"))
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 143, err)
        self.assertIn("signal 15: checkpoint written, exiting with status 143", err)
        self.assertIn("finally ran at", out)
        self.assertIn("atexit ran", out)
        self.assertNotIn("Traceback", err)
        at = int(out.split("finally ran at ")[1].split()[0])
        self.assertEqual(len(self.generations()), 1)
        # The rerun resumes from the checkpoint taken at SIGTERM.
        p, before = self.start_child(LOOP_JOB.format(opts="interval=3600"))
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 143, err)
        self.assertEqual(before, [f"resumed at {at}\n"])

    def test_exit_signals_int_replaces_keyboard_interrupt(self):
        p, _ = self.start_child(LOOP_JOB.format(opts='exit_signals=["TERM", "INT"]'))
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 130, err)
        self.assertNotIn("KeyboardInterrupt", err)
        self.assertIn("signal 2: checkpoint written", err)

    def test_signal_exit_status(self):
        p, _ = self.start_child(LOOP_JOB.format(opts="signal_exit_status=99"))
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=60)
        self.assertEqual(p.returncode, 99)

    def test_exit_on_signal_false(self):
        p, _ = self.start_child(LOOP_JOB.format(opts="exit_on_signal=False"))
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("exit requested at", out)
        self.assertEqual(len(self.generations()), 1)

    def test_sigterm_while_unpicklable(self):
        """The exit goes on without a checkpoint; the pickling error is shown
        and is the SystemExit's __context__."""
        job = """
            import atexit, os, time, cairn
            atexit.register(lambda: print("atexit ran", flush=True))
            store = cairn.Store("s.ckpt", interval=3600)
            store.protect_object("state", {"i": 0})
            store.restore()
            store["state"]["f"] = open(os.devnull)
            try:
                n = 0
                while True:
                    store.step()
                    n += 1
                    if n == 3:
                        print("ready", flush=True)
                    time.sleep(0.01)
            except SystemExit as e:
                print("context", type(e.__context__).__name__, flush=True)
                raise
            finally:
                print("finally ran", flush=True)
        """
        p, _ = self.start_child(job)
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 143, err)
        self.assertIn("cairn: cannot pickle the object protected as 'state'", err)
        self.assertIn("checkpoint cancelled by its hook", err)
        self.assertIn("signal 15: checkpoint FAILED, exiting with status 143", err)
        self.assertIn("context TypeError", out)
        self.assertIn("finally ran", out)
        self.assertIn("atexit ran", out)
        self.assertEqual(self.generations(), [])

    def test_exit_requested_while_unpicklable(self):
        """exit_on_signal=False: the pickling error is raised, with a note
        saying an exit was requested."""
        with cairn.open(self.path, interval=3600, exit_on_signal=False) as s:
            s.protect_object("x", [])
            s.restore()
            with open(os.devnull) as f:
                s["x"].append(f)
                os.kill(os.getpid(), signal.SIGTERM)
                with self.assertRaises(TypeError) as cm:
                    s.step()
            notes = " ".join(cm.exception.__notes__)
            self.assertIn("cairn: cannot pickle the object protected as 'x'", notes)
            self.assertIn("cairn: an exit signal arrived (exit status 143)", notes)
            self.assertEqual(self.generations(), [])
            self.assertEqual(s.step(), 0)

    def test_no_exit_signals_leaves_sigterm_alone(self):
        p, _ = self.start_child(LOOP_JOB.format(opts="exit_signals=[]"))
        p.send_signal(signal.SIGTERM)
        p.communicate(timeout=60)
        self.assertEqual(p.returncode, -signal.SIGTERM)
        self.assertEqual(self.generations(), [])

    def test_continue_signal_in_process(self):
        with cairn.open(self.path, interval=3600) as s:
            st = s.protect_object("state", {"i": 0})
            s.restore()
            st["i"] = 5
            self.assertEqual(s.step(), 0)
            os.kill(os.getpid(), signal.SIGUSR1)
            self.assertEqual(s.step(), cairn.CHECKPOINTED)
            self.assertEqual(s.step(), 0)
        with cairn.open(self.path) as s:
            s.protect_object("state", None)
            s.restore()
            self.assertEqual(s["state"], {"i": 5})

    def test_handlers_put_back_at_close(self):
        """Python's own SIGINT handling is back after close()."""
        with cairn.open(self.path, exit_signals=["INT"]) as s:
            s.restore()
        with self.assertRaises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)

    def test_fork_child(self):
        """A child of fork() gets SIGTERM's default action back and cannot
        use its parent's store; the parent's store keeps working."""
        s = cairn.Store(self.path)
        s.protect_object("x", 1)
        s.restore()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                try:
                    s.step()
                    os.write(w, b"step worked")
                except cairn.Error as e:
                    os.write(w, b"ESTATE" if e.code == cairn.ESTATE else b"other")
                s.close()  # must not release the parent's lock
                os.close(w)
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(10)
            finally:
                os._exit(3)
        os.close(w)
        said = os.read(r, 100)
        os.close(r)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(said, b"ESTATE")
        self.assertTrue(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM,
                        status)
        with self.assertRaises(cairn.Error) as cm:
            cairn.Store(self.path)
        self.assertEqual(cm.exception.code, cairn.EBUSY)
        s.checkpoint()
        s.close()
        self.assertEqual(len(self.generations()), 1)


if __name__ == "__main__":
    unittest.main()
