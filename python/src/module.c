/*
 * module.c — cairn._cairn, the C half of the Python module `cairn`.
 *
 * One type, Store, over one libcairn handle. Buffers (numpy arrays,
 * bytearray, array.array, writable memoryviews) are protected in place with
 * cairn_protect(): libcairn reads their memory at a checkpoint and writes it
 * at a restore, and the Store holds the buffer export so that the memory
 * can be neither resized nor freed while it is protected. Other objects are
 * pickled: each is a cairn_protect_buffer() region whose bytes are a pickle
 * made by libcairn's checkpoint hook (cairn_set_checkpoint_hook), that is at
 * the start of every checkpoint, inside step() when one is due or inside
 * checkpoint(), and unpickled by restore(). The exits libcairn makes after
 * a checkpoint signal or a self-checkpoint are returned instead (the no_exit
 * option: CAIRN_EXIT and cairn_exit_status()) and become SystemExit, so that
 * Python unwinds and flushes its files.
 *
 * libcairn is used through cairn.h, and lib/internal/cairn_options.h for
 * its parsers of durations and signal names (so that the options mean what
 * the CAIRN_* variables mean); never through its private handle.
 *
 * Built against the limited API of Python 3.11 (abi3): one binary serves
 * 3.11 and every later CPython.
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <unistd.h>

#include "cairn.h"
#include "cairn_options.h"

/* Pickle protocol 5 (Python 3.8+): buffers such as numpy arrays inside a
   pickled object are written without an extra copy. */
#define PICKLE_PROTOCOL 5

/* Parameters the CPython calling conventions impose. */
#define UNUSED __attribute__((unused))

/* Py_SETREF is not in the limited API. */
#define SETREF(dst, src)          \
    do {                          \
        PyObject *old_ = (dst);   \
        (dst) = (src);            \
        Py_XDECREF(old_);         \
    } while (0)

static PyObject *ErrorType;                 /* cairn.Error, from cairn/_errors.py */
static PyObject *pickle_dumps, *pickle_loads;

enum kind { K_BUFFER, K_OBJECT };
enum state { ST_OPEN, ST_READY, ST_COMPLETE, ST_CLOSED };
static const char *const state_names[] = {"open", "ready", "complete", "closed"};

struct region {
    PyObject *name;     /* str */
    enum kind kind;
    PyObject *obj;      /* K_BUFFER: the exporter; K_OBJECT: the current value */
    Py_buffer view;     /* K_BUFFER, while have_view */
    int have_view;
    /* K_OBJECT: what libcairn reads at a checkpoint (ptr points into
       `pickled`) and fills at a restore (ptr then comes from malloc). */
    void *ptr;
    size_t size;
    PyObject *pickled;  /* bytes, or NULL */
};

/* Signal actions cairn_open() replaced (at most its exit and continue
   signals), to be put back in a child of fork(). */
#define MAX_TAKEN (2 * CAIRN_MAX_SIGNALS)

typedef struct Store {
    PyObject_HEAD
    cairn_t *c;
    enum state state;
    struct region **regions; /* each allocated alone: libcairn keeps &ptr, &size */
    Py_ssize_t n, cap;
    PyObject *path;          /* as given, after os.fspath() */
    int restored;
    int hook_failed;         /* the checkpoint hook left a Python exception */
    volatile int forked;     /* set in a child of fork(): hands off */
    pid_t owner;
    int ntaken;
    int taken_signo[MAX_TAKEN];
    struct sigaction taken_action[MAX_TAKEN]; /* what was there before */
    struct Store *next_open, *prev_open;
} Store;

static int checkpoint_hook(cairn_t *c, void *arg);

/* Open stores, for the fork handler, newest first. Changed with the GIL
   held. */
static Store *open_stores;

/* In a child of fork(): the child never calls cairn_step() on its parent's
   handle, so the signal actions cairn_open() installed would only swallow
   SIGTERM; put back what was there before, so that it ends the child as it
   would have without cairn. Newest store first, so that the oldest actions
   win. sigaction() is async-signal-safe. */
static void fork_child(void)
{
    for (Store *s = open_stores; s; s = s->next_open) {
        s->forked = 1;
        for (int k = 0; k < s->ntaken; k++)
            sigaction(s->taken_signo[k], &s->taken_action[k], NULL);
    }
}

static int same_action(const struct sigaction *a, const struct sigaction *b)
{
    return a->sa_handler == b->sa_handler && a->sa_flags == b->sa_flags;
}

/* Which signal actions cairn_open() changed: those that differ from the
   snapshot `before` (indexed by signal number) taken just before it. */
static void note_taken_signals(Store *s, const struct sigaction *before)
{
    s->ntaken = 0;
    for (int sig = 1; sig < NSIG && s->ntaken < MAX_TAKEN; sig++) {
        struct sigaction now;
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &now) < 0)
            continue;
        if (!same_action(&before[sig], &now)) {
            s->taken_signo[s->ntaken] = sig;
            s->taken_action[s->ntaken++] = before[sig];
        }
    }
}

static void snapshot_signals(struct sigaction *before)
{
    for (int sig = 1; sig < NSIG; sig++)
        if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, NULL, &before[sig]) < 0)
            memset(&before[sig], 0, sizeof before[sig]);
}

static void link_open(Store *s)
{
    s->prev_open = NULL;
    s->next_open = open_stores;
    if (open_stores)
        open_stores->prev_open = s;
    open_stores = s;
}

static void unlink_open(Store *s)
{
    if (s->prev_open)
        s->prev_open->next_open = s->next_open;
    else if (open_stores == s)
        open_stores = s->next_open;
    if (s->next_open)
        s->next_open->prev_open = s->prev_open;
    s->next_open = s->prev_open = NULL;
}

/* ---- errors ---------------------------------------------------------------- */

/* Raises cairn.Error(code, cairn_strerror(code), path, hint). */
static PyObject *raise_error(int code, const Store *s, const char *hint)
{
    PyObject *exc = PyObject_CallFunction(ErrorType, "isOs", code, cairn_strerror(code),
                                          s && s->path ? s->path : Py_None, hint);
    if (exc) {
        PyErr_SetObject(ErrorType, exc);
        Py_DECREF(exc);
    }
    return NULL;
}

/* The store can be used: not closed, not inherited through fork(). */
static int usable(Store *s)
{
    if (s->forked) {
        raise_error(CAIRN_ESTATE, s,
                    "this store belongs to the parent process; a child of fork() must not "
                    "use it");
        return 0;
    }
    if (!s->c || s->state == ST_CLOSED) {
        raise_error(CAIRN_ESTATE, s, s->owner ? "the store is closed" : "the store is not open");
        return 0;
    }
    return 1;
}

static int ready(Store *s, const char *what)
{
    if (!usable(s))
        return 0;
    if (s->state == ST_READY)
        return 1;
    char hint[160];
    snprintf(hint, sizeof hint, "%s %s", what,
             s->state == ST_OPEN ? "before restore(): protect, then restore, then step"
                                 : "after complete()");
    raise_error(CAIRN_ESTATE, s, hint);
    return 0;
}

/* ---- options --------------------------------------------------------------- */

static int parse_duration_arg(PyObject *v, const char *what, double *out, int *is_auto)
{
    if (is_auto)
        *is_auto = 0;
    if (PyUnicode_Check(v)) {
        const char *t = PyUnicode_AsUTF8AndSize(v, NULL);
        if (!t)
            return -1;
        if (is_auto && strcasecmp(t, "auto") == 0) {
            *is_auto = 1;
            return 0;
        }
        if (cairn__parse_duration(t, out) == 0)
            return 0;
        PyErr_Format(PyExc_ValueError,
                     "%s=%R: expected seconds > 0 or a duration such as \"90\", \"1.5\", "
                     "\"10m\", \"4h\", \"2d\"%s",
                     what, v, is_auto ? " or \"auto\"" : "");
        return -1;
    }
    if (PyBool_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a number of seconds, not a bool", what);
        return -1;
    }
    double d = PyFloat_AsDouble(v);
    if (d == -1.0 && PyErr_Occurred())
        return -1;
    if (!(d > 0) || d > 1e12) {
        PyErr_Format(PyExc_ValueError, "%s=%R: expected seconds > 0", what, v);
        return -1;
    }
    *out = d;
    return 0;
}

static int parse_int_arg(PyObject *v, const char *what, long lo, long hi, long *out)
{
    if (PyBool_Check(v) || !PyLong_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s: expected an int, not %R", what, v);
        return -1;
    }
    long l = PyLong_AsLong(v);
    if (l == -1 && PyErr_Occurred())
        return -1;
    if (l < lo || l > hi) {
        PyErr_Format(PyExc_ValueError, "%s=%ld: expected %ld to %ld", what, l, lo, hi);
        return -1;
    }
    *out = l;
    return 0;
}

static int parse_compress_arg(PyObject *v, int *level)
{
    long l;
    if (PyBool_Check(v)) {
        *level = v == Py_True ? 1 : 0;
        return 0;
    }
    if (PyLong_Check(v)) {
        if (parse_int_arg(v, "compress", 0, 19, &l) < 0)
            return -1;
        *level = (int)l;
        return 0;
    }
    if (PyUnicode_Check(v)) {
        const char *t = PyUnicode_AsUTF8AndSize(v, NULL);
        if (!t)
            return -1;
        if (strcasecmp(t, "off") == 0 || strcasecmp(t, "none") == 0) {
            *level = 0;
            return 0;
        }
        if (strcasecmp(t, "zstd") == 0) {
            *level = 1;
            return 0;
        }
        if (strncasecmp(t, "zstd:", 5) == 0) {
            char *end;
            long x = strtol(t + 5, &end, 10);
            if (end != t + 5 && !*end && x >= 0 && x <= 19) {
                *level = (int)x;
                return 0;
            }
        }
    }
    PyErr_Format(PyExc_ValueError,
                 "compress=%R: expected False, True, a zstd level 0-19, \"off\", \"zstd\" or "
                 "\"zstd:LEVEL\"", v);
    return -1;
}

/* A list of signals (ints, signal.Signals, or names such as "TERM") into a
   0-terminated array of CAIRN_MAX_SIGNALS. */
static int parse_signals_arg(PyObject *v, const char *what, int list[CAIRN_MAX_SIGNALS])
{
    int tmp[CAIRN_MAX_SIGNALS] = {0}, n = 0;
    if (PyUnicode_Check(v)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a list of signals, such as [\"TERM\"]",
                     what);
        return -1;
    }
    PyObject *it = PyObject_GetIter(v);
    if (!it)
        return -1;
    PyObject *item;
    while ((item = PyIter_Next(it))) {
        int sig = -1;
        if (PyUnicode_Check(item)) {
            const char *t = PyUnicode_AsUTF8AndSize(item, NULL);
            sig = t ? cairn__signal_from_name(t) : -1;
        } else if (PyLong_Check(item)) {
            long l = PyLong_AsLong(item);
            sig = l > 0 && l < 65 && l != SIGKILL && l != SIGSTOP ? (int)l : -1;
        }
        if (sig < 0 || n == CAIRN_MAX_SIGNALS - 1) {
            if (PyErr_Occurred())
                ;
            else if (sig < 0)
                PyErr_Format(PyExc_ValueError, "%s: %R is not a signal cairn can catch", what,
                             item);
            else
                PyErr_Format(PyExc_ValueError, "%s: at most %d signals", what,
                             CAIRN_MAX_SIGNALS - 1);
            Py_DECREF(item);
            Py_DECREF(it);
            return -1;
        }
        Py_DECREF(item);
        tmp[n++] = sig;
    }
    Py_DECREF(it);
    if (PyErr_Occurred())
        return -1;
    memcpy(list, tmp, sizeof tmp);
    return 0;
}

/* ---- the type -------------------------------------------------------------- */

static void release_region(struct region *r)
{
    if (r->have_view) {
        PyBuffer_Release(&r->view);
        r->have_view = 0;
    }
}

static void free_region(struct region *r)
{
    release_region(r);
    Py_CLEAR(r->name);
    Py_CLEAR(r->obj);
    Py_CLEAR(r->pickled); /* ptr pointed into it; restore() frees what it got */
    free(r);
}

/* Closes the handle and lets go of the buffers; keeps the objects, so that
   store[name] still answers after close(). */
static void close_store(Store *s)
{
    if (s->state == ST_CLOSED && !s->c)
        return;
    if (s->c) {
        if (!s->forked)
            cairn_close(s->c); /* in a child the handle is the parent's: leave it */
        s->c = NULL;
    }
    unlink_open(s);
    s->state = ST_CLOSED;
    for (Py_ssize_t i = 0; i < s->n; i++) {
        release_region(s->regions[i]);
        Py_CLEAR(s->regions[i]->pickled);
        s->regions[i]->ptr = NULL;
        s->regions[i]->size = 0;
    }
}

static int Store_traverse(PyObject *self, visitproc visit, void *arg)
{
    Store *s = (Store *)self;
    Py_VISIT(Py_TYPE(self));
    for (Py_ssize_t i = 0; i < s->n; i++) {
        Py_VISIT(s->regions[i]->obj);
        if (s->regions[i]->have_view)
            Py_VISIT(s->regions[i]->view.obj);
    }
    Py_VISIT(s->path);
    return 0;
}

static int Store_clear(PyObject *self)
{
    Store *s = (Store *)self;
    close_store(s);
    for (Py_ssize_t i = 0; i < s->n; i++)
        free_region(s->regions[i]);
    free(s->regions);
    s->regions = NULL;
    s->n = s->cap = 0;
    Py_CLEAR(s->path);
    return 0;
}

static void Store_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Store_clear(self);
    freefunc f = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    f(self);
    Py_DECREF(tp);
}

static PyObject *Store_new(PyTypeObject *type, UNUSED PyObject *args, UNUSED PyObject *kwds)
{
    allocfunc alloc = (allocfunc)PyType_GetSlot(type, Py_tp_alloc);
    Store *s = (Store *)alloc(type, 0);
    if (!s)
        return NULL;
    s->state = ST_CLOSED;
    return (PyObject *)s;
}

static int Store_init(PyObject *self, PyObject *args, PyObject *kwds)
{
    Store *s = (Store *)self;
    static char *kw[] = {"path", "interval", "steps", "mtbi", "keep", "exit_code", "compress",
                         "exit_signals", "continue_signals", "exit_on_signal",
                         "signal_exit_status", "verbose", "quiet", "key_file", NULL};
    PyObject *path, *interval = Py_None, *steps = Py_None, *mtbi = Py_None, *keep = Py_None,
                    *exit_code = Py_None, *compress = Py_None, *exit_signals = Py_None,
                    *continue_signals = Py_None, *signal_exit_status = Py_None,
                    *verbose = Py_None, *key_file = Py_None;
    int exit_on_signal = 1, quiet = 0;
    if (s->c || s->path) {
        PyErr_SetString(PyExc_RuntimeError, "cairn.Store.__init__ called twice");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|$OOOOOOOOpOOpO:Store", kw, &path, &interval,
                                     &steps, &mtbi, &keep, &exit_code, &compress, &exit_signals,
                                     &continue_signals, &exit_on_signal, &signal_exit_status,
                                     &verbose, &quiet, &key_file))
        return -1;

    cairn_options_t o;
    cairn_options_init(&o);
    o.no_exit = 1; /* step() turns libcairn's exits into SystemExit */
    o.exit_on_signal = exit_on_signal;
    long l;
    int is_auto;
    if (interval != Py_None && steps != Py_None) {
        PyErr_SetString(PyExc_ValueError,
                        "interval and steps exclude each other: checkpoint by time or by steps");
        return -1;
    }
    if (interval != Py_None) {
        if (parse_duration_arg(interval, "interval", &o.interval, &is_auto) < 0)
            return -1;
        o.policy = is_auto ? CAIRN_POLICY_AUTO : CAIRN_POLICY_TIME;
    }
    if (steps != Py_None) {
        if (parse_int_arg(steps, "steps", 1, LONG_MAX, &l) < 0)
            return -1;
        o.policy = CAIRN_POLICY_STEPS;
        o.every_steps = (uint64_t)l;
    }
    if (mtbi != Py_None && parse_duration_arg(mtbi, "mtbi", &o.mtbi, NULL) < 0)
        return -1;
    if (keep != Py_None) {
        if (parse_int_arg(keep, "keep", 1, 1000, &l) < 0)
            return -1;
        o.keep = (unsigned)l;
    }
    if (exit_code != Py_None) {
        if (parse_int_arg(exit_code, "exit_code", 0, 255, &l) < 0)
            return -1;
        o.exit_code = (int)l;
    }
    if (compress != Py_None && parse_compress_arg(compress, &o.compress_level) < 0)
        return -1;
    if (exit_signals != Py_None && parse_signals_arg(exit_signals, "exit_signals",
                                                     o.exit_signals) < 0)
        return -1;
    if (continue_signals != Py_None &&
        parse_signals_arg(continue_signals, "continue_signals", o.continue_signals) < 0)
        return -1;
    if (signal_exit_status != Py_None) {
        if (parse_int_arg(signal_exit_status, "signal_exit_status", 0, 255, &l) < 0)
            return -1;
        o.signal_exit_status = (int)l;
    }
    if (verbose != Py_None) {
        if (PyBool_Check(verbose))
            l = verbose == Py_True;
        else if (parse_int_arg(verbose, "verbose", -1, 1, &l) < 0)
            return -1;
        o.verbose = (int)l;
    }
    if (quiet)
        o.verbose = -1;

    PyObject *fspath = PyOS_FSPath(path), *bpath = NULL, *bkey = NULL;
    if (!fspath)
        return -1;
    if (!PyUnicode_FSConverter(fspath, &bpath)) {
        Py_DECREF(fspath);
        return -1;
    }
    if (key_file != Py_None) {
        if (!PyUnicode_FSConverter(key_file, &bkey)) {
            Py_DECREF(fspath);
            Py_DECREF(bpath);
            return -1;
        }
        o.key_file = PyBytes_AsString(bkey);
    }
    s->path = fspath;
    struct sigaction *before = calloc(NSIG, sizeof *before);
    if (!before) {
        Py_DECREF(bpath);
        Py_XDECREF(bkey);
        PyErr_NoMemory();
        return -1;
    }
    snapshot_signals(before);
    cairn_t *c = NULL;
    int rc = cairn_open(&c, PyBytes_AsString(bpath), &o);
    Py_DECREF(bpath);
    Py_XDECREF(bkey);
    if (rc == 0)
        note_taken_signals(s, before);
    free(before);
    if (rc < 0) {
        raise_error(rc, s,
                    rc == CAIRN_EBUSY ? "another process (or another Store) has it open"
                    : rc == CAIRN_EINVAL ? "an option or a CAIRN_* variable is invalid"
                                         : NULL);
        return -1;
    }
    s->c = c;
    s->state = ST_OPEN;
    cairn_set_checkpoint_hook(c, checkpoint_hook, s);
    s->owner = getpid();
    link_open(s);
    return 0;
}

/* Checks a region name and returns its UTF-8 form, or NULL. */
static const char *region_name(PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "region name must be a str, not %R", name);
        return NULL;
    }
    Py_ssize_t len;
    const char *t = PyUnicode_AsUTF8AndSize(name, &len);
    if (!t)
        return NULL;
    if (len < 1 || len > 255 || (Py_ssize_t)strlen(t) != len) {
        PyErr_Format(PyExc_ValueError,
                     "region name %R: expected 1 to 255 bytes of UTF-8 without NUL", name);
        return NULL;
    }
    return t;
}

static int add_region(Store *s, struct region *r)
{
    if (s->n == s->cap) {
        Py_ssize_t cap = s->cap ? 2 * s->cap : 8;
        struct region **nr = realloc(s->regions, (size_t)cap * sizeof *nr);
        if (!nr) {
            PyErr_NoMemory();
            return -1;
        }
        s->regions = nr;
        s->cap = cap;
    }
    s->regions[s->n++] = r;
    return 0;
}

static int protectable(Store *s, const char *what)
{
    if (!usable(s))
        return 0;
    if (s->state == ST_OPEN)
        return 1;
    char hint[128];
    snprintf(hint, sizeof hint, "%s after restore(): protect every region first", what);
    raise_error(CAIRN_ESTATE, s, hint);
    return 0;
}

static PyObject *Store_protect(PyObject *self, PyObject *args)
{
    Store *s = (Store *)self;
    PyObject *name, *obj;
    if (!PyArg_ParseTuple(args, "OO:protect", &name, &obj))
        return NULL;
    const char *cname = region_name(name);
    if (!cname || !protectable(s, "protect()"))
        return NULL;
    if (!PyObject_CheckBuffer(obj)) {
        PyErr_Format(PyExc_TypeError,
                     "protect(%R, ...): %R has no buffer; protect() takes a writable, "
                     "contiguous buffer (a numpy array, bytearray, array.array, memoryview); "
                     "use protect_object() to pickle other objects",
                     name, (PyObject *)Py_TYPE(obj));
        return NULL;
    }
    struct region *r = calloc(1, sizeof *r);
    if (!r)
        return PyErr_NoMemory();
    if (PyObject_GetBuffer(obj, &r->view, PyBUF_WRITABLE | PyBUF_ANY_CONTIGUOUS) < 0) {
        free(r);
        if (PyErr_ExceptionMatches(PyExc_BufferError) || PyErr_ExceptionMatches(PyExc_TypeError) ||
            PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_Format(PyExc_TypeError,
                         "protect(%R, ...): needs a writable, contiguous buffer (%S); use a "
                         "bytearray instead of bytes, a contiguous copy of an array "
                         "(numpy.ascontiguousarray), or protect_object() to pickle it",
                         name, value ? value : Py_None);
            Py_XDECREF(type);
            Py_XDECREF(value);
            Py_XDECREF(tb);
        }
        return NULL;
    }
    r->have_view = 1;
    r->kind = K_BUFFER;
    int rc = cairn_protect(s->c, cname, r->view.buf, (size_t)r->view.len);
    if (rc < 0) {
        PyBuffer_Release(&r->view);
        free(r);
        return raise_error(rc, s, rc == CAIRN_EINVAL ? "is the name already protected?" : NULL);
    }
    Py_INCREF(name);
    Py_INCREF(obj);
    r->name = name;
    r->obj = obj;
    if (add_region(s, r) < 0) {
        /* libcairn still points at the memory: keep the export for good */
        return NULL;
    }
    Py_INCREF(obj);
    return obj;
}

/* Adds a note (PEP 678) to the exception being raised, keeping its type,
   so that `except pickle.PicklingError` still works and the traceback says
   which region it was. */
static void add_note(PyObject *note)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && note) {
        if (tb)
            PyException_SetTraceback(value, tb);
        PyObject *r = PyObject_CallMethod(value, "add_note", "O", note);
        if (r)
            Py_DECREF(r);
        else
            PyErr_Clear();
    }
    Py_XDECREF(note);
    PyErr_Restore(type, value, tb);
}

/* Pickles one object: a new bytes object, or NULL with the exception set. */
static PyObject *pickle_one(Store *s, PyObject *name, PyObject *obj)
{
    PyObject *b = PyObject_CallFunction(pickle_dumps, "Oi", obj, PICKLE_PROTOCOL);
    if (!b) {
        add_note(PyUnicode_FromFormat("cairn: cannot pickle the object protected as %R in %R",
                                      name, s->path ? s->path : Py_None));
        return NULL;
    }
    if (!PyBytes_Check(b)) {
        Py_DECREF(b);
        PyErr_SetString(PyExc_TypeError, "pickle.dumps did not return bytes");
        return NULL;
    }
    return b;
}

static PyObject *Store_protect_object(PyObject *self, PyObject *args)
{
    Store *s = (Store *)self;
    PyObject *name, *obj;
    if (!PyArg_ParseTuple(args, "OO:protect_object", &name, &obj))
        return NULL;
    const char *cname = region_name(name);
    if (!cname || !protectable(s, "protect_object()"))
        return NULL;
    /* Pickle once now, so that an object that cannot be pickled fails here
       and not at the first checkpoint, hours later. */
    PyObject *trial = pickle_one(s, name, obj);
    if (!trial)
        return NULL;
    Py_DECREF(trial);
    struct region *r = calloc(1, sizeof *r);
    if (!r)
        return PyErr_NoMemory();
    r->kind = K_OBJECT;
    int rc = cairn_protect_buffer(s->c, cname, &r->ptr, &r->size);
    if (rc < 0) {
        free(r);
        return raise_error(rc, s, rc == CAIRN_EINVAL ? "is the name already protected?" : NULL);
    }
    Py_INCREF(name);
    Py_INCREF(obj);
    r->name = name;
    r->obj = obj;
    if (add_region(s, r) < 0)
        return NULL; /* r leaks: libcairn points at its fields */
    Py_INCREF(obj);
    return obj;
}

static PyObject *Store_restore(PyObject *self, UNUSED PyObject *unused)
{
    Store *s = (Store *)self;
    if (!usable(s))
        return NULL;
    if (s->state != ST_OPEN)
        return raise_error(CAIRN_ESTATE, s, "restore() is called once, after protecting");
    for (Py_ssize_t i = 0; i < s->n; i++)
        if (s->regions[i]->kind == K_OBJECT) {
            /* libcairn realloc()s these: NULL or malloc'ed memory only */
            Py_CLEAR(s->regions[i]->pickled);
            s->regions[i]->ptr = NULL;
            s->regions[i]->size = 0;
        }
    int rc = cairn_restore(s->c);
    if (rc < 0) {
        for (Py_ssize_t i = 0; i < s->n; i++)
            if (s->regions[i]->kind == K_OBJECT) {
                free(s->regions[i]->ptr);
                s->regions[i]->ptr = NULL;
                s->regions[i]->size = 0;
            }
        return raise_error(rc, s,
                           rc == CAIRN_EMISMATCH
                               ? "the image holds other regions, or other sizes, than the "
                                 "program protects (see the message above)"
                               : NULL);
    }
    s->state = ST_READY;
    s->restored = rc == CAIRN_RESTORED;
    /* The first failure is kept while the rest is freed. */
    PyObject *etype = NULL, *evalue = NULL, *etb = NULL;
    for (Py_ssize_t i = 0; i < s->n; i++) {
        struct region *r = s->regions[i];
        if (r->kind != K_OBJECT)
            continue;
        if (s->restored && !etype) {
            PyObject *mv = PyMemoryView_FromMemory(r->ptr ? (char *)r->ptr : (char *)"",
                                                   (Py_ssize_t)r->size, PyBUF_READ);
            PyObject *v = mv ? PyObject_CallFunctionObjArgs(pickle_loads, mv, NULL) : NULL;
            Py_XDECREF(mv);
            if (v) {
                SETREF(r->obj, v);
            } else {
                add_note(PyUnicode_FromFormat("cairn: cannot unpickle the object protected as "
                                              "%R from %R",
                                              r->name, s->path ? s->path : Py_None));
                PyErr_Fetch(&etype, &evalue, &etb);
            }
        }
        free(r->ptr);
        r->ptr = NULL;
        r->size = 0;
    }
    if (etype) {
        PyErr_Restore(etype, evalue, etb);
        return NULL;
    }
    return PyLong_FromLong(rc);
}

/* Pickles every object into the bytes libcairn will read. */
static int prepare(Store *s)
{
    for (Py_ssize_t i = 0; i < s->n; i++) {
        struct region *r = s->regions[i];
        if (r->kind != K_OBJECT)
            continue;
        PyObject *b = pickle_one(s, r->name, r->obj);
        if (!b)
            return -1;
        char *p;
        Py_ssize_t len;
        if (PyBytes_AsStringAndSize(b, &p, &len) < 0) {
            Py_DECREF(b);
            return -1;
        }
        PyObject *old = r->pickled;
        r->pickled = b;
        r->ptr = p;
        r->size = (size_t)len;
        Py_XDECREF(old);
    }
    return 0;
}

/* libcairn's checkpoint hook: runs inside cairn_step() or
   cairn_checkpoint(), with the GIL held, once per checkpoint and before
   libcairn reads any region. A pickling error cancels the checkpoint and
   stays set for the caller of step() or checkpoint(). */
static int checkpoint_hook(UNUSED cairn_t *c, void *arg)
{
    Store *s = arg;
    if (prepare(s) < 0) {
        s->hook_failed = 1;
        return -ECANCELED;
    }
    return 0;
}

/* Closes the store and raises SystemExit(status); libcairn has said why on
   stderr. An exception the checkpoint hook left (the checkpoint was then
   not written) is shown and becomes the SystemExit's __context__: the exit
   goes on, as it does after any failed checkpoint. */
static PyObject *leave(Store *s, int status)
{
    PyObject *type = NULL, *value = NULL, *tb = NULL;
    if (s->hook_failed && PyErr_Occurred()) {
        PyErr_Fetch(&type, &value, &tb);
        PyErr_NormalizeException(&type, &value, &tb);
        if (value && tb)
            PyException_SetTraceback(value, tb);
        if (value)
            PyErr_Display(type, value, tb);
        Py_XDECREF(type);
        Py_XDECREF(tb);
    }
    close_store(s);
    PyObject *exc = PyObject_CallFunction(PyExc_SystemExit, "i", status);
    if (exc) {
        if (value)
            PyException_SetContext(exc, value); /* steals value */
        PyErr_SetObject(PyExc_SystemExit, exc);
        Py_DECREF(exc);
    } else {
        Py_XDECREF(value);
    }
    return NULL;
}

static PyObject *Store_step(PyObject *self, UNUSED PyObject *unused)
{
    Store *s = (Store *)self;
    if (s->forked || s->state != ST_READY) {
        ready(s, "step()"); /* raises */
        return NULL;
    }
    /* Cheap unless a checkpoint is due; then checkpoint_hook pickles. */
    s->hook_failed = 0;
    int rc = cairn_step(s->c);
    if (rc == CAIRN_EXIT) /* exit signal, or self-checkpoint (exit_code) */
        return leave(s, cairn_exit_status(s->c));
    if (s->hook_failed) {
        if (rc == CAIRN_EXIT_REQUESTED)
            add_note(PyUnicode_FromFormat("cairn: an exit signal arrived (exit status %d); "
                                          "this checkpoint was not written",
                                          cairn_exit_status(s->c)));
        return NULL; /* the pickling error */
    }
    /* rc < 0: the checkpoint failed, libcairn said why on stderr, the
       previous generation is intact and the job may go on. */
    return PyLong_FromLong(rc);
}

static PyObject *Store_checkpoint(PyObject *self, UNUSED PyObject *unused)
{
    Store *s = (Store *)self;
    if (!ready(s, "checkpoint()"))
        return NULL;
    s->hook_failed = 0;
    int rc = cairn_checkpoint(s->c);
    if (s->hook_failed)
        return NULL; /* the pickling error; nothing was written */
    if (rc < 0)
        return raise_error(rc, s, NULL);
    Py_RETURN_NONE;
}

static PyObject *Store_complete(PyObject *self, UNUSED PyObject *unused)
{
    Store *s = (Store *)self;
    if (!ready(s, "complete()"))
        return NULL;
    int rc = cairn_complete(s->c);
    if (rc < 0)
        return raise_error(rc, s, NULL);
    s->state = ST_COMPLETE;
    Py_RETURN_NONE;
}

static PyObject *Store_close(PyObject *self, UNUSED PyObject *unused)
{
    close_store((Store *)self);
    Py_RETURN_NONE;
}

static PyObject *Store_enter(PyObject *self, UNUSED PyObject *unused)
{
    if (!usable((Store *)self))
        return NULL;
    Py_INCREF(self);
    return self;
}

static PyObject *Store_exit(PyObject *self, UNUSED PyObject *args)
{
    close_store((Store *)self);
    Py_RETURN_FALSE;
}

static int dict_set(PyObject *d, const char *key, PyObject *v)
{
    if (!v)
        return -1;
    int rc = PyDict_SetItemString(d, key, v);
    Py_DECREF(v);
    return rc;
}

static PyObject *Store_stats(PyObject *self, UNUSED PyObject *unused)
{
    Store *s = (Store *)self;
    if (!usable(s))
        return NULL;
    cairn_stats_t st;
    int rc = cairn_get_stats(s->c, &st);
    if (rc < 0)
        return raise_error(rc, s, NULL);
    PyObject *d = PyDict_New();
    if (!d)
        return NULL;
    if (dict_set(d, "checkpoints", PyLong_FromUnsignedLongLong(st.checkpoints)) < 0 ||
        dict_set(d, "failed", PyLong_FromUnsignedLongLong(st.failed)) < 0 ||
        dict_set(d, "bytes_written", PyLong_FromUnsignedLongLong(st.bytes_written)) < 0 ||
        dict_set(d, "seconds_writing", PyFloat_FromDouble(st.seconds_writing)) < 0 ||
        dict_set(d, "last_cost", PyFloat_FromDouble(st.last_cost)) < 0 ||
        dict_set(d, "interval", PyFloat_FromDouble(st.interval)) < 0 ||
        dict_set(d, "steps", PyLong_FromUnsignedLongLong(st.steps)) < 0 ||
        dict_set(d, "restores", PyLong_FromUnsignedLongLong(st.restores)) < 0 ||
        dict_set(d, "generation", PyLong_FromUnsignedLongLong(st.generation)) < 0 ||
        dict_set(d, "policy", PyUnicode_FromString(st.policy)) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *Store_reduce(UNUSED PyObject *self, UNUSED PyObject *unused)
{
    PyErr_SetString(PyExc_TypeError,
                    "a cairn.Store cannot be pickled (do not protect an object that holds "
                    "the store)");
    return NULL;
}

static struct region *find(Store *s, PyObject *name)
{
    for (Py_ssize_t i = 0; i < s->n; i++) {
        int eq = PyObject_RichCompareBool(s->regions[i]->name, name, Py_EQ);
        if (eq < 0)
            PyErr_Clear();
        if (eq > 0)
            return s->regions[i];
    }
    return NULL;
}

static Py_ssize_t Store_len(PyObject *self)
{
    return ((Store *)self)->n;
}

static PyObject *Store_getitem(PyObject *self, PyObject *name)
{
    struct region *r = find((Store *)self, name);
    if (!r) {
        PyErr_SetObject(PyExc_KeyError, name);
        return NULL;
    }
    Py_INCREF(r->obj);
    return r->obj;
}

static int Store_setitem(PyObject *self, PyObject *name, PyObject *value)
{
    struct region *r = find((Store *)self, name);
    if (!value) {
        PyErr_SetString(PyExc_TypeError, "protected regions cannot be removed");
        return -1;
    }
    if (!r) {
        PyErr_Format(PyExc_KeyError, "%R is not protected: protect_object() it before restore()",
                     name);
        return -1;
    }
    if (r->kind == K_BUFFER) {
        PyErr_Format(PyExc_TypeError,
                     "%R is a buffer, restored in place: assign into it (a[:] = ...) instead",
                     name);
        return -1;
    }
    Py_INCREF(value);
    SETREF(r->obj, value);
    return 0;
}

static int Store_contains(PyObject *self, PyObject *name)
{
    return find((Store *)self, name) != NULL;
}

static PyObject *Store_iter(PyObject *self)
{
    Store *s = (Store *)self;
    PyObject *names = PyTuple_New(s->n);
    if (!names)
        return NULL;
    for (Py_ssize_t i = 0; i < s->n; i++) {
        Py_INCREF(s->regions[i]->name);
        PyTuple_SetItem(names, i, s->regions[i]->name);
    }
    PyObject *it = PyObject_GetIter(names);
    Py_DECREF(names);
    return it;
}

static PyObject *Store_repr(PyObject *self)
{
    Store *s = (Store *)self;
    return PyUnicode_FromFormat("<cairn.Store %R %s, %zd regions>", s->path ? s->path : Py_None,
                                state_names[s->state], s->n);
}

static PyObject *get_path(PyObject *self, UNUSED void *closure)
{
    Store *s = (Store *)self;
    PyObject *p = s->path ? s->path : Py_None;
    Py_INCREF(p);
    return p;
}

static PyObject *get_state(PyObject *self, UNUSED void *closure)
{
    return PyUnicode_FromString(state_names[((Store *)self)->state]);
}

static PyObject *get_closed(PyObject *self, UNUSED void *closure)
{
    return PyBool_FromLong(((Store *)self)->state == ST_CLOSED);
}

static PyObject *get_restored(PyObject *self, UNUSED void *closure)
{
    return PyBool_FromLong(((Store *)self)->restored);
}

static PyObject *get_steps(PyObject *self, UNUSED void *closure)
{
    Store *s = (Store *)self;
    cairn_stats_t st;
    if (!usable(s))
        return NULL;
    cairn_get_stats(s->c, &st);
    return PyLong_FromUnsignedLongLong(st.steps);
}

static PyObject *get_buffers(PyObject *self, UNUSED void *closure)
{
    Store *s = (Store *)self;
    long want = (long)(intptr_t)closure;
    PyObject *l = PyList_New(0);
    for (Py_ssize_t i = 0; l && i < s->n; i++)
        if ((long)s->regions[i]->kind == want && PyList_Append(l, s->regions[i]->name) < 0)
            Py_CLEAR(l);
    if (!l)
        return NULL;
    PyObject *t = PyList_AsTuple(l);
    Py_DECREF(l);
    return t;
}

PyDoc_STRVAR(protect_doc,
"protect($self, name, buffer, /)\n--\n\n"
"Protects the memory of a writable, contiguous buffer under `name` (1 to\n"
"255 bytes of UTF-8, unique in the store): a numpy array, bytearray,\n"
"array.array, or a memoryview of one. Nothing is copied: a checkpoint\n"
"writes the buffer's bytes as they are at that moment, and restore() fills\n"
"the same memory in place. The store holds the buffer export until\n"
"close(), so the object cannot be resized or freed meanwhile (bytearray\n"
"and array.array raise BufferError, numpy's resize() ValueError). Its size\n"
"is fixed: a rerun must protect a buffer of the same size under the same\n"
"name, or restore() raises Error with code EMISMATCH. Call before\n"
"restore(). Returns the buffer.");

PyDoc_STRVAR(protect_object_doc,
"protect_object($self, name, obj, /)\n--\n\n"
"Protects a picklable object under `name`. At every checkpoint, that is\n"
"inside step() when one is due and inside checkpoint(), the store pickles\n"
"the object that store[name] holds at that moment (protocol 5), so the\n"
"pickle is consistent with the protected buffers: both are taken at the\n"
"point the program chose by calling step(). restore() unpickles it into a\n"
"new object: read it back with store[name] after restore(). Objects that\n"
"are replaced rather than changed (ints, tuples) are updated with\n"
"store[name] = value. The object is pickled once here too, so that one\n"
"that cannot be pickled fails now. Unpickling runs code: a store is as\n"
"trustworthy as any pickle file (cairn refuses images not owned by the\n"
"user; CAIRN_KEY_FILE authenticates them). Call before restore().\n"
"Returns obj.");

PyDoc_STRVAR(restore_doc,
"restore($self, /)\n--\n\n"
"Looks for the newest valid image in the store. Returns cairn.FRESH (0)\n"
"if there is none: protected buffers and objects are left as they are.\n"
"Returns cairn.RESTORED (1) after filling every protected buffer in place\n"
"and unpickling every protected object (read them with store[name]). A\n"
"corrupt newest image is skipped for the previous generation, with a\n"
"message on stderr. Raises Error if no image is usable (for example\n"
"EMISMATCH when the image's regions are not the ones protected); the\n"
"buffers may then hold partial data. Called once, after the protects.");

PyDoc_STRVAR(step_doc,
"step($self, /)\n--\n\n"
"Call once per iteration of the main loop, at a point where the protected\n"
"state is consistent. Returns 0 when nothing is due (the cost is a clock\n"
"read). When the interval has elapsed, the step count is reached or a\n"
"checkpoint signal arrived, it pickles the protected objects, writes a\n"
"checkpoint and returns cairn.CHECKPOINTED (1). After an exit signal\n"
"(SIGTERM by default) it then closes the store and raises\n"
"SystemExit(128 + signal number), 143 for SIGTERM, so that `finally`\n"
"blocks and atexit handlers run and files are flushed; with\n"
"exit_on_signal=False it returns cairn.EXIT_REQUESTED (2) instead and the\n"
"program exits when it likes. With exit_code (CAIRN_EXIT_CODE) set it\n"
"raises SystemExit(exit_code) after each periodic checkpoint (HTCondor's\n"
"self-checkpointing). If writing the checkpoint fails (a full disk), the\n"
"previous generation is intact, the reason is on stderr and step()\n"
"returns the negative error code: the job may go on. Exceptions raised\n"
"while pickling propagate.");

PyDoc_STRVAR(checkpoint_doc,
"checkpoint($self, /)\n--\n\n"
"Pickles the protected objects and writes a checkpoint now. Raises Error\n"
"if it cannot be written (the previous generation is intact).");

PyDoc_STRVAR(complete_doc,
"complete($self, /)\n--\n\n"
"Marks the job finished: removes its images and leaves a \"finished\"\n"
"marker, so that running the program again starts from scratch instead of\n"
"resuming. Call it after the result is safely written.");

PyDoc_STRVAR(close_doc,
"close($self, /)\n--\n\n"
"Prints the one-line summary (unless quiet), puts back the signal\n"
"handlers, releases the store's lock and the protected buffers. It does\n"
"not mark the job finished (see complete()). Protected objects stay\n"
"readable with store[name]. Calling it again does nothing.");

PyDoc_STRVAR(stats_doc,
"stats($self, /)\n--\n\n"
"Counters: checkpoints, failed, bytes_written, seconds_writing and\n"
"last_cost (seconds) since the store was opened; steps and restores\n"
"across restarts; generation (newest committed or restored); interval\n"
"(seconds, 0 for the steps policy) and policy (how it was chosen).");

static PyMethodDef Store_methods[] = {
    {"protect", Store_protect, METH_VARARGS, protect_doc},
    {"protect_object", Store_protect_object, METH_VARARGS, protect_object_doc},
    {"restore", Store_restore, METH_NOARGS, restore_doc},
    {"step", Store_step, METH_NOARGS, step_doc},
    {"checkpoint", Store_checkpoint, METH_NOARGS, checkpoint_doc},
    {"complete", Store_complete, METH_NOARGS, complete_doc},
    {"close", Store_close, METH_NOARGS, close_doc},
    {"stats", Store_stats, METH_NOARGS, stats_doc},
    {"__enter__", Store_enter, METH_NOARGS, "Returns the store."},
    {"__exit__", Store_exit, METH_VARARGS,
     "Closes the store, whether or not an exception is propagating. It does not call "
     "complete()."},
    {"__reduce__", Store_reduce, METH_NOARGS, "A store cannot be pickled."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Store_getset[] = {
    {"path", get_path, NULL, "The store's directory, as given.", NULL},
    {"state", get_state, NULL,
     "\"open\" (protecting), \"ready\" (after restore()), \"complete\" or \"closed\".", NULL},
    {"closed", get_closed, NULL, "True after close().", NULL},
    {"restored", get_restored, NULL, "True if restore() restored an image.", NULL},
    {"steps", get_steps, NULL, "Steps counted by step(), across restarts.", NULL},
    {"buffers", get_buffers, NULL, "Names of the protected buffers.", (void *)K_BUFFER},
    {"objects", get_buffers, NULL, "Names of the protected (pickled) objects.",
     (void *)K_OBJECT},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Store_doc,
"Store(path, *, interval=None, steps=None, mtbi=None, keep=None,\n"
"      exit_code=None, compress=None, exit_signals=None,\n"
"      continue_signals=None, exit_on_signal=True, signal_exit_status=None,\n"
"      verbose=None, quiet=False, key_file=None)\n"
"--\n\n"
"A checkpoint store: the directory `path` (created if needed, locked while\n"
"open) and the state the program protects in it.\n\n"
"    store = cairn.Store(\"job.ckpt\", interval=\"10m\")\n"
"    data = store.protect(\"data\", numpy.zeros(1000))   # in place\n"
"    store.protect_object(\"state\", {\"i\": 0})          # pickled\n"
"    store.restore()                                    # FRESH or RESTORED\n"
"    state = store[\"state\"]\n"
"    while state[\"i\"] < 1000:\n"
"        ...                   # work on data and state\n"
"        state[\"i\"] += 1\n"
"        store.step()          # checkpoints when one is due\n"
"    store.complete()          # a rerun starts from scratch\n"
"    store.close()\n\n"
"Options (None keeps libcairn's default; the CAIRN_* environment\n"
"variables override them all, so a pool admin can tune a job):\n"
"  interval   seconds, or a duration \"90\", \"10m\", \"4h\", or \"auto\"\n"
"             (Young/Daly from the measured cost and mtbi); default 300\n"
"  steps      checkpoint every N calls to step() instead\n"
"  mtbi       mean time between interruptions, for \"auto\"; default 4h\n"
"  keep       generations kept, default 2\n"
"  exit_code  exit with this status after each periodic checkpoint\n"
"             (HTCondor's checkpoint_exit_code, e.g. 85)\n"
"  compress   False, True (zstd), a zstd level 1-19, \"zstd:LEVEL\"\n"
"  exit_signals, continue_signals\n"
"             signals (numbers or names such as \"TERM\") that request a\n"
"             checkpoint then an exit (default [\"TERM\"]) or a checkpoint\n"
"             (default [\"USR1\"]); [] for none\n"
"  exit_on_signal  False: step() returns EXIT_REQUESTED, no SystemExit\n"
"  signal_exit_status  exit status after an exit signal (128+signo)\n"
"  verbose    1: a line per checkpoint; quiet=True: errors only\n"
"  key_file   authenticate images with this key file, or \"default\"\n\n"
"A Store is a context manager and a mapping from region names to the\n"
"protected buffers and objects. It is not thread-safe; it holds the GIL\n"
"while it writes, so no other Python thread changes the state meanwhile.\n"
"Signal handlers are process-wide: one store per process should handle\n"
"checkpoint signals.");

static PyType_Slot Store_slots[] = {
    {Py_tp_doc, (void *)Store_doc},
    {Py_tp_new, Store_new},
    {Py_tp_init, Store_init},
    {Py_tp_dealloc, Store_dealloc},
    {Py_tp_traverse, Store_traverse},
    {Py_tp_clear, Store_clear},
    {Py_tp_methods, Store_methods},
    {Py_tp_getset, Store_getset},
    {Py_tp_repr, Store_repr},
    {Py_tp_iter, Store_iter},
    {Py_mp_length, Store_len},
    {Py_mp_subscript, Store_getitem},
    {Py_mp_ass_subscript, Store_setitem},
    {Py_sq_contains, Store_contains},
    {0, NULL},
};

static PyType_Spec Store_spec = {
    .name = "cairn.Store",
    .basicsize = sizeof(Store),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Store_slots,
};

/* ---- module ---------------------------------------------------------------- */

static PyObject *mod_strerror(UNUSED PyObject *m, PyObject *arg)
{
    int overflow;
    long code = PyLong_AsLongAndOverflow(arg, &overflow);
    if (code == -1 && PyErr_Occurred())
        return NULL;
    if (overflow || code < INT_MIN || code > INT_MAX)
        code = INT_MIN;
    return PyUnicode_FromString(cairn_strerror((int)code));
}

static PyObject *mod_version(UNUSED PyObject *m, UNUSED PyObject *unused)
{
    return PyUnicode_FromString(cairn_version_string());
}

static PyObject *mod_optimal_interval(UNUSED PyObject *m, PyObject *args)
{
    double cost, mtbi;
    if (!PyArg_ParseTuple(args, "dd:optimal_interval", &cost, &mtbi))
        return NULL;
    return PyFloat_FromDouble(cairn_optimal_interval(cost, mtbi));
}

static PyMethodDef module_methods[] = {
    {"strerror", mod_strerror, METH_O,
     "strerror($module, code, /)\n--\n\nDescribes a cairn error code (negative), including "
     "-errno values."},
    {"version", mod_version, METH_NOARGS,
     "version($module, /)\n--\n\nThe version of the libcairn built into this module."},
    {"optimal_interval", mod_optimal_interval, METH_VARARGS,
     "optimal_interval($module, cost, mtbi, /)\n--\n\nThe checkpoint interval (seconds) that "
     "minimises the expected lost time for a checkpoint cost and a mean time between "
     "interruptions, both in seconds (Daly's formula)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "cairn._cairn",
    .m_doc = "The C half of the cairn module: see the package cairn.",
    .m_size = -1,
    .m_methods = module_methods,
};

static int add_int(PyObject *m, const char *name, long v)
{
    return PyModule_AddIntConstant(m, name, v);
}

PyMODINIT_FUNC PyInit__cairn(void);
PyMODINIT_FUNC PyInit__cairn(void)
{
    static int atfork_done;
    PyObject *m = PyModule_Create(&module_def);
    if (!m)
        return NULL;
    PyObject *errors = PyImport_ImportModule("cairn._errors");
    if (!errors)
        goto fail;
    SETREF(ErrorType, PyObject_GetAttrString(errors, "Error"));
    Py_DECREF(errors);
    PyObject *pickle = PyImport_ImportModule("pickle");
    if (!ErrorType || !pickle)
        goto fail;
    SETREF(pickle_dumps, PyObject_GetAttrString(pickle, "dumps"));
    SETREF(pickle_loads, PyObject_GetAttrString(pickle, "loads"));
    Py_DECREF(pickle);
    if (!pickle_dumps || !pickle_loads)
        goto fail;
    PyObject *type = PyType_FromSpec(&Store_spec);
    if (!type || PyModule_AddObjectRef(m, "Store", type) < 0) {
        Py_XDECREF(type);
        goto fail;
    }
    Py_DECREF(type);
    if (add_int(m, "FRESH", CAIRN_FRESH) < 0 || add_int(m, "RESTORED", CAIRN_RESTORED) < 0 ||
        add_int(m, "CHECKPOINTED", CAIRN_CHECKPOINTED) < 0 ||
        add_int(m, "EXIT_REQUESTED", CAIRN_EXIT_REQUESTED) < 0 ||
        PyModule_AddStringConstant(m, "HEADER_VERSION", CAIRN_VERSION_STRING) < 0)
        goto fail;
#define ADD_ERR_(name, value, text) \
    if (add_int(m, "E" #name, CAIRN_E##name) < 0) \
        goto fail;
    CAIRN_ERRNO_MAP(ADD_ERR_)
#undef ADD_ERR_
    if (!atfork_done) {
        if (pthread_atfork(NULL, NULL, fork_child) != 0) {
            PyErr_SetString(PyExc_RuntimeError, "pthread_atfork failed");
            goto fail;
        }
        atfork_done = 1;
    }
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
