/* racefree.sync._fastread: Snapshot.get, ShardedCounter.add and `with rw.read():` without a Python frame.
 *
 * Optional: setup.py builds it with optional=True, and racefree.sync.snapshot
 * and racefree.sync.counter fall back to pure-Python base classes with the
 * same contract when it is missing (READ_PATH in each says which is in use).
 *
 * PublishedValue holds one object reference, `_value`, exposed as a member
 * descriptor: the Python subclass (Snapshot) writes it under its writers'
 * lock, and get() reads it.  Both go through PyMember_SetOne/PyMember_GetOne,
 * which on a free-threaded build store with release ordering and read with
 * the interpreter's own safe "load and take a reference" (the same code that
 * serves a __slots__ attribute), so a reader racing a writer gets the old or
 * the new value, alive.  With the GIL each is one step under the GIL.
 *
 * Why C: on 3.13t a Python-level method call is not specialized and costs
 * several times an attribute load; a METH_NOARGS C method costs about one.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <structmember.h>

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif
#ifndef READONLY
#define READONLY Py_READONLY
#endif

#define RW_FLAG 1   /* _rwlock_ft._FLAG */
#define RW_MARK 2   /* _rwlock_ft._MARK */
#define RW_SHARE 4  /* _rwlock_ft._SHARE */

typedef struct {
    PyObject_HEAD
    PyObject *value; /* written only through the member descriptor */
} PublishedValue;

static PyMemberDef published_members[] = {
    {"_value", Py_T_OBJECT_EX, offsetof(PublishedValue, value), 0,
     "the published value (write it only under the owner's writers' lock)"},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
published_get(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyMember_GetOne((const char *)self, &published_members[0]);
}

static int
published_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((PublishedValue *)self)->value);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
published_clear(PyObject *self)
{
    Py_CLEAR(((PublishedValue *)self)->value);
    return 0;
}

static void
published_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    published_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef published_methods[] = {
    {"get", published_get, METH_NOARGS, "The current value (takes no lock)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot published_slots[] = {
    {Py_tp_doc, "A published object reference read by one C call (base of racefree.sync.Snapshot)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, published_dealloc},
    {Py_tp_traverse, published_traverse},
    {Py_tp_clear, published_clear},
    {Py_tp_methods, published_methods},
    {Py_tp_members, published_members},
    {0, NULL},
};

static PyType_Spec published_spec = {
    .name = "racefree.sync._fastread.PublishedValue",
    .basicsize = sizeof(PublishedValue),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = published_slots,
};

/* -- GuardHolder: rw.read() and rw.write() without a Python frame --------------------------------
 *
 * The base of RWLock's state (racefree.sync._rwlock_wait._RWLockCore): two slots holding the
 * lock's read and write guards, set by RWLock.__init__, and read() / write() returning them.
 * On 3.13t a Python method that only returns an attribute still costs a frame (calls are not
 * specialized there), as much as the guard's own work.  Reads go through PyMember_GetOne, safe
 * against a concurrent store on both builds.
 */

typedef struct {
    PyObject_HEAD
    PyObject *read_guard;
    PyObject *write_guard;
} GuardHolder;

static PyMemberDef holder_members[] = {
    {"_read_guard", Py_T_OBJECT_EX, offsetof(GuardHolder, read_guard), 0, "what read() returns"},
    {"_write_guard", Py_T_OBJECT_EX, offsetof(GuardHolder, write_guard), 0, "what write() returns"},
    {NULL, 0, 0, 0, NULL},
};

static PyObject *
holder_read(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyMember_GetOne((const char *)self, &holder_members[0]);
}

static PyObject *
holder_write(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyMember_GetOne((const char *)self, &holder_members[1]);
}

static int
holder_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((GuardHolder *)self)->read_guard);
    Py_VISIT(((GuardHolder *)self)->write_guard);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
holder_clear(PyObject *self)
{
    Py_CLEAR(((GuardHolder *)self)->read_guard);
    Py_CLEAR(((GuardHolder *)self)->write_guard);
    return 0;
}

static void
holder_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    holder_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef holder_methods[] = {
    {"read", holder_read, METH_NOARGS, "``with rw.read():`` holds a read share for the block."},
    {"write", holder_write, METH_NOARGS, "``with rw.write():`` holds the write lock for the block."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot holder_slots[] = {
    {Py_tp_doc, "The read and write guards of an RWLock, returned by read() and write() in C."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, holder_dealloc},
    {Py_tp_traverse, holder_traverse},
    {Py_tp_clear, holder_clear},
    {Py_tp_methods, holder_methods},
    {Py_tp_members, holder_members},
    {0, NULL},
};

static PyType_Spec holder_spec = {
    .name = "racefree.sync._fastread.GuardHolder",
    .basicsize = sizeof(GuardHolder),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = holder_slots,
};

/* -- the per-thread cache: a primitive's per-thread object without a shared lookup ------------
 *
 * ShardedCounter and the free-threaded RWLock keep one object per thread (a
 * counter cell, a reader cell) behind a threading.local.  Finding it through
 * the threading.local takes a new reference to the shared primitive's
 * `_local` and to the member descriptors on the way: on a free-threaded build
 * each is an atomic reference-count update on a cache line that every reader
 * writes, the contention the per-thread cell was meant to avoid.
 *
 * So the C paths also keep, in the calling thread's own state (an object
 * stored in PyThreadState_GetDict(), which only that thread touches), a small
 * direct-mapped table from a primitive's *cache id* to its object for this
 * thread.  A cache id is a process-wide counter value, never reused: an id is
 * given to a CounterCells each time its `_local` is set and to a read guard
 * when it is made, so an entry left by a dead or re-initialised primitive can
 * never be found again.  The table holds strong references (a cell, never the
 * primitive), dropped when evicted or when the thread's state is cleared.
 * Only a hit skips the Python lookup; a miss does it and fills the entry.
 */

/* (GCC/Clang __atomic builtins: without them the optional extension does not build, and the
 * Python bases serve.) */

#define CACHE_WAYS 16 /* a power of two */

static PyObject *str_cache_key; /* the key in the thread state dict */
static unsigned long long next_cache_id = 0;

static unsigned long long
new_cache_id(void)
{
    return __atomic_add_fetch(&next_cache_id, 1, __ATOMIC_RELAXED);
}

typedef struct {
    PyObject_HEAD
    unsigned long long ids[CACHE_WAYS];
    PyObject *objs[CACHE_WAYS];
    PyObject *ident; /* this thread's ident as an int, made once (the GIL read guard's share) */
} ThreadCache;

static PyTypeObject *thread_cache_type;

static void
thread_cache_dealloc(PyObject *self)
{
    ThreadCache *tc = (ThreadCache *)self;
    PyTypeObject *tp = Py_TYPE(self);
    for (int i = 0; i < CACHE_WAYS; i++) {
        Py_CLEAR(tc->objs[i]);
    }
    Py_CLEAR(tc->ident);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyType_Slot thread_cache_slots[] = {
    {Py_tp_doc, "One thread's table from cache ids to that thread's cells (see racefree.sync._fastread)."},
    {Py_tp_dealloc, thread_cache_dealloc},
    {0, NULL},
};

static PyType_Spec thread_cache_spec = {
    .name = "racefree.sync._fastread._ThreadCache",
    .basicsize = sizeof(ThreadCache),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = thread_cache_slots,
};

/* The calling thread's cache (borrowed: its thread state dict holds it), made on first use. */
static ThreadCache *
thread_cache(void)
{
    PyObject *tsdict = PyThreadState_GetDict();
    if (tsdict == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_SetString(PyExc_RuntimeError, "racefree.sync._fastread: no thread state dict");
        }
        return NULL;
    }
    PyObject *tc = PyDict_GetItemWithError(tsdict, str_cache_key);
    if (tc != NULL || PyErr_Occurred()) {
        return (ThreadCache *)tc;
    }
    tc = (PyObject *)PyObject_New(ThreadCache, thread_cache_type);
    if (tc == NULL) {
        return NULL;
    }
    memset(((ThreadCache *)tc)->ids, 0, sizeof(((ThreadCache *)tc)->ids));
    memset(((ThreadCache *)tc)->objs, 0, sizeof(((ThreadCache *)tc)->objs));
    ((ThreadCache *)tc)->ident = NULL;
    int rc = PyDict_SetItem(tsdict, str_cache_key, tc);
    Py_DECREF(tc);
    return rc < 0 ? NULL : (ThreadCache *)tc;
}

/* The object cached under `id` for this thread (borrowed), or NULL. */
static inline PyObject *
cache_get(ThreadCache *tc, unsigned long long id)
{
    unsigned int slot = (unsigned int)(id & (CACHE_WAYS - 1));
    return tc->ids[slot] == id ? tc->objs[slot] : NULL;
}

/* The calling thread's ident as an int (borrowed from its cache), or NULL with an exception. */
static PyObject *
thread_ident(ThreadCache *tc)
{
    if (tc->ident == NULL) {
        tc->ident = PyLong_FromUnsignedLong(PyThread_get_thread_ident());
    }
    return tc->ident;
}

static void
cache_put(ThreadCache *tc, unsigned long long id, PyObject *obj)
{
    unsigned int slot = (unsigned int)(id & (CACHE_WAYS - 1));
    PyObject *old = tc->objs[slot];
    tc->objs[slot] = Py_NewRef(obj);
    tc->ids[slot] = id;
    Py_XDECREF(old);
}

/* -- ReaderCell: the free-threaded RWLock's per-thread reader cell ---------------------------
 *
 * One 64-bit integer changed only by hardware atomic instructions (sequentially
 * consistent), with the methods the lock's Python code uses on an AtomicInt:
 * load(), add(delta) -> new value, compare_and_swap(expected, new) -> bool.
 * Every operation is one atomic instruction (or one compare-and-swap), so the
 * cell is linearizable on both builds.  The C read guard adds to it directly.
 */

typedef struct {
    PyObject_HEAD
    long long value;
} ReaderCell;

static PyTypeObject *reader_cell_type;

static PyObject *
cell_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"value", NULL};
    long long value = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|L:ReaderCell", kwlist, &value)) {
        return NULL;
    }
    ReaderCell *self = (ReaderCell *)type->tp_alloc(type, 0);
    if (self != NULL) {
        __atomic_store_n(&self->value, value, __ATOMIC_SEQ_CST);
    }
    return (PyObject *)self;
}

static void
cell_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *
cell_load(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLongLong(__atomic_load_n(&((ReaderCell *)self)->value, __ATOMIC_SEQ_CST));
}

static PyObject *
cell_add(PyObject *self, PyObject *arg)
{
    long long delta = PyLong_AsLongLong(arg);
    if (delta == -1 && PyErr_Occurred()) {
        return NULL;
    }
    return PyLong_FromLongLong(__atomic_add_fetch(&((ReaderCell *)self)->value, delta, __ATOMIC_SEQ_CST));
}

static PyObject *
cell_compare_and_swap(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "compare_and_swap() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    long long expected = PyLong_AsLongLong(args[0]);
    if (expected == -1 && PyErr_Occurred()) {
        return NULL;
    }
    long long desired = PyLong_AsLongLong(args[1]);
    if (desired == -1 && PyErr_Occurred()) {
        return NULL;
    }
    int done = __atomic_compare_exchange_n(&((ReaderCell *)self)->value, &expected, desired, 0,
                                           __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return PyBool_FromLong(done);
}

static PyObject *
cell_repr(PyObject *self)
{
    return PyUnicode_FromFormat("<ReaderCell %lld>", __atomic_load_n(&((ReaderCell *)self)->value,
                                                                     __ATOMIC_SEQ_CST));
}

static PyMethodDef cell_methods[] = {
    {"load", cell_load, METH_NOARGS, "The current value."},
    {"add", cell_add, METH_O, "Add delta atomically; return the new value."},
    {"compare_and_swap", _PyCFunction_CAST(cell_compare_and_swap), METH_FASTCALL,
     "Set the value to new if it is expected (atomically); return whether it was."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot cell_slots[] = {
    {Py_tp_doc, "An atomic 64-bit reader cell of the free-threaded RWLock (racefree.sync._rwlock_ft)."},
    {Py_tp_new, cell_new},
    {Py_tp_dealloc, cell_dealloc},
    {Py_tp_repr, cell_repr},
    {Py_tp_methods, cell_methods},
    {0, NULL},
};

static PyType_Spec cell_spec = {
    .name = "racefree.sync._fastread.ReaderCell",
    .basicsize = sizeof(ReaderCell),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT,
    .slots = cell_slots,
};

/* A writer's passes over every reader cell (_rwlock_ft._ShardedRWLock._writers_changed and
 * _drain), one atomic instruction per cell: they run while the writer holds the lock's `_lock`
 * and readers arriving meanwhile wait, so they are kept short.  Same steps, in the same order,
 * as the Python loops they replace. */

static ReaderCell *
as_reader_cell(PyObject *item)
{
    if (!Py_IS_TYPE(item, reader_cell_type)) {
        PyErr_Format(PyExc_TypeError, "expected a ReaderCell, got %.100s", Py_TYPE(item)->tp_name);
        return NULL;
    }
    return (ReaderCell *)item;
}

static PyObject *
cells_add_all(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "add_all(cells, delta)");
        return NULL;
    }
    long long delta = PyLong_AsLongLong(args[1]);
    if (delta == -1 && PyErr_Occurred()) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "add_all: cells must be iterable");
    if (seq == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        ReaderCell *cell = as_reader_cell(PySequence_Fast_GET_ITEM(seq, i));
        if (cell == NULL) {
            Py_DECREF(seq);
            return NULL;
        }
        __atomic_add_fetch(&cell->value, delta, __ATOMIC_SEQ_CST);
    }
    Py_DECREF(seq);
    Py_RETURN_NONE;
}

/* For each cell holding shares and not yet marked: mark it (compare-and-swap) and count it in
 * `pending`, at once, as _ShardedRWLock._drain does. */
static PyObject *
cells_mark_all(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "mark_all(cells, pending)");
        return NULL;
    }
    ReaderCell *pending = as_reader_cell(args[1]);
    if (pending == NULL) {
        return NULL;
    }
    PyObject *seq = PySequence_Fast(args[0], "mark_all: cells must be iterable");
    if (seq == NULL) {
        return NULL;
    }
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        ReaderCell *cell = as_reader_cell(PySequence_Fast_GET_ITEM(seq, i));
        if (cell == NULL) {
            Py_DECREF(seq);
            return NULL;
        }
        long long v = __atomic_load_n(&cell->value, __ATOMIC_SEQ_CST);
        while (v >= RW_SHARE && !(v & RW_MARK)) {
            if (__atomic_compare_exchange_n(&cell->value, &v, v + RW_MARK, 0, __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST)) {
                __atomic_add_fetch(&pending->value, 1, __ATOMIC_SEQ_CST);
                break;
            } /* v now holds the current value: the owner came or went, or the flag moved */
        }
    }
    Py_DECREF(seq);
    Py_RETURN_NONE;
}

static PyMethodDef fastread_functions[] = {
    {"add_all", _PyCFunction_CAST(cells_add_all), METH_FASTCALL,
     "add_all(cells, delta): add delta to every ReaderCell of cells."},
    {"mark_all", _PyCFunction_CAST(cells_mark_all), METH_FASTCALL,
     "mark_all(cells, pending): mark every unmarked ReaderCell with shares, counting each in pending."},
    {NULL, NULL, 0, NULL},
};

/* -- CounterCells: ShardedCounter.add as one C call ------------------------------------------
 *
 * `_local` is the counter's threading.local; the calling thread's cell is a
 * one-element list at `_local.cell` that only that thread writes.  add(n)
 * does what the Python add does, in the same order: when a detector listens
 * (racefree.sync._hb.listener is not None) it defers to the Python
 * `_add_reporting(n)` (the release comes before the write); else it adds n to
 * the cell (making it with the Python `_new_cell()` on the thread's first add).
 */

static PyObject *hb_module;     /* racefree.sync._hb, imported at exec */
static PyObject *hb_dict;       /* its namespace (borrowed: the module lives as long as we do) */
static PyObject *str_listener;

/* racefree.sync._hb.listener, a new reference: one lookup in the module's namespace (what
 * `_hb.listener` does in Python, without the module attribute protocol around it). */
static PyObject *
hb_listener(void)
{
    PyObject *listener;
#if PY_VERSION_HEX >= 0x030D0000
    if (PyDict_GetItemRef(hb_dict, str_listener, &listener) < 0) {
        return NULL;
    }
#else
    listener = Py_XNewRef(PyDict_GetItemWithError(hb_dict, str_listener));
    if (listener == NULL && PyErr_Occurred()) {
        return NULL;
    }
#endif
    if (listener == NULL) { /* deleted: as Python would say */
        return PyObject_GetAttr(hb_module, str_listener);
    }
    return listener;
}
/* interned attribute names */
static PyObject *str_cell;
static PyObject *str_new_cell;
static PyObject *str_add_reporting;
static PyObject *int_one;

typedef struct {
    PyObject_HEAD
    PyObject *local; /* the counter's threading.local, set by __init__ (under the object's lock) */
    unsigned long long cache_id; /* renewed whenever `local` is set: see the per-thread cache */
} CounterCells;

/* `_local` is read and written as a __slots__ attribute is (PyMember_GetOne/SetOne: a lock-free
 * read that is safe against a concurrent store on 3.13t), through this (unlisted) member;
 * the getset around it renews the cache id on every store. */
static PyMemberDef counter_local_member = {
    "_local", Py_T_OBJECT_EX, offsetof(CounterCells, local), 0, NULL,
};

static PyObject *
counter_get_local(PyObject *self, void *Py_UNUSED(closure))
{
    return PyMember_GetOne((const char *)self, &counter_local_member);
}

static int
counter_set_local(PyObject *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL) {
        PyErr_SetString(PyExc_AttributeError, "_local cannot be deleted");
        return -1;
    }
    if (PyMember_SetOne((char *)self, &counter_local_member, value) < 0) {
        return -1;
    }
    /* A new threading.local means new cells: entries cached under the old id go stale. */
    __atomic_store_n(&((CounterCells *)self)->cache_id, new_cache_id(), __ATOMIC_SEQ_CST);
    return 0;
}

static PyGetSetDef counter_getset[] = {
    {"_local", counter_get_local, counter_set_local,
     "the counter's threading.local (the calling thread's cell is _local.cell)", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

/* The calling thread's cell, a new reference: from the per-thread cache, else through `_local`
 * (making it with the Python `_new_cell()` on the thread's first add) and then cached. */
static PyObject *
counter_cell(PyObject *self)
{
    unsigned long long id = __atomic_load_n(&((CounterCells *)self)->cache_id, __ATOMIC_SEQ_CST);
    ThreadCache *tc = thread_cache();
    if (tc == NULL) {
        return NULL;
    }
    PyObject *cell = cache_get(tc, id);
    if (cell != NULL) {
        return Py_NewRef(cell);
    }
    PyObject *local = counter_get_local(self, NULL);
    if (local == NULL) {
        return NULL;
    }
    cell = PyObject_GetAttr(local, str_cell);
    Py_DECREF(local);
    if (cell == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return NULL;
        }
        PyErr_Clear();
        cell = PyObject_CallMethodNoArgs(self, str_new_cell);
        if (cell == NULL) {
            return NULL;
        }
    }
    if (id != 0) {
        cache_put(tc, id, cell);
    }
    return cell;
}

static PyObject *
counter_add(PyObject *self, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    Py_ssize_t nkw = kwnames == NULL ? 0 : PyTuple_GET_SIZE(kwnames);
    PyObject *n = int_one;
    if (nargs + nkw > 1) {
        PyErr_Format(PyExc_TypeError, "add() takes at most 1 argument (%zd given)", nargs + nkw);
        return NULL;
    }
    if (nargs == 1) {
        n = args[0];
    }
    else if (nkw == 1) {
        int is_n = PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "n") == 0;
        if (!is_n) {
            PyErr_Format(PyExc_TypeError, "add() got an unexpected keyword argument '%U'",
                         PyTuple_GET_ITEM(kwnames, 0));
            return NULL;
        }
        n = args[0];
    }
    PyObject *listener = hb_listener();
    if (listener == NULL) {
        return NULL;
    }
    int reporting = listener != Py_None;
    Py_DECREF(listener);
    if (reporting) {
        return PyObject_CallMethodOneArg(self, str_add_reporting, n);
    }
    PyObject *cell = counter_cell(self);
    if (cell == NULL) {
        return NULL;
    }
    PyObject *old = PySequence_GetItem(cell, 0);
    if (old == NULL) {
        Py_DECREF(cell);
        return NULL;
    }
    PyObject *sum = PyNumber_InPlaceAdd(old, n);
    Py_DECREF(old);
    if (sum == NULL) {
        Py_DECREF(cell);
        return NULL;
    }
    int rc = PySequence_SetItem(cell, 0, sum);
    Py_DECREF(sum);
    Py_DECREF(cell);
    if (rc < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static int
counter_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((CounterCells *)self)->local);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
counter_clear(PyObject *self)
{
    Py_CLEAR(((CounterCells *)self)->local);
    return 0;
}

static void
counter_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    counter_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMethodDef counter_methods[] = {
    {"add", _PyCFunction_CAST(counter_add), METH_FASTCALL | METH_KEYWORDS,
     "Add n (may be negative) to the calling thread's cell."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot counter_slots[] = {
    {Py_tp_doc, "Per-thread counter cells with add() in C (base of racefree.sync.ShardedCounter)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_dealloc, counter_dealloc},
    {Py_tp_traverse, counter_traverse},
    {Py_tp_clear, counter_clear},
    {Py_tp_methods, counter_methods},
    {Py_tp_getset, counter_getset},
    {0, NULL},
};

static PyType_Spec counter_spec = {
    .name = "racefree.sync._fastread.CounterCells",
    .basicsize = sizeof(CounterCells),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = counter_slots,
};

/* -- read guards: `with rw.read():` for RWLock's two lock-free reader paths ---------------------
 *
 * The same steps as _ShardedReadGuard / _GILReadGuard in racefree.sync
 * (_rwlock_ft.py, rwlock.py), in the same order, without a Python frame.
 * Everything but the uncontended path is delegated to the lock's Python
 * methods: a flagged cell (_read_flagged), a writer present (_read_claimed,
 * _wake_drained), a marked cell (_last_share_out), a detector listening
 * (release_read reports and checks), a thread holding no share (release_read
 * raises LockNotHeldError).  With the GIL, C code between those calls runs
 * without a thread switch, so the GIL path's store-then-load handshake holds
 * at least as strongly as in Python.
 */


static PyObject *str_local, *str_add, *str_read_flagged, *str_acquire, *str_release_read,
    *str_last_share_out, *str_readers, *str_writer, *str_read_claimed, *str_remove,
    *str_wake_drained, *str_write, *int_share, *int_minus_share, *int_minus_one;

typedef struct {
    PyObject_HEAD
    PyObject *lock; /* the RWLock; set at construction, never changed */
    unsigned long long cache_id; /* this guard's key in the per-thread cache (ShardedReadGuard) */
    PyObject *readers;  /* GILReadGuard: the lock's `_readers` list (set once by its __init__) */
    Py_ssize_t writer_offset; /* GILReadGuard: where the lock keeps `_writer` (its slot), or -1 */
} ReadGuard;

static PyObject *
guard_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *lock;
    if (!PyArg_ParseTuple(args, "O:ReadGuard", &lock)) {
        return NULL;
    }
    ReadGuard *self = (ReadGuard *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->lock = Py_NewRef(lock);
        self->cache_id = new_cache_id();
        self->readers = NULL;
        self->writer_offset = -1;
    }
    return (PyObject *)self;
}

static int
guard_traverse(PyObject *self, visitproc visit, void *arg)
{
    Py_VISIT(((ReadGuard *)self)->lock);
    Py_VISIT(((ReadGuard *)self)->readers);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int
guard_clear(PyObject *self)
{
    Py_CLEAR(((ReadGuard *)self)->lock);
    Py_CLEAR(((ReadGuard *)self)->readers);
    return 0;
}

static void
guard_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    guard_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

/* 1 if a detector listens, 0 if not, -1 on error */
static int
listening(void)
{
    PyObject *listener = hb_listener();
    if (listener == NULL) {
        return -1;
    }
    int on = listener != Py_None;
    Py_DECREF(listener);
    return on;
}

/* hb.acquire((rw, "write")) if a detector listens */
static int
report_acquire_write(PyObject *rw)
{
    PyObject *listener = hb_listener();
    if (listener == NULL) {
        return -1;
    }
    if (listener == Py_None) {
        Py_DECREF(listener);
        return 0;
    }
    PyObject *key = PyTuple_Pack(2, rw, str_write);
    PyObject *r = key == NULL ? NULL : PyObject_CallMethodOneArg(listener, str_acquire, key);
    Py_XDECREF(key);
    Py_DECREF(listener);
    if (r == NULL) {
        return -1;
    }
    Py_DECREF(r);
    return 0;
}

static PyObject *
call_lock(PyObject *rw, PyObject *name)
{
    return PyObject_CallMethodNoArgs(rw, name);
}

/* the thread's cell's bound add (making the cell on first use), a new reference */
static PyObject *
sharded_add(PyObject *rw)
{
    PyObject *local = PyObject_GetAttr(rw, str_local);
    if (local == NULL) {
        return NULL;
    }
    PyObject *add = PyObject_GetAttr(local, str_add);
    Py_DECREF(local);
    if (add != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError)) {
        return add;
    }
    PyErr_Clear();
    PyObject *cell = PyObject_CallMethodNoArgs(rw, str_new_cell);
    if (cell == NULL) {
        return NULL;
    }
    add = PyObject_GetAttr(cell, str_add);
    Py_DECREF(cell);
    return add;
}

/* The calling thread's ReaderCell of the guard's lock (borrowed from the per-thread cache), or
 * NULL: with an exception set, or without one when the lock's cells are not ReaderCells (then
 * the generic path below serves).  On a miss it makes the cell (`_new_cell()`) if need be. */
static PyObject *
reader_cell(PyObject *self)
{
    ReadGuard *guard = (ReadGuard *)self;
    ThreadCache *tc = thread_cache();
    if (tc == NULL) {
        return NULL;
    }
    PyObject *cell = cache_get(tc, guard->cache_id);
    if (cell != NULL) {
        return cell;
    }
    PyObject *local = PyObject_GetAttr(guard->lock, str_local);
    if (local == NULL) {
        return NULL;
    }
    cell = PyObject_GetAttr(local, str_cell);
    Py_DECREF(local);
    if (cell == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return NULL;
        }
        PyErr_Clear();
        cell = PyObject_CallMethodNoArgs(guard->lock, str_new_cell);
        if (cell == NULL) {
            return NULL;
        }
    }
    int ours = Py_IS_TYPE(cell, reader_cell_type);
    if (ours) {
        cache_put(tc, guard->cache_id, cell);
    }
    Py_DECREF(cell);
    return ours ? cache_get(tc, guard->cache_id) : NULL;
}

/* cell.add, bound (for the Python slow paths, which take it as an argument) */
static PyObject *
bound_add(PyObject *cell)
{
    return PyObject_GetAttr(cell, str_add);
}

static PyObject *
sharded_enter(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *rw = ((ReadGuard *)self)->lock;
    PyObject *cell = reader_cell(self);
    if (cell != NULL) { /* announce a share and read the flag, in one atomic add on our own cell */
        long long v = __atomic_add_fetch(&((ReaderCell *)cell)->value, RW_SHARE, __ATOMIC_SEQ_CST);
        if (!(v & RW_FLAG) || v >= 2 * RW_SHARE) {
            if (report_acquire_write(rw) < 0) {
                return NULL;
            }
            Py_RETURN_NONE;
        }
        PyObject *add = bound_add(cell);
        if (add == NULL) {
            return NULL;
        }
        PyObject *r = PyObject_CallMethodObjArgs(rw, str_read_flagged, add, Py_True, int_minus_one, NULL);
        Py_DECREF(add);
        if (r == NULL) {
            return NULL;
        }
        Py_DECREF(r);
        Py_RETURN_NONE;
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    PyObject *add = sharded_add(rw);
    if (add == NULL) {
        return NULL;
    }
    PyObject *value = PyObject_CallOneArg(add, int_share); /* announce a share, read the flag */
    if (value == NULL) {
        Py_DECREF(add);
        return NULL;
    }
    long long v = PyLong_AsLongLong(value);
    Py_DECREF(value);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(add);
        return NULL;
    }
    if (!(v & RW_FLAG) || v >= 2 * RW_SHARE) {
        Py_DECREF(add);
        if (report_acquire_write(rw) < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    PyObject *r = PyObject_CallMethodObjArgs(rw, str_read_flagged, add, Py_True, int_minus_one, NULL);
    Py_DECREF(add);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static PyObject *
sharded_exit(PyObject *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
    PyObject *rw = ((ReadGuard *)self)->lock;
    int on = listening();
    if (on < 0) {
        return NULL;
    }
    ThreadCache *tc = on ? NULL : thread_cache();
    if (!on && tc == NULL) {
        return NULL;
    }
    PyObject *cell = on ? NULL : cache_get(tc, ((ReadGuard *)self)->cache_id);
    if (cell != NULL) { /* our ReaderCell: give the share back in one atomic add */
        long long v = __atomic_add_fetch(&((ReaderCell *)cell)->value, -RW_SHARE, __ATOMIC_SEQ_CST);
        if (v >= 0 && !((v & RW_MARK) && v < RW_SHARE)) {
            Py_RETURN_NONE;
        }
        /* no share was held, or a draining writer marked the cell: _last_share_out decides */
        Py_INCREF(cell); /* _last_share_out may run code that evicts it from the cache */
        PyObject *add = bound_add(cell);
        PyObject *value = add == NULL ? NULL : PyLong_FromLongLong(v);
        PyObject *r = value == NULL ? NULL
            : PyObject_CallMethodObjArgs(rw, str_last_share_out, add, value, NULL);
        Py_XDECREF(value);
        Py_XDECREF(add);
        Py_DECREF(cell);
        if (r == NULL) {
            return NULL;
        }
        Py_DECREF(r);
        Py_RETURN_NONE;
    }
    PyObject *local = on ? NULL : PyObject_GetAttr(rw, str_local);
    PyObject *add = local == NULL ? NULL : PyObject_GetAttr(local, str_add);
    Py_XDECREF(local);
    if (add == NULL) { /* reporting, or no cell: release_read reports, or raises LockNotHeldError */
        if (PyErr_Occurred() && !PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return NULL;
        }
        PyErr_Clear();
        PyObject *r = call_lock(rw, str_release_read);
        if (r == NULL) {
            return NULL;
        }
        Py_DECREF(r);
        Py_RETURN_NONE;
    }
    PyObject *value = PyObject_CallOneArg(add, int_minus_share);
    if (value == NULL) {
        Py_DECREF(add);
        return NULL;
    }
    long long v = PyLong_AsLongLong(value);
    if (v == -1 && PyErr_Occurred()) {
        Py_DECREF(value);
        Py_DECREF(add);
        return NULL;
    }
    PyObject *r = Py_None;
    if (v < 0 || ((v & RW_MARK) && v < RW_SHARE)) {
        r = PyObject_CallMethodObjArgs(rw, str_last_share_out, add, value, NULL);
    }
    else {
        Py_INCREF(r);
    }
    Py_DECREF(value);
    Py_DECREF(add);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    Py_RETURN_NONE;
}

/* GILReadGuard runs only while the GIL is held (the GIL build's RWLock), so the steps below are
 * not interleaved with any other thread's: the lock's `_readers` list is kept in the guard, its
 * `_writer` slot is read in place, and the thread's ident is one int made once per thread (so
 * the exit finds the share by identity first). */
static int
gil_guard_ready(ReadGuard *g)
{
    if (g->readers != NULL) {
        return 0;
    }
    PyObject *readers = PyObject_GetAttr(g->lock, str_readers);
    if (readers == NULL) {
        return -1;
    }
    if (!PyList_CheckExact(readers)) {
        Py_DECREF(readers);
        PyErr_SetString(PyExc_TypeError, "GILReadGuard: the lock's _readers is not a list");
        return -1;
    }
    PyObject *descr = PyObject_GetAttr((PyObject *)Py_TYPE(g->lock), str_writer);
    if (descr == NULL) {
        Py_DECREF(readers);
        return -1;
    }
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
        if (m->type == Py_T_OBJECT_EX && !(m->flags & READONLY)) {
            g->writer_offset = m->offset;
        }
    }
    Py_DECREF(descr);
    g->readers = readers;
    return 0;
}

/* rw._writer, a new reference */
static PyObject *
gil_writer(ReadGuard *g)
{
    if (g->writer_offset >= 0) {
        PyObject *w = *(PyObject **)((char *)g->lock + g->writer_offset);
        if (w != NULL) {
            return Py_NewRef(w);
        }
    }
    return PyObject_GetAttr(g->lock, str_writer);
}

static PyObject *
gil_enter(PyObject *self, PyObject *Py_UNUSED(ignored))
{
    ReadGuard *g = (ReadGuard *)self;
    PyObject *rw = g->lock;
    ThreadCache *tc = thread_cache();
    PyObject *me = tc == NULL ? NULL : thread_ident(tc);
    if (me == NULL || gil_guard_ready(g) < 0) {
        return NULL;
    }
    if (PyList_Append(g->readers, me) < 0) { /* provisional share */
        return NULL;
    }
    PyObject *writer = gil_writer(g);
    if (writer == NULL) {
        return NULL;
    }
    int unclaimed = writer == Py_None;
    Py_DECREF(writer);
    if (unclaimed) {
        if (report_acquire_write(rw) < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    Py_INCREF(me);
    PyObject *r = PyObject_CallMethodObjArgs(rw, str_read_claimed, me, Py_True, int_minus_one, NULL);
    Py_DECREF(me);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    Py_RETURN_NONE;
}

/* Remove one entry equal to `me` from `readers` (the last one: any is the same share);
 * 1 if removed, 0 if there is none, -1 on error. */
static int
remove_share(PyObject *readers, PyObject *me)
{
    Py_ssize_t i;
    for (i = PyList_GET_SIZE(readers) - 1; i >= 0; i--) {
        if (PyList_GET_ITEM(readers, i) == me) {
            break;
        }
    }
    for (Py_ssize_t j = PyList_GET_SIZE(readers) - 1; i < 0 && j >= 0; j--) {
        PyObject *item = Py_NewRef(PyList_GET_ITEM(readers, j)); /* added by a Python path */
        int eq = PyObject_RichCompareBool(item, me, Py_EQ);
        Py_DECREF(item);
        if (eq < 0) {
            return -1;
        }
        if (eq && j < PyList_GET_SIZE(readers)) {
            i = j;
        }
    }
    if (i < 0) {
        return 0;
    }
    return PyList_SetSlice(readers, i, i + 1, NULL) < 0 ? -1 : 1;
}

static PyObject *
gil_exit(PyObject *self, PyObject *const *Py_UNUSED(args), Py_ssize_t Py_UNUSED(nargs))
{
    ReadGuard *g = (ReadGuard *)self;
    PyObject *rw = g->lock;
    int on = listening();
    if (on < 0) {
        return NULL;
    }
    if (on) {
        return call_lock(rw, str_release_read); /* the checks and the report live there */
    }
    ThreadCache *tc = thread_cache();
    PyObject *me = tc == NULL ? NULL : thread_ident(tc);
    if (me == NULL || gil_guard_ready(g) < 0) {
        return NULL;
    }
    int removed = remove_share(g->readers, me);
    if (removed < 0) {
        return NULL;
    }
    if (!removed) {
        return call_lock(rw, str_release_read); /* holds no share: raises LockNotHeldError */
    }
    Py_ssize_t left = PyList_GET_SIZE(g->readers);
    PyObject *writer = gil_writer(g); /* looked at after the remove */
    if (writer == NULL) {
        return NULL;
    }
    int claimed = writer != Py_None;
    Py_DECREF(writer);
    if (claimed && left == 0) {
        return call_lock(rw, str_wake_drained);
    }
    Py_RETURN_NONE;
}

static PyMethodDef sharded_guard_methods[] = {
    {"__enter__", sharded_enter, METH_NOARGS, "Take a read share."},
    {"__exit__", _PyCFunction_CAST(sharded_exit), METH_FASTCALL, "Give the read share back."},
    {NULL, NULL, 0, NULL},
};

static PyMethodDef gil_guard_methods[] = {
    {"__enter__", gil_enter, METH_NOARGS, "Take a read share."},
    {"__exit__", _PyCFunction_CAST(gil_exit), METH_FASTCALL, "Give the read share back."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot sharded_guard_slots[] = {
    {Py_tp_doc, "with rw.read(): for the free-threaded RWLock (_ShardedRWLock), in C."},
    {Py_tp_new, guard_new},
    {Py_tp_dealloc, guard_dealloc},
    {Py_tp_traverse, guard_traverse},
    {Py_tp_clear, guard_clear},
    {Py_tp_methods, sharded_guard_methods},
    {0, NULL},
};

static PyType_Slot gil_guard_slots[] = {
    {Py_tp_doc, "with rw.read(): for the GIL build's RWLock (_GILRWLock), in C."},
    {Py_tp_new, guard_new},
    {Py_tp_dealloc, guard_dealloc},
    {Py_tp_traverse, guard_traverse},
    {Py_tp_clear, guard_clear},
    {Py_tp_methods, gil_guard_methods},
    {0, NULL},
};

static PyType_Spec sharded_guard_spec = {
    .name = "racefree.sync._fastread.ShardedReadGuard",
    .basicsize = sizeof(ReadGuard),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = sharded_guard_slots,
};

static PyType_Spec gil_guard_spec = {
    .name = "racefree.sync._fastread.GILReadGuard",
    .basicsize = sizeof(ReadGuard),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = gil_guard_slots,
};

static PyObject *
intern(const char *s)
{
    return PyUnicode_InternFromString(s);
}

static int
add_type(PyObject *module, PyType_Spec *spec, const char *name)
{
    PyObject *type = PyType_FromModuleAndSpec(module, spec, NULL);
    if (type == NULL) {
        return -1;
    }
    int rc = PyModule_AddObjectRef(module, name, type);
    Py_DECREF(type);
    return rc;
}

static int
fastread_exec(PyObject *module)
{
    if (hb_module == NULL) {
        hb_module = PyImport_ImportModule("racefree.sync._hb");
        if (hb_module == NULL) {
            return -1;
        }
        hb_dict = PyModule_GetDict(hb_module);
        str_listener = PyUnicode_InternFromString("listener");
        str_cell = PyUnicode_InternFromString("cell");
        str_new_cell = PyUnicode_InternFromString("_new_cell");
        str_add_reporting = PyUnicode_InternFromString("_add_reporting");
        int_one = PyLong_FromLong(1);
        if (!str_listener || !str_cell || !str_new_cell || !str_add_reporting || !int_one) {
            return -1;
        }
        str_local = intern("_local");
        str_add = intern("add");
        str_read_flagged = intern("_read_flagged");
        str_acquire = intern("acquire");
        str_release_read = intern("release_read");
        str_last_share_out = intern("_last_share_out");
        str_readers = intern("_readers");
        str_writer = intern("_writer");
        str_read_claimed = intern("_read_claimed");
        str_remove = intern("remove");
        str_wake_drained = intern("_wake_drained");
        str_write = intern("write");
        int_share = PyLong_FromLong(RW_SHARE);
        int_minus_share = PyLong_FromLong(-RW_SHARE);
        int_minus_one = PyLong_FromLong(-1);
        if (!str_local || !str_add || !str_read_flagged || !str_acquire || !str_release_read
            || !str_last_share_out || !str_readers || !str_writer || !str_read_claimed || !str_remove
            || !str_wake_drained || !str_write || !int_share || !int_minus_share || !int_minus_one) {
            return -1;
        }
    }
    if (thread_cache_type == NULL) {
        thread_cache_type = (PyTypeObject *)PyType_FromSpec(&thread_cache_spec);
        if (thread_cache_type == NULL) {
            return -1;
        }
        str_cache_key = intern("racefree.sync._fastread per-thread cache");
        if (str_cache_key == NULL) {
            return -1;
        }
    }
    if (reader_cell_type == NULL) {
        reader_cell_type = (PyTypeObject *)PyType_FromSpec(&cell_spec);
        if (reader_cell_type == NULL) {
            return -1;
        }
    }
    if (PyModule_AddObjectRef(module, "ReaderCell", (PyObject *)reader_cell_type) < 0) {
        return -1;
    }
    if (add_type(module, &published_spec, "PublishedValue") < 0
        || add_type(module, &counter_spec, "CounterCells") < 0
        || add_type(module, &holder_spec, "GuardHolder") < 0
        || add_type(module, &sharded_guard_spec, "ShardedReadGuard") < 0) {
        return -1;
    }
    return add_type(module, &gil_guard_spec, "GILReadGuard");
}

static PyModuleDef_Slot fastread_module_slots[] = {
    {Py_mod_exec, fastread_exec},
#ifdef Py_GIL_DISABLED
    {Py_mod_gil, Py_MOD_GIL_NOT_USED}, /* safe without the GIL: see each type's comment */
#endif
    {0, NULL},
};

static struct PyModuleDef fastread_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "racefree.sync._fastread",
    .m_doc = "Snapshot.get, ShardedCounter.add and RWLock read guards in C (optional; see racefree.sync._fast).",
    .m_size = 0,
    .m_methods = fastread_functions,
    .m_slots = fastread_module_slots,
};

PyMODINIT_FUNC
PyInit__fastread(void)
{
    return PyModuleDef_Init(&fastread_module);
}
