/* racefree.detector._speedups: the detector's access fast paths in C.
 *
 * The pure-Python recorders in access.py / containers.py are the reference; this
 * module only answers, faster, the question they ask first on every access: "did
 * this thread already record this access at its current epoch?" (FastTrack's
 * same-epoch test).  Whenever the answer is not a plain yes, it calls the Python
 * "miss" function with what it already looked up, so every decision that records,
 * compares histories or reports stays in one place, in Python.
 *
 * Thread safety (with and without the GIL): a Recorder is immutable after
 * creation; the fast path only reads (slots through PyMember_GetOne, dict items
 * through strong-reference lookups), so a racing update of a cell can only
 * make it see a stale value and take the miss path, exactly like the Python code.
 * The module declares Py_MOD_GIL_NOT_USED so that importing it keeps the GIL off
 * on a free-threaded build.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <structmember.h>

/* Strong-reference dict lookup: 1 found, 0 absent, -1 error (as PyDict_GetItemRef). */
static int
dict_get_ref(PyObject *d, PyObject *key, PyObject **out)
{
#if PY_VERSION_HEX >= 0x030D0000
    return PyDict_GetItemRef(d, key, out);
#else
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL) {
        *out = NULL;
        return PyErr_Occurred() ? -1 : 0;
    }
    Py_INCREF(v);
    *out = v;
    return 1;
#endif
}

/* Interned attribute names. */
static PyObject *s_ts, *s_epoch, *s_tid, *s_fast, *s_r, *s_w, *s_m, *s_rs, *s_rsite, *s_container, *s_obj;
static PyObject *s_ri, *s_wi, *s_mi, *s_g, *s_it, *s_off, *s_shared, *s_owner, *s_kind, *s_vc;
static PyObject *s_acquire, *s_release, *s_seq;

typedef struct {
    PyObject_HEAD
    PyObject *cells;         /* the shadow's dict: (id(container), key) or (id(container),) -> Cell */
    PyObject *tls;           /* the detector's thread-local (its attribute `ts`) */
    PyObject *thread_state;  /* () -> ThreadState, for a thread seen for the first time */
    PyObject *read_miss;     /* (cell|None, ts, e, kind, container, key, site) -> None */
    PyObject *write_miss;
    PyObject *py_getitem;    /* containers.py's getitem / setitem / call for what C does not handle */
    PyObject *py_setitem;
    PyObject *py_call;
    PyObject *perturb;       /* stress mode: (ts) -> None after a write; else None */
    int python_mode;
    long item_kind, size_kind, guard_flag, flags_index;
    /* the __slots__ of Cell and ThreadState, read without a type lookup */
    PyObject *cell_type, *ts_type, *hold_type, *descrs;
    PyMemberDef *m_r, *m_w, *m_m, *m_rs, *m_rsite, *m_container, *m_epoch, *m_tid, *m_fast, *m_obj;
    /* the no-race slow path (see "slow path" below) */
    PyMemberDef *m_ri, *m_wi, *m_mi, *m_g, *m_it, *m_off, *m_shared, *m_owner, *m_kind, *m_vc;
    PyMemberDef *m_seq;      /* Cell.seq: shadow.EVICTED once the cell left the shadow */
    unsigned long long serial;  /* this Recorder's key to the per-thread ThreadState cache */
    PyObject *internal_error;   /* () -> None: count a detector failure (Detector.internal_error) */
    PyObject *stripes;       /* list of the detector's private RLocks, by cell */
    PyObject *capture;       /* () -> the caller's stack (stacks.capture_outside_site) */
    long shift, iteration_flag, file_index, func_index, line_index;
    long long mask;
    long flow_index;  /* the data flow in a store's site (statements.feeds), -1: none */
    PyObject *tracked;       /* (type) -> bool: containers._tracked, or None */
    PyObject *untracked;     /* dict: the types `tracked` said no to (their methods record nothing) */
} Recorder;

static PyTypeObject *RecorderType;

/* obj.<slot> (new reference, or NULL with an exception): a member read when `obj` is of
 * `type` exactly (PyMember_GetOne is safe against racing stores on every build), a
 * normal attribute lookup otherwise. */
static PyObject *
get_slot(PyObject *obj, PyObject *type, PyMemberDef *member, PyObject *name)
{
    if ((PyObject *)Py_TYPE(obj) == type) {
        return PyMember_GetOne((const char *)obj, member);
    }
    return PyObject_GetAttr(obj, name);
}

#define CELL_GET(self, cell, field) get_slot((cell), (self)->cell_type, (self)->m_##field, s_##field)
#define TS_GET(self, ts, field) get_slot((ts), (self)->ts_type, (self)->m_##field, s_##field)

/* A value of an epoch-like attribute as a C integer; 0 with no error when absent or odd. */
static int
as_ll(PyObject *v, long long *out)
{
    int overflow = 0;
    long long x;
    if (v == NULL || !PyLong_CheckExact(v)) {
        return 0;
    }
    x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    *out = x;
    return 1;
}

/* An int slot's value as a long long; returns 1 on success, 0 if not an int, -1 on error. */
static int
slot_ll(PyObject *v, long long *out)
{
    int ok;
    if (v == NULL) {
        return -1;
    }
    ok = as_ll(v, out);
    Py_DECREF(v);
    return ok;
}

/* The calling thread's ThreadState, remembered per OS thread for one Recorder (its
 * serial, never reused).  Borrowed: the detector's thread table keeps every
 * ThreadState it made for as long as the detector lives, and the Recorder keeps the
 * detector alive; Detector._new_thread_state calls forget_thread() before it gives
 * the calling thread a new one. */
#if defined(_MSC_VER)
#define THREAD_LOCAL __declspec(thread)
#else
#define THREAD_LOCAL _Thread_local
#endif
static THREAD_LOCAL unsigned long long tl_serial;
static THREAD_LOCAL PyObject *tl_ts;
static unsigned long long next_serial;

/* The calling thread's ThreadState (new reference), or NULL with an exception. */
static PyObject *
thread_state(Recorder *self)
{
    PyObject *ts;
    if (tl_serial == self->serial) {
        return Py_NewRef(tl_ts);
    }
    ts = PyObject_GetAttr(self->tls, s_ts);
    if (ts == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return NULL;
        }
        PyErr_Clear();
        ts = PyObject_CallNoArgs(self->thread_state);
        if (ts == NULL) {
            return NULL;
        }
    }
    tl_ts = ts;
    tl_serial = self->serial;
    return ts;
}

static PyObject *
Recorder_forget_thread(Recorder *self, PyObject *unused)
{
    tl_serial = 0;
    tl_ts = NULL;
    Py_RETURN_NONE;
}

/* The shadow key of a location (new reference). */
static PyObject *
location_key(PyObject *container, PyObject *key, int size)
{
    PyObject *ident = PyLong_FromVoidPtr(container);
    PyObject *k;
    if (ident == NULL) {
        return NULL;
    }
    k = size ? PyTuple_New(1) : PyTuple_New(2);
    if (k == NULL) {
        Py_DECREF(ident);
        return NULL;
    }
    PyTuple_SET_ITEM(k, 0, ident);
    if (!size) {
        Py_INCREF(key);
        PyTuple_SET_ITEM(k, 1, key);
    }
    return k;
}

static long
site_flags(Recorder *self, PyObject *site)
{
    PyObject *f;
    long flags;
    if (!PyTuple_CheckExact(site) || PyTuple_GET_SIZE(site) <= self->flags_index) {
        return -1;
    }
    f = PyTuple_GET_ITEM(site, self->flags_index);
    if (!PyLong_CheckExact(f)) {
        return -1;
    }
    flags = PyLong_AsLong(f);
    if (flags == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return -1;
    }
    return flags;
}

/* This thread's entry of a cell's read-shared table: (epoch, info); new reference or NULL (no error). */
static PyObject *
shared_entry(Recorder *self, PyObject *cell, PyObject *ts)
{
    PyObject *rs, *tid, *entry = NULL;
    rs = CELL_GET(self, cell, rs);
    if (rs == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (!PyDict_Check(rs)) {
        Py_DECREF(rs);
        return NULL;
    }
    tid = TS_GET(self, ts, tid);
    if (tid == NULL) {
        PyErr_Clear();
        Py_DECREF(rs);
        return NULL;
    }
    if (dict_get_ref(rs, tid, &entry) < 0) {
        PyErr_Clear();
        entry = NULL;
    }
    Py_DECREF(tid);
    Py_DECREF(rs);
    if (entry != NULL && (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) < 2)) {
        Py_DECREF(entry);
        return NULL;
    }
    return entry;
}

/* 1: the fast path says this read is already recorded; 0: go to the miss path; -1: error. */
static int
read_hit(Recorder *self, PyObject *cell, PyObject *ts, long long e, PyObject *site)
{
    long long r;
    int ok = slot_ll(CELL_GET(self, cell, r), &r);
    if (ok <= 0) {
        return ok;
    }
    if (self->python_mode) {
        if (r == e) {
            PyObject *rsite = CELL_GET(self, cell, rsite);
            int same;
            if (rsite == NULL) {
                return -1;
            }
            same = rsite == site;
            Py_DECREF(rsite);
            return same;
        }
        if (r == -1) {
            long flags = site_flags(self, site);
            PyObject *entry;
            int hit = 0;
            long long mine;
            if (flags < 0 || (flags & self->guard_flag)) {
                return 0;
            }
            entry = shared_entry(self, cell, ts);
            if (entry == NULL) {
                return 0;
            }
            if (as_ll(PyTuple_GET_ITEM(entry, 0), &mine) && mine == e) {
                PyObject *info = PyTuple_GET_ITEM(entry, 1);
                hit = PyTuple_CheckExact(info) && PyTuple_GET_SIZE(info) >= 2 && PyTuple_GET_ITEM(info, 1) == site;
            }
            Py_DECREF(entry);
            return hit;
        }
        return 0;
    }
    if (r == e) {
        return 1;
    }
    if (r == -1) {
        PyObject *entry = shared_entry(self, cell, ts);
        long long mine;
        int hit;
        if (entry == NULL) {
            return 0;
        }
        hit = as_ll(PyTuple_GET_ITEM(entry, 0), &mine) && mine == e;
        Py_DECREF(entry);
        return hit;
    }
    return 0;
}

static int
write_hit(Recorder *self, PyObject *cell, long long e)
{
    long long w, m, r;
    int ok = slot_ll(CELL_GET(self, cell, w), &w);
    if (ok <= 0 || w != e) {
        return ok < 0 ? -1 : 0;
    }
    if (!self->python_mode) {
        return 1;
    }
    /* python mode: a write after this epoch's read may complete a read-modify-write */
    ok = slot_ll(CELL_GET(self, cell, m), &m);
    if (ok < 0) {
        return -1;
    }
    if (ok && m == e) {
        return 1;
    }
    ok = slot_ll(CELL_GET(self, cell, r), &r);
    if (ok < 0) {
        return -1;
    }
    return !(ok && r == e);
}

/* ------------------------------------------------------------------ stripes
 * Stripe(): a private reentrant lock for the detector's cell stripes (Detector.stripes),
 * taken by access.py's slow paths (`with stripe:`) and, without a method call, by the C
 * slow path below.  Owner and count as in _thread.RLock; a blocking acquire lets other
 * threads run (the GIL, or the thread state on the free-threaded build).  `owner` is
 * read by other threads (only to see it is not theirs): an atomic; `count` is touched
 * by the owner only. */

typedef struct {
    PyObject_HEAD
    PyThread_type_lock lock;
    unsigned long owner;
    unsigned long count;
} Stripe;

static PyTypeObject *StripeType;

#if defined(_MSC_VER)
#define OWNER_LOAD(s) (*(volatile unsigned long *)&(s)->owner)
#define OWNER_STORE(s, v) (*(volatile unsigned long *)&(s)->owner = (v))
#else
#define OWNER_LOAD(s) __atomic_load_n(&(s)->owner, __ATOMIC_ACQUIRE)
#define OWNER_STORE(s, v) __atomic_store_n(&(s)->owner, (v), __ATOMIC_RELEASE)
#endif

static void
stripe_acquire(Stripe *s)
{
    unsigned long me = PyThread_get_thread_ident();
    if (OWNER_LOAD(s) == me) {
        s->count++;
        return;
    }
    if (!PyThread_acquire_lock(s->lock, NOWAIT_LOCK)) {
        Py_BEGIN_ALLOW_THREADS
        PyThread_acquire_lock(s->lock, WAIT_LOCK);
        Py_END_ALLOW_THREADS
    }
    OWNER_STORE(s, me);
    s->count = 1;
}

/* 0, or -1 with RuntimeError when the calling thread does not hold it. */
static int
stripe_release(Stripe *s)
{
    if (OWNER_LOAD(s) != PyThread_get_thread_ident() || s->count == 0) {
        PyErr_SetString(PyExc_RuntimeError, "cannot release un-acquired lock");
        return -1;
    }
    if (--s->count == 0) {
        OWNER_STORE(s, 0);
        PyThread_release_lock(s->lock);
    }
    return 0;
}

static PyObject *
Stripe_acquire(Stripe *self, PyObject *unused)
{
    stripe_acquire(self);
    Py_RETURN_TRUE;
}

static PyObject *
Stripe_release(Stripe *self, PyObject *unused)
{
    if (stripe_release(self) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Stripe_exit(Stripe *self, PyObject *const *args, Py_ssize_t nargs)
{
    return Stripe_release(self, NULL);
}

static PyObject *
Stripe_is_owned(Stripe *self, PyObject *unused)
{
    return PyBool_FromLong(OWNER_LOAD(self) == PyThread_get_thread_ident() && self->count > 0);
}

static PyObject *
Stripe_repr(Stripe *self)
{
    unsigned long owner = OWNER_LOAD(self);
    return PyUnicode_FromFormat("<racefree stripe %s owner=%lu>", owner ? "locked" : "unlocked", owner);
}

static PyObject *
Stripe_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    Stripe *self;
    if (PyTuple_GET_SIZE(args) != 0 || (kwds != NULL && PyDict_GET_SIZE(kwds) != 0)) {
        PyErr_SetString(PyExc_TypeError, "Stripe() takes no arguments");
        return NULL;
    }
    self = (Stripe *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->lock = PyThread_allocate_lock();
    if (self->lock == NULL) {
        Py_DECREF(self);
        PyErr_SetString(PyExc_MemoryError, "cannot allocate a lock");
        return NULL;
    }
    return (PyObject *)self;
}

static void
Stripe_dealloc(Stripe *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    if (self->lock != NULL) {
        if (self->count > 0) {
            PyThread_release_lock(self->lock);
        }
        PyThread_free_lock(self->lock);
    }
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMethodDef Stripe_methods[] = {
    {"acquire", (PyCFunction)Stripe_acquire, METH_NOARGS, "acquire() -> True: block until held (reentrant)."},
    {"release", (PyCFunction)Stripe_release, METH_NOARGS, "release(): one level of the holder's acquire."},
    {"__enter__", (PyCFunction)Stripe_acquire, METH_NOARGS, "acquire()"},
    {"__exit__", (PyCFunction)(void (*)(void))Stripe_exit, METH_FASTCALL, "release()"},
    {"_is_owned", (PyCFunction)Stripe_is_owned, METH_NOARGS, "Whether the calling thread holds it."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Stripe_slots[] = {
    {Py_tp_doc, "A private reentrant lock of the detector's cell stripes (see _speedups.c)."},
    {Py_tp_new, Stripe_new},
    {Py_tp_dealloc, Stripe_dealloc},
    {Py_tp_methods, Stripe_methods},
    {Py_tp_repr, Stripe_repr},
    {0, NULL},
};

static PyType_Spec Stripe_spec = {
    "racefree.detector._speedups.Stripe",
    sizeof(Stripe),
    0,
    Py_TPFLAGS_DEFAULT,
    Stripe_slots,
};

/* ------------------------------------------------------------------ slow path
 *
 * A miss on a known cell whose outcome is "no race" is also decided here, with the
 * rules of access.py (record_read, python_read_slow, python_write_slow,
 * strict_read_slow, strict_write_slow), under the same stripe lock.  Whenever those
 * rules would report a race, or need a table (read-shared readers, guard reads,
 * iterations), this code changes nothing and returns 0: the Python slow path then
 * does the whole access, so every report is made, and every table kept, in Python.
 */

static int cell_holds(Recorder *self, PyObject *cell, PyObject *container);

#define CELL_SET(self, cell, field, value) set_slot((cell), (self)->cell_type, (self)->m_##field, s_##field, (value))

static int
set_slot(PyObject *obj, PyObject *type, PyMemberDef *member, PyObject *name, PyObject *value)
{
    if ((PyObject *)Py_TYPE(obj) == type) {
        return PyMember_SetOne((char *)obj, member, value);
    }
    return PyObject_SetAttr(obj, name, value);
}

/* The calling thread's view for ordering checks. */
typedef struct {
    PyObject *ts;
    long long tid;
    PyObject *vc;  /* strong; written only by the calling thread itself */
} TSView;

/* access.unordered: 1 unordered, 0 ordered, -1 cannot tell (punt). */
static int
unordered(Recorder *self, long long epoch, TSView *v)
{
    long long t = epoch & self->mask, c;
    Py_ssize_t n;
    PyObject *item;
    int ok;
    if (t == v->tid) {
        return 0;
    }
    n = PyList_GET_SIZE(v->vc);
    if (t >= n) {
        return 1;
    }
    item = PySequence_GetItem(v->vc, (Py_ssize_t)t);
    ok = slot_ll(item, &c);
    if (ok <= 0) {
        PyErr_Clear();
        return -1;
    }
    return (epoch >> self->shift) > c;
}

/* access.info_for (new reference). */
static PyObject *
info_for(Recorder *self, PyObject *ts, PyObject *site, PyObject *old, int shared)
{
    PyObject *stack, *info;
    if (old != NULL && PyTuple_CheckExact(old) && PyTuple_GET_SIZE(old) >= 3 && PyTuple_GET_ITEM(old, 0) == ts
        && PyTuple_GET_ITEM(old, 1) == site && (PyTuple_GET_ITEM(old, 2) != Py_None || !shared)) {
        return Py_NewRef(old);
    }
    stack = shared ? PyObject_CallNoArgs(self->capture) : Py_NewRef(Py_None);
    if (stack == NULL) {
        return NULL;
    }
    info = PyTuple_Pack(3, ts, site, stack);
    Py_DECREF(stack);
    return info;
}

/* bool(slot value) (new reference consumed): 1, 0, or -1 with an exception. */
static int
truthy_slot(PyObject *v)
{
    int t;
    if (v == NULL) {
        return -1;
    }
    t = v == Py_None ? 0 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return t;
}

/* record_read's read-shared case: this thread's (epoch, info) in the cell's table `rs`. */
static int
shared_read(Recorder *self, PyObject *cell, TSView *v, PyObject *e_obj, PyObject *site, int shared)
{
    PyObject *rs = CELL_GET(self, cell, rs), *tid, *entry = NULL, *old = NULL, *info, *pair;
    int rc;
    if (rs == NULL) {
        return -1;
    }
    if (!PyDict_CheckExact(rs)) {
        Py_DECREF(rs);
        return 0;
    }
    tid = PyLong_FromLongLong(v->tid);
    if (tid == NULL || dict_get_ref(rs, tid, &entry) < 0) {
        Py_XDECREF(tid);
        Py_DECREF(rs);
        return -1;
    }
    if (entry != NULL && PyTuple_CheckExact(entry) && PyTuple_GET_SIZE(entry) >= 2) {
        old = PyTuple_GET_ITEM(entry, 1);
    }
    info = info_for(self, v->ts, site, old, shared);
    Py_XDECREF(entry);
    pair = info == NULL ? NULL : PyTuple_Pack(2, e_obj, info);
    Py_XDECREF(info);
    rc = pair == NULL ? -1 : PyDict_SetItem(rs, tid, pair);
    Py_XDECREF(pair);
    Py_DECREF(tid);
    Py_DECREF(rs);
    return rc < 0 ? -1 : 1;
}

/* record_read's switch to a read-shared table: the last read (epoch r, info ri) is unordered with this one. */
static int
become_shared(Recorder *self, PyObject *cell, TSView *v, PyObject *e_obj, PyObject *site, long long r,
              PyObject *ri, int shared)
{
    PyObject *info = info_for(self, v->ts, site, NULL, shared), *rs = NULL, *k1 = NULL, *k2 = NULL;
    PyObject *r_obj = NULL, *p1 = NULL, *p2 = NULL, *minus = NULL;
    int rc = -1;
    if (info == NULL) {
        return -1;
    }
    if ((rs = PyDict_New()) == NULL || (k1 = PyLong_FromLongLong(r & self->mask)) == NULL
        || (k2 = PyLong_FromLongLong(v->tid)) == NULL || (r_obj = PyLong_FromLongLong(r)) == NULL
        || (p1 = PyTuple_Pack(2, r_obj, ri)) == NULL || (p2 = PyTuple_Pack(2, e_obj, info)) == NULL
        || (minus = PyLong_FromLong(-1)) == NULL || PyDict_SetItem(rs, k1, p1) < 0
        || PyDict_SetItem(rs, k2, p2) < 0 || CELL_SET(self, cell, rs, rs) < 0
        || CELL_SET(self, cell, r, minus) < 0) {
        goto done;
    }
    rc = 1;
done:
    Py_XDECREF(minus);
    Py_XDECREF(p2);
    Py_XDECREF(p1);
    Py_XDECREF(r_obj);
    Py_XDECREF(k2);
    Py_XDECREF(k1);
    Py_XDECREF(rs);
    Py_DECREF(info);
    return rc;
}

/* Python's record_read: 1 done, 0 punt, -1 error. */
static int
plain_read(Recorder *self, PyObject *cell, TSView *v, PyObject *e_obj, PyObject *site, long flags, int shared)
{
    long long r = 0;
    PyObject *ri, *info;
    int ok = slot_ll(CELL_GET(self, cell, r), &r), later = 0, rc;
    if (ok < 0) {
        return -1;
    }
    if (!ok) {
        return 0;
    }
    if (r == -1) {
        return shared_read(self, cell, v, e_obj, site, shared);
    }
    ri = CELL_GET(self, cell, ri);
    if (ri == NULL) {
        return -1;
    }
    if (r > 0 && ri != Py_None) {
        later = unordered(self, r, v);
        if (later != 0) {  /* an unordered reader: a read-shared table from now on */
            rc = later < 0 ? 0 : become_shared(self, cell, v, e_obj, site, r, ri, shared);
            Py_DECREF(ri);
            return rc;
        }
    }
    info = info_for(self, v->ts, site, ri == Py_None ? NULL : ri, shared);
    Py_DECREF(ri);
    if (info == NULL) {
        return -1;
    }
    rc = CELL_SET(self, cell, ri, info);
    Py_DECREF(info);
    if (rc < 0 || CELL_SET(self, cell, rsite, (flags & self->guard_flag) ? Py_None : site) < 0
        || CELL_SET(self, cell, r, e_obj) < 0) {
        return -1;
    }
    return 1;
}

/* The epoch in slot `v` (new reference consumed) if it is set and unordered with this thread's present:
 * 1 yes, 0 no, -1 cannot tell. */
static int
unordered_slot(Recorder *self, PyObject *value, PyObject *info, TSView *v)
{
    long long epoch;
    int ok = slot_ll(value, &epoch);
    if (ok < 0) {
        PyErr_Clear();
        return -1;
    }
    if (!ok) {
        return -1;
    }
    if (epoch == 0 || info == Py_None) {
        return 0;
    }
    return unordered(self, epoch, v);
}

/* Whether two site tuples are the same function (access.python_write_slow). */
static int
same_function(Recorder *self, PyObject *a, PyObject *b)
{
    Py_ssize_t need = (self->file_index > self->func_index ? self->file_index : self->func_index) + 1;
    int eq;
    if (a == b) {
        return 1;
    }
    if (!PyTuple_CheckExact(a) || !PyTuple_CheckExact(b) || PyTuple_GET_SIZE(a) < need
        || PyTuple_GET_SIZE(b) < need) {
        return -1;
    }
    eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(a, self->func_index), PyTuple_GET_ITEM(b, self->func_index), Py_EQ);
    if (eq <= 0) {
        return eq;
    }
    eq = PyObject_RichCompareBool(PyTuple_GET_ITEM(a, self->file_index), PyTuple_GET_ITEM(b, self->file_index), Py_EQ);
    if (eq <= 0) {
        return eq;
    }
    /* statements.feeds: a read on a later line feeds the write only within one statement,
     * which Python decides (-1: punt) */
    if (self->line_index < 0 || PyTuple_GET_SIZE(a) <= self->line_index || PyTuple_GET_SIZE(b) <= self->line_index
        || !PyLong_CheckExact(PyTuple_GET_ITEM(a, self->line_index))
        || !PyLong_CheckExact(PyTuple_GET_ITEM(b, self->line_index))) {
        return -1;
    }
    if (self->flow_index >= 0 && PyTuple_GET_SIZE(b) > self->flow_index) {
        /* the stored value's data flow (first, last, lines, open): a read of this function feeds
         * the write when its line is one of `lines`; anything else Python decides */
        PyObject *flow = PyTuple_GET_ITEM(b, self->flow_index), *rline = PyTuple_GET_ITEM(a, self->line_index);
        long long r = PyLong_AsLongLong(rline);
        if (!PyTuple_CheckExact(flow) || PyTuple_GET_SIZE(flow) < 3 || !PyLong_CheckExact(PyTuple_GET_ITEM(flow, 0))
            || !PyLong_CheckExact(PyTuple_GET_ITEM(flow, 1))
            || r < PyLong_AsLongLong(PyTuple_GET_ITEM(flow, 0)) || r > PyLong_AsLongLong(PyTuple_GET_ITEM(flow, 1))) {
            return -1;
        }
        eq = PySequence_Contains(PyTuple_GET_ITEM(flow, 2), rline);
        return eq > 0 ? 1 : -1;
    }
    return PyLong_AsLongLong(PyTuple_GET_ITEM(a, self->line_index))
           <= PyLong_AsLongLong(PyTuple_GET_ITEM(b, self->line_index)) ? 1 : -1;
}

static int
python_write(Recorder *self, PyObject *cell, TSView *v, PyObject *e_obj, long long e, PyObject *site, int shared)
{
    long long ckind, r = 0;
    int rmw = 0, ok, bad, rc;
    PyObject *wi, *info, *mi, *read = NULL;
    if (slot_ll(CELL_GET(self, cell, kind), &ckind) <= 0) {
        return -1;
    }
    if (ckind != self->size_kind) {
        ok = slot_ll(CELL_GET(self, cell, r), &r);
        if (ok <= 0 || r == -1) {
            return ok < 0 ? -1 : 0;
        }
        if (r == e) {
            PyObject *ri = CELL_GET(self, cell, ri);
            if (ri == NULL) {
                return -1;
            }
            if (ri != Py_None) {
                if (!PyTuple_CheckExact(ri) || PyTuple_GET_SIZE(ri) < 2) {
                    Py_DECREF(ri);
                    return 0;
                }
                rmw = same_function(self, PyTuple_GET_ITEM(ri, 1), site);
                if (rmw == 0) {
                    rmw = -1;  /* read in another function: Python decides whether it fed this write */
                }
            }
            if (rmw > 0) {
                read = ri;  /* kept with the read-modify-write's info (cell.mi) */
            }
            else {
                Py_DECREF(ri);
            }
            if (rmw < 0) {
                PyErr_Clear();
                return 0;
            }
        }
    }
    wi = CELL_GET(self, cell, wi);
    if (wi == NULL) {
        Py_XDECREF(read);
        return -1;
    }
    /* a lost update: this read-modify-write against the last write, or any write against
     * the last read-modify-write (blind writes racing each other are strict-only) */
    bad = rmw ? unordered_slot(self, CELL_GET(self, cell, w), wi, v) : 0;
    if (bad == 0) {
        mi = CELL_GET(self, cell, mi);
        if (mi == NULL) {
            Py_DECREF(wi);
            Py_XDECREF(read);
            return -1;
        }
        bad = unordered_slot(self, CELL_GET(self, cell, m), mi, v);
        Py_DECREF(mi);
    }
    if (bad != 0) {
        Py_DECREF(wi);
        Py_XDECREF(read);
        return 0;
    }
    /* guard reads or iterations of other threads to check: Python */
    ok = truthy_slot(CELL_GET(self, cell, g));
    if (ok == 0) {
        ok = truthy_slot(CELL_GET(self, cell, it));
    }
    if (ok != 0) {
        Py_DECREF(wi);
        Py_XDECREF(read);
        return ok < 0 ? -1 : 0;
    }
    info = info_for(self, v->ts, site, wi == Py_None ? NULL : wi, shared);
    Py_DECREF(wi);
    if (info == NULL) {
        Py_XDECREF(read);
        return -1;
    }
    mi = NULL;
    if (rmw) {  /* (ts, site, stack, read): access.python_write_slow's cell.mi */
        mi = PyTuple_GET_SIZE(info) >= 3 ? PyTuple_Pack(4, PyTuple_GET_ITEM(info, 0), PyTuple_GET_ITEM(info, 1),
                                                        PyTuple_GET_ITEM(info, 2), read) : NULL;
        if (mi == NULL) {
            Py_DECREF(info);
            Py_XDECREF(read);
            return -1;
        }
    }
    Py_XDECREF(read);
    rc = CELL_SET(self, cell, w, e_obj) < 0 || CELL_SET(self, cell, wi, info) < 0
         || (rmw && (CELL_SET(self, cell, m, e_obj) < 0 || CELL_SET(self, cell, mi, mi) < 0));
    Py_DECREF(info);
    Py_XDECREF(mi);
    return rc ? -1 : 1;
}

static int
strict_read(Recorder *self, PyObject *cell, TSView *v, PyObject *e_obj, PyObject *site, long flags, int shared)
{
    PyObject *wi = CELL_GET(self, cell, wi);
    int bad;
    if (wi == NULL) {
        return -1;
    }
    bad = unordered_slot(self, CELL_GET(self, cell, w), wi, v);
    Py_DECREF(wi);
    if (bad != 0) {
        return 0;
    }
    return plain_read(self, cell, v, e_obj, site, flags, shared);
}

static int
strict_write(Recorder *self, PyObject *cell, TSView *v, PyObject *e_obj, PyObject *site, int shared)
{
    PyObject *wi, *ri, *info, *zero;
    long long r = 0;
    int bad, ok, rc;
    wi = CELL_GET(self, cell, wi);
    if (wi == NULL) {
        return -1;
    }
    bad = unordered_slot(self, CELL_GET(self, cell, w), wi, v);
    if (bad != 0) {
        Py_DECREF(wi);
        return 0;
    }
    ok = slot_ll(CELL_GET(self, cell, r), &r);
    if (ok <= 0 || r == -1) {
        Py_DECREF(wi);
        return ok < 0 ? -1 : 0;
    }
    ri = CELL_GET(self, cell, ri);
    if (ri == NULL) {
        Py_DECREF(wi);
        return -1;
    }
    bad = (r != 0 && ri != Py_None) ? unordered(self, r, v) : 0;
    Py_DECREF(ri);
    if (bad != 0) {
        Py_DECREF(wi);
        return 0;
    }
    info = info_for(self, v->ts, site, wi == Py_None ? NULL : wi, shared);
    Py_DECREF(wi);
    if (info == NULL) {
        return -1;
    }
    zero = PyLong_FromLong(0);
    rc = zero == NULL || CELL_SET(self, cell, w, e_obj) < 0 || CELL_SET(self, cell, wi, info) < 0
         || CELL_SET(self, cell, r, zero) < 0 || CELL_SET(self, cell, rs, Py_None) < 0;
    Py_XDECREF(zero);
    Py_DECREF(info);
    return rc ? -1 : 1;
}

/* access.published, under the cell's stripe: the key set's last write before another thread
 * first reached it is kept aside (`pub`, for check-then-act) and `w` starts over. */
static int
publish_cell(Recorder *self, PyObject *cell)
{
    PyObject *w = CELL_GET(self, cell, w), *wi, *zero;
    long long we = 0;
    int rc = 0;
    if (w == NULL) {
        return -1;
    }
    wi = CELL_GET(self, cell, wi);
    if (wi == NULL) {
        Py_DECREF(w);
        return -1;
    }
    if (as_ll(w, &we) && we != 0 && wi != Py_None) {
        PyObject *pub = PyTuple_Pack(2, w, wi);
        rc = pub == NULL || PyObject_SetAttrString(cell, "pub", pub) < 0 ? -1 : 0;
        Py_XDECREF(pub);
    }
    Py_DECREF(w);
    Py_DECREF(wi);
    zero = PyLong_FromLong(0);
    if (rc < 0 || zero == NULL || CELL_SET(self, cell, w, zero) < 0 || CELL_SET(self, cell, wi, Py_None) < 0
        || CELL_SET(self, cell, shared, Py_True) < 0) {
        rc = -1;
    }
    Py_XDECREF(zero);
    return rc;
}

/* The miss of a known cell: 1 recorded here (no race), 0 the Python slow path must do it. */
static int
slow_path(Recorder *self, int is_write, PyObject *cell, PyObject *ts, PyObject *e_obj, long long e,
          PyObject *container, PyObject *site)
{
    TSView v;
    PyObject *stripe, *res;
    long long owner;
    long flags = site_flags(self, site);
    int shared, off, done, publish = 0;
    Py_ssize_t n;

    if (flags < 0 || (!is_write && (flags & self->iteration_flag))) {
        return 0;
    }
    if (!is_write && self->python_mode && (flags & self->guard_flag)) {
        return 0;  /* guard reads keep a table */
    }
    if (!cell_holds(self, cell, container)) {
        return 0;  /* a reused id, or a module attribute's twin: Python's locate */
    }
    off = truthy_slot(CELL_GET(self, cell, off));
    if (off != 0) {
        PyErr_Clear();
        return off > 0;  /* an untracked location: nothing to record */
    }
    v.ts = ts;
    if (slot_ll(TS_GET(self, ts, tid), &v.tid) <= 0) {
        PyErr_Clear();
        return 0;
    }
    shared = truthy_slot(CELL_GET(self, cell, shared));
    if (shared < 0) {
        PyErr_Clear();
        return 0;
    }
    if (!shared) {
        if (slot_ll(CELL_GET(self, cell, owner), &owner) <= 0) {
            PyErr_Clear();
            return 0;
        }
        if (owner != v.tid) {
            long long ckind = 0;
            if (self->python_mode && slot_ll(CELL_GET(self, cell, kind), &ckind) <= 0) {
                PyErr_Clear();
                return 0;
            }
            /* a key set first reached by another thread: published under the stripe (below) */
            publish = self->python_mode && ckind == self->size_kind;
        }
        if (owner != v.tid && !publish) {
            if (CELL_SET(self, cell, shared, Py_True) < 0) {
                PyErr_Clear();
                return 0;
            }
            shared = 1;
        }
    }
    v.vc = TS_GET(self, ts, vc);
    if (v.vc == NULL || !PyList_CheckExact(v.vc)) {
        Py_XDECREF(v.vc);
        PyErr_Clear();
        return 0;
    }
    n = PyList_GET_SIZE(self->stripes);
    if (n <= 0) {
        Py_DECREF(v.vc);
        return 0;
    }
    stripe = PySequence_GetItem(self->stripes, (Py_ssize_t)((((size_t)cell) >> 4) % (size_t)n));
    if (stripe == NULL) {
        Py_DECREF(v.vc);
        PyErr_Clear();
        return 0;
    }
    if (Py_TYPE(stripe) == StripeType) {
        stripe_acquire((Stripe *)stripe);
    }
    else if ((res = PyObject_CallMethodNoArgs(stripe, s_acquire)) == NULL) {
        Py_DECREF(stripe);
        Py_DECREF(v.vc);
        PyErr_Clear();
        return 0;
    }
    else {
        Py_DECREF(res);
    }
    if (!shared) {  /* another thread may have marked it while we waited for the stripe */
        shared = truthy_slot(CELL_GET(self, cell, shared));
    }
    if (shared == 0 && publish) {
        shared = publish_cell(self, cell) < 0 ? -1 : 1;
    }
    if (shared < 0) {
        done = -1;
    }
    else if (self->python_mode) {
        done = is_write ? python_write(self, cell, &v, e_obj, e, site, shared)
                        : plain_read(self, cell, &v, e_obj, site, flags, shared);
    }
    else {
        done = is_write ? strict_write(self, cell, &v, e_obj, site, shared)
                        : strict_read(self, cell, &v, e_obj, site, flags, shared);
    }
    if (done < 0) {
        PyErr_Clear();
        done = 0;
    }
    if (Py_TYPE(stripe) == StripeType) {
        if (stripe_release((Stripe *)stripe) < 0) {
            PyErr_Clear();
        }
    }
    else {
        res = PyObject_CallMethodNoArgs(stripe, s_release);
        if (res == NULL) {
            PyErr_Clear();
        }
        Py_XDECREF(res);
    }
    Py_DECREF(stripe);
    Py_DECREF(v.vc);
    return done;
}

/* ------------------------------------------------------------------ lookaside
 *
 * Each thread keeps, on its ThreadState (slot `fast`), a small direct-mapped table
 * of the cells it used last: (container address, key, kind) -> cell.  A repeated
 * access at the same epoch then costs no key tuple, no hash and no shadow lookup.
 * Only the owning thread reads or writes its table, so it needs no lock on any
 * build.  An entry is trusted only while its cell still describes the container
 * (a weakly held container that died, and whose address was reused, fails that
 * check); a cell the shadow evicted for its history limit may still answer a
 * same-epoch repeat from its table, which can hide a race (as eviction itself
 * can), never invent one.  Any miss goes through the shadow and refreshes the entry.
 */

#define LA_SIZE 64

typedef struct {
    PyObject *container;  /* compared by address only; kept alive by the cell when held strongly */
    PyObject *key;        /* strong */
    PyObject *cell;       /* strong */
    long kind;
} LAEntry;

typedef struct {
    PyObject_HEAD
    LAEntry e[LA_SIZE];
} Lookaside;

static PyTypeObject *LookasideType;

static int
Lookaside_traverse(Lookaside *self, visitproc visit, void *arg)
{
    int i;
    Py_VISIT(Py_TYPE(self));
    for (i = 0; i < LA_SIZE; i++) {
        Py_VISIT(self->e[i].key);
        Py_VISIT(self->e[i].cell);
    }
    return 0;
}

static int
Lookaside_clear(Lookaside *self)
{
    int i;
    for (i = 0; i < LA_SIZE; i++) {
        Py_CLEAR(self->e[i].key);
        Py_CLEAR(self->e[i].cell);
        self->e[i].container = NULL;
    }
    return 0;
}

static void
Lookaside_dealloc(Lookaside *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Lookaside_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyType_Slot Lookaside_slots[] = {
    {Py_tp_doc, "One thread's table of recently used shadow cells (see _speedups.c)."},
    {Py_tp_dealloc, Lookaside_dealloc},
    {Py_tp_traverse, Lookaside_traverse},
    {Py_tp_clear, Lookaside_clear},
    {0, NULL},
};

static PyType_Spec Lookaside_spec = {
    "racefree.detector._speedups.Lookaside",
    sizeof(Lookaside),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    Lookaside_slots,
};

/* The calling thread's table (new reference), created on first use; NULL, no error, if none can be had. */
static Lookaside *
lookaside_of(Recorder *self, PyObject *ts)
{
    PyObject *la = TS_GET(self, ts, fast);
    if (la == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (Py_TYPE(la) == LookasideType) {
        return (Lookaside *)la;
    }
    Py_DECREF(la);
    la = PyType_GenericAlloc(LookasideType, 0);
    if (la == NULL || PyObject_SetAttr(ts, s_fast, la) < 0) {
        PyErr_Clear();
        Py_XDECREF(la);
        return NULL;
    }
    return (Lookaside *)la;
}

static LAEntry *
la_entry(Lookaside *la, PyObject *container, PyObject *key, long kind)
{
    size_t h = ((size_t)container >> 4) ^ (((size_t)key >> 4) * 31u) ^ (size_t)kind;
    return &la->e[(h ^ (h >> 6)) & (LA_SIZE - 1)];
}

/* Whether `a` and `b` name the same key: the same object, or equal str / int. */
static int
same_key(PyObject *a, PyObject *b)
{
    if (a == b) {
        return 1;
    }
    if (PyUnicode_CheckExact(a) && PyUnicode_CheckExact(b)) {
        return PyUnicode_Compare(a, b) == 0;
    }
    if (PyLong_CheckExact(a) && PyLong_CheckExact(b)) {
        int eq = PyObject_RichCompareBool(a, b, Py_EQ);
        if (eq < 0) {
            PyErr_Clear();
            return 0;
        }
        return eq;
    }
    return 0;
}

/* Whether `cell` still describes `container` (1), not (0); never raises.  A cell holds
 * its container directly, through a weak reference, or through a holder object whose
 * `obj` is the container or None once released (shadow.py's _Hold); anything else is
 * a "no" and sends the access through the shadow. */
static int
cell_holds(Recorder *self, PyObject *cell, PyObject *container)
{
    PyObject *held = CELL_GET(self, cell, container);
    int same;
    if (held == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (held == container) {
        same = 1;
    }
    else if (PyWeakref_Check(held)) {
#if PY_VERSION_HEX >= 0x030D0000
        PyObject *target = NULL;
        if (PyWeakref_GetRef(held, &target) < 0) {
            PyErr_Clear();
        }
        same = target == container;
        Py_XDECREF(target);
#else
        same = PyWeakref_GET_OBJECT(held) == container;
#endif
    }
    else {
        PyObject *obj = get_slot(held, self->hold_type, self->m_obj, s_obj);
        if (obj == NULL) {
            PyErr_Clear();
        }
        same = obj == container;
        Py_XDECREF(obj);
    }
    Py_DECREF(held);
    return same;
}

static void
la_store(LAEntry *ent, PyObject *container, PyObject *key, long kind, PyObject *cell)
{
    PyObject *old_key = ent->key, *old_cell = ent->cell;
    ent->key = Py_NewRef(key);
    ent->cell = Py_NewRef(cell);
    ent->container = container;
    ent->kind = kind;
    Py_XDECREF(old_key);
    Py_XDECREF(old_cell);
}

/* ------------------------------------------------------------------ record */

/* After a hit: a write in stress mode yields here, as the Python recorder does. */
static int
after_hit(Recorder *self, int is_write, PyObject *ts)
{
    PyObject *res;
    if (!is_write || self->perturb == Py_None) {
        return 0;
    }
    res = PyObject_CallOneArg(self->perturb, ts);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

static int
epoch_hit(Recorder *self, int is_write, PyObject *cell, PyObject *ts, long long e, PyObject *site)
{
    return is_write ? write_hit(self, cell, e) : read_hit(self, cell, ts, e, site);
}

static int safe_key(PyObject *key);

/* None, a value (safe_key) or a tuple of values: a key the lookaside table may hold. */
static int
value_key(PyObject *key)
{
    Py_ssize_t i;
    if (key == Py_None || safe_key(key)) {
        return 1;
    }
    if (!PyTuple_CheckExact(key)) {
        return 0;
    }
    for (i = 0; i < PyTuple_GET_SIZE(key); i++) {
        if (!safe_key(PyTuple_GET_ITEM(key, i))) {
            return 0;
        }
    }
    return 1;
}

/* Whether `cell` was evicted from the shadow for the history limit (its seq is
 * shadow.EVICTED); a cell that left for any other reason fails cell_holds instead. */
static int
evicted(Recorder *self, PyObject *cell)
{
    long long seq = 0;
    int ok = slot_ll(CELL_GET(self, cell, seq), &seq);
    if (ok < 0) {
        PyErr_Clear();
    }
    return ok <= 0 || seq == -1;
}

/* Record one access: 0 on success, -1 with an exception. */
static int
record_access(Recorder *self, int is_write, PyObject *kind, PyObject *container, PyObject *key, PyObject *site)
{
    PyObject *ts, *k, *cell = NULL, *e_obj, *res, *tried = NULL;
    Lookaside *la;
    LAEntry *ent = NULL;
    long long e = 0;
    long kind_v;
    int found, hit = 0, have_e;

    kind_v = PyLong_AsLong(kind);
    if (kind_v == -1 && PyErr_Occurred()) {
        return -1;
    }
    ts = thread_state(self);
    if (ts == NULL) {
        return -1;
    }
    e_obj = TS_GET(self, ts, epoch);
    if (e_obj == NULL) {
        Py_DECREF(ts);
        return -1;
    }
    have_e = as_ll(e_obj, &e);
    /* only value keys enter the table: it holds its keys, and must not keep a program object alive */
    la = value_key(key) ? lookaside_of(self, ts) : NULL;
    if (la != NULL) {
        ent = la_entry(la, container, key, kind_v);
        if (have_e && ent->cell != NULL && ent->container == container && ent->kind == kind_v
            && same_key(ent->key, key) && cell_holds(self, ent->cell, container)) {
            tried = Py_NewRef(ent->cell);
            hit = epoch_hit(self, is_write, tried, ts, e, site);
            if (hit != 0) {
                Py_DECREF(tried);
                Py_DECREF(la);
                Py_DECREF(e_obj);
                if (hit < 0 || after_hit(self, is_write, ts) < 0) {
                    Py_DECREF(ts);
                    return -1;
                }
                Py_DECREF(ts);
                return 0;
            }
        }
    }
    if (tried != NULL && !evicted(self, tried)) {
        /* a new epoch on a cell of the table: it is the shadow's cell, no lookup needed */
        cell = Py_NewRef(tried);
        found = 1;
    }
    else if ((k = location_key(container, key, kind_v == self->size_kind)) == NULL) {
        found = -1;
    }
    else {
        found = dict_get_ref(self->cells, k, &cell);
        Py_DECREF(k);
    }
    if (found < 0) {
        Py_XDECREF(tried);
        Py_XDECREF(la);
        Py_DECREF(e_obj);
        Py_DECREF(ts);
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {  /* an unhashable key: not a location */
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    if (cell != NULL) {
        if (ent != NULL && ent->cell != cell) {
            la_store(ent, container, key, kind_v, cell);
        }
        if (have_e && cell != tried) {
            hit = epoch_hit(self, is_write, cell, ts, e, site);
        }
    }
    Py_XDECREF(tried);
    Py_XDECREF(la);
    if (hit < 0) {
        Py_XDECREF(cell);
        Py_DECREF(e_obj);
        Py_DECREF(ts);
        return -1;
    }
    if (!hit && cell != NULL && have_e && self->stripes != Py_None) {
        hit = slow_path(self, is_write, cell, ts, e_obj, e, container, site);
    }
    if (hit) {
        Py_DECREF(cell);
        Py_DECREF(e_obj);
        hit = after_hit(self, is_write, ts);
        Py_DECREF(ts);
        return hit;
    }
    {
        PyObject *args[7] = {cell != NULL ? cell : Py_None, ts, e_obj, kind, container, key, site};
        res = PyObject_Vectorcall(is_write ? self->write_miss : self->read_miss, args, 7, NULL);
    }
    Py_XDECREF(cell);
    Py_DECREF(e_obj);
    Py_DECREF(ts);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

/* record_access, but a detector failure never reaches the program (as in access.py): an
 * Exception is counted through Detector.internal_error; KeyboardInterrupt and friends pass. */
static int
record(Recorder *self, int is_write, PyObject *kind, PyObject *container, PyObject *key, PyObject *site)
{
    PyObject *res;
    if (record_access(self, is_write, kind, container, key, site) == 0) {
        return 0;
    }
    if (!PyErr_ExceptionMatches(PyExc_Exception) || self->internal_error == Py_None) {
        return -1;
    }
    PyErr_Clear();
    res = PyObject_CallNoArgs(self->internal_error);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    return 0;
}

/* record() with the location kind given as a C long (the container entry points). */
static int
record_kind(Recorder *self, int is_write, long kind, PyObject *container, PyObject *key, PyObject *site)
{
    PyObject *k = PyLong_FromLong(kind);
    int rc;
    if (k == NULL) {
        return -1;
    }
    rc = record(self, is_write, k, container, key, site);
    Py_DECREF(k);
    return rc;
}

static PyObject *
Recorder_access(Recorder *self, PyObject *const *args, Py_ssize_t nargs, int is_write)
{
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "%s() takes 4 arguments (%zd given)", is_write ? "write" : "read", nargs);
        return NULL;
    }
    if (record(self, is_write, args[0], args[1], args[2], args[3]) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Recorder_read(Recorder *self, PyObject *const *args, Py_ssize_t nargs)
{
    return Recorder_access(self, args, nargs, 0);
}

static PyObject *
Recorder_write(Recorder *self, PyObject *const *args, Py_ssize_t nargs)
{
    return Recorder_access(self, args, nargs, 1);
}

/* Whether hashing and comparing `key` runs no program code (containers._SAFE_KEYS). */
static int
safe_key(PyObject *key)
{
    return PyUnicode_CheckExact(key) || PyLong_CheckExact(key) || PyBool_Check(key) || PyFloat_CheckExact(key)
           || PyBytes_CheckExact(key) || key == Py_None || PyComplex_CheckExact(key);
}

/* Immutable containers are never recorded (shadow.IMMUTABLE, the exact types). */
static int
immutable(PyObject *o)
{
    return PyTuple_CheckExact(o) || PyUnicode_CheckExact(o) || PyBytes_CheckExact(o) || PyFrozenSet_CheckExact(o)
           || PyRange_Check(o);
}

static PyObject *
forward(PyObject *fn, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return PyObject_Vectorcall(fn, args, nargs, kwnames);
}

/* getitem(container, key, site): before ``container[key]`` is loaded. */
static PyObject *
Recorder_getitem(Recorder *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 3) {
        PyObject *container = args[0];
        if (PyDict_CheckExact(container) && safe_key(args[1])) {
            if (record_kind(self, 0, self->item_kind, container, args[1], args[2]) < 0) {
                return NULL;
            }
            Py_RETURN_NONE;
        }
        if (immutable(container)) {
            Py_RETURN_NONE;
        }
    }
    return forward(self->py_getitem, args, nargs, NULL);
}

/* setitem(container, key, site): before ``container[key] = value``. */
static PyObject *
Recorder_setitem(Recorder *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 3 && PyDict_CheckExact(args[0]) && safe_key(args[1])) {
        PyObject *container = args[0], *key = args[1], *site = args[2];
        int present;
        if (record_kind(self, 1, self->item_kind, container, key, site) < 0) {
            return NULL;
        }
        present = PyDict_Contains(container, key);
        if (present < 0) {
            PyErr_Clear();
            present = 0;
        }
        /* an insertion writes the key set too */
        if (!present && record_kind(self, 1, self->size_kind, container, Py_None, site) < 0) {
            return NULL;
        }
        Py_RETURN_NONE;
    }
    return forward(self->py_setitem, args, nargs, NULL);
}

/* Whether containers._tracked(tp) is False (1), True (0), or -1 with an exception; the
 * answer for a type never changes (containers caches it too), so a no is kept. */
static int
untracked_type(Recorder *self, PyObject *tp)
{
    PyObject *v = NULL, *r;
    int found = dict_get_ref(self->untracked, tp, &v), truth;
    if (found != 0) {
        Py_XDECREF(v);
        return found;
    }
    r = PyObject_CallOneArg(self->tracked, tp);
    if (r == NULL) {
        return -1;
    }
    truth = PyObject_IsTrue(r);
    Py_DECREF(r);
    if (truth == 0 && PyDict_SetItem(self->untracked, tp, Py_True) < 0) {
        return -1;
    }
    return truth < 0 ? -1 : !truth;
}

/* call(func, site, *args, **kwargs): dict.get and list.append inline, a bound method of a
 * type that is no container passed straight through, the rest in Python. */
static PyObject *
Recorder_call(Recorder *self, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs >= 2 && PyCFunction_Check(args[0])) {
        PyObject *func = args[0], *site = args[1];
        PyObject *owner = PyCFunction_GET_SELF(func);
        const char *name = ((PyCFunctionObject *)func)->m_ml->ml_name;
        int handled = 0, rc = 0;
        if (owner != NULL && PyDict_CheckExact(owner) && nargs >= 3 && strcmp(name, "get") == 0
            && safe_key(args[2])) {
            rc = record_kind(self, 0, self->item_kind, owner, args[2], site);
            handled = 1;
        }
        else if (owner != NULL && PyList_CheckExact(owner) && strcmp(name, "append") == 0) {
            rc = record_kind(self, 1, self->size_kind, owner, Py_None, site);
            handled = 1;
        }
        if (handled) {
            if (rc < 0) {
                return NULL;
            }
            return PyObject_Vectorcall(func, args + 2, nargs - 2, kwnames);
        }
    }
    else if (nargs >= 2 && PyMethod_Check(args[0]) && self->tracked != Py_None) {
        /* a bound Python method: containers.call records something only for a tracked
         * container's method; for any other type it is the plain call */
        int untracked = untracked_type(self, (PyObject *)Py_TYPE(PyMethod_GET_SELF(args[0])));
        if (untracked < 0) {
            return NULL;
        }
        if (untracked) {
            return PyObject_Vectorcall(args[0], args + 2, nargs - 2, kwnames);
        }
    }
    return forward(self->py_call, args, nargs, kwnames);
}

static int
Recorder_traverse(Recorder *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->cells);
    Py_VISIT(self->tls);
    Py_VISIT(self->thread_state);
    Py_VISIT(self->read_miss);
    Py_VISIT(self->write_miss);
    Py_VISIT(self->py_getitem);
    Py_VISIT(self->py_setitem);
    Py_VISIT(self->py_call);
    Py_VISIT(self->perturb);
    Py_VISIT(self->cell_type);
    Py_VISIT(self->ts_type);
    Py_VISIT(self->hold_type);
    Py_VISIT(self->stripes);
    Py_VISIT(self->capture);
    Py_VISIT(self->internal_error);
    Py_VISIT(self->descrs);
    Py_VISIT(self->tracked);
    Py_VISIT(self->untracked);
    return 0;
}

static int
Recorder_clear(Recorder *self)
{
    Py_CLEAR(self->cells);
    Py_CLEAR(self->tls);
    Py_CLEAR(self->thread_state);
    Py_CLEAR(self->read_miss);
    Py_CLEAR(self->write_miss);
    Py_CLEAR(self->py_getitem);
    Py_CLEAR(self->py_setitem);
    Py_CLEAR(self->py_call);
    Py_CLEAR(self->perturb);
    Py_CLEAR(self->cell_type);
    Py_CLEAR(self->ts_type);
    Py_CLEAR(self->hold_type);
    Py_CLEAR(self->stripes);
    Py_CLEAR(self->capture);
    Py_CLEAR(self->internal_error);
    Py_CLEAR(self->descrs);
    Py_CLEAR(self->tracked);
    Py_CLEAR(self->untracked);
    return 0;
}

static void
Recorder_dealloc(Recorder *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Recorder_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

/* The PyMemberDef of slot `name` of `type` (borrowed from a descriptor kept in `keep`). */
static PyMemberDef *
member_of(PyObject *type, const char *name, PyObject *keep)
{
    PyObject *descr = PyObject_GetAttrString(type, name);
    int rc;
    if (descr == NULL) {
        return NULL;
    }
    if (!PyObject_TypeCheck(descr, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "%R.%s is not a __slots__ member", type, name);
        Py_DECREF(descr);
        return NULL;
    }
    rc = PyList_Append(keep, descr);
    Py_DECREF(descr);
    return rc < 0 ? NULL : ((PyMemberDescrObject *)descr)->d_member;
}

static PyObject *
Recorder_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"cells", "tls", "thread_state", "read_miss", "write_miss", "getitem", "setitem",
                             "call", "perturb", "python_mode", "item_kind", "size_kind", "guard_flag",
                             "flags_index", "cell_type", "ts_type", "hold_type", "stripes", "capture", "shift",
                             "iteration_flag", "file_index", "func_index", "internal_error", "line_index",
                             "flow_index", "tracked", NULL};
    PyObject *cells, *tls, *ts_fn, *rmiss, *wmiss, *gi, *si, *call, *perturb, *cell_type, *ts_type;
    PyObject *hold_type = Py_None, *stripes = Py_None, *capture = Py_None;
    long shift = 24, iteration_flag = 0, file_index = 0, func_index = 0, line_index = -1, flow_index = -1;
    PyObject *internal_error = Py_None, *tracked = Py_None;
    int python_mode;
    long item_kind, size_kind, guard_flag, flags_index;
    Recorder *self;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!OOOOOOOOpllllO!O!|OOOllllOllO:Recorder", kwlist, &PyDict_Type, &cells,
                                     &tls, &ts_fn, &rmiss, &wmiss, &gi, &si, &call, &perturb, &python_mode,
                                     &item_kind, &size_kind, &guard_flag, &flags_index, &PyType_Type,
                                     &cell_type, &PyType_Type, &ts_type, &hold_type, &stripes, &capture, &shift,
                                     &iteration_flag, &file_index, &func_index, &internal_error, &line_index,
                                     &flow_index, &tracked)) {
        return NULL;
    }
    if (stripes != Py_None && (!PyList_CheckExact(stripes) || !PyCallable_Check(capture))) {
        PyErr_SetString(PyExc_TypeError, "stripes must be a list and capture callable");
        return NULL;
    }
    self = (Recorder *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
#if defined(_MSC_VER)
    self->serial = (unsigned long long)InterlockedIncrement64((volatile LONG64 *)&next_serial);
#else
    self->serial = __atomic_add_fetch(&next_serial, 1, __ATOMIC_RELAXED);
#endif
    self->cells = Py_NewRef(cells);
    self->tls = Py_NewRef(tls);
    self->thread_state = Py_NewRef(ts_fn);
    self->read_miss = Py_NewRef(rmiss);
    self->write_miss = Py_NewRef(wmiss);
    self->py_getitem = Py_NewRef(gi);
    self->py_setitem = Py_NewRef(si);
    self->py_call = Py_NewRef(call);
    self->perturb = Py_NewRef(perturb);
    self->python_mode = python_mode;
    self->item_kind = item_kind;
    self->size_kind = size_kind;
    self->guard_flag = guard_flag;
    self->flags_index = flags_index;
    self->cell_type = Py_NewRef(cell_type);
    self->ts_type = Py_NewRef(ts_type);
    self->hold_type = Py_NewRef(hold_type);
    self->stripes = Py_NewRef(stripes);
    self->capture = Py_NewRef(capture);
    self->shift = shift;
    self->mask = (1LL << shift) - 1;
    self->iteration_flag = iteration_flag;
    self->file_index = file_index;
    self->func_index = func_index;
    self->line_index = line_index;
    self->flow_index = flow_index;
    self->internal_error = Py_NewRef(internal_error);
    self->tracked = Py_NewRef(tracked);
    self->untracked = PyDict_New();
    self->descrs = PyList_New(0);
    if (self->descrs == NULL || self->untracked == NULL
        || (self->m_r = member_of(cell_type, "r", self->descrs)) == NULL
        || (self->m_w = member_of(cell_type, "w", self->descrs)) == NULL
        || (self->m_m = member_of(cell_type, "m", self->descrs)) == NULL
        || (self->m_rs = member_of(cell_type, "rs", self->descrs)) == NULL
        || (self->m_rsite = member_of(cell_type, "rsite", self->descrs)) == NULL
        || (self->m_container = member_of(cell_type, "container", self->descrs)) == NULL
        || (self->m_fast = member_of(ts_type, "fast", self->descrs)) == NULL
        || (PyType_Check(hold_type) && (self->m_obj = member_of(hold_type, "obj", self->descrs)) == NULL)
        || (self->m_ri = member_of(cell_type, "ri", self->descrs)) == NULL
        || (self->m_wi = member_of(cell_type, "wi", self->descrs)) == NULL
        || (self->m_mi = member_of(cell_type, "mi", self->descrs)) == NULL
        || (self->m_g = member_of(cell_type, "g", self->descrs)) == NULL
        || (self->m_it = member_of(cell_type, "it", self->descrs)) == NULL
        || (self->m_off = member_of(cell_type, "off", self->descrs)) == NULL
        || (self->m_shared = member_of(cell_type, "shared", self->descrs)) == NULL
        || (self->m_owner = member_of(cell_type, "owner", self->descrs)) == NULL
        || (self->m_kind = member_of(cell_type, "kind", self->descrs)) == NULL
        || (self->m_seq = member_of(cell_type, "seq", self->descrs)) == NULL
        || (self->m_vc = member_of(ts_type, "vc", self->descrs)) == NULL
        || (self->m_epoch = member_of(ts_type, "epoch", self->descrs)) == NULL
        || (self->m_tid = member_of(ts_type, "tid", self->descrs)) == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyMethodDef Recorder_methods[] = {
    {"read", (PyCFunction)(void (*)(void))Recorder_read, METH_FASTCALL,
     "read(kind, container, key, site): before a load of the location."},
    {"write", (PyCFunction)(void (*)(void))Recorder_write, METH_FASTCALL,
     "write(kind, container, key, site): before a store or delete of the location."},
    {"getitem", (PyCFunction)(void (*)(void))Recorder_getitem, METH_FASTCALL,
     "getitem(container, key, site): before container[key] is loaded."},
    {"setitem", (PyCFunction)(void (*)(void))Recorder_setitem, METH_FASTCALL,
     "setitem(container, key, site): before container[key] = value."},
    {"forget_thread", (PyCFunction)Recorder_forget_thread, METH_NOARGS,
     "forget_thread(): the calling thread's ThreadState is about to change."},
    {"call", (PyCFunction)(void (*)(void))Recorder_call, METH_FASTCALL | METH_KEYWORDS,
     "call(func, site, *args, **kwargs): func(*args, **kwargs), recording what it accesses."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Recorder_slots[] = {
    {Py_tp_doc, "The same-epoch fast paths of one detector's recorders (see access.py)."},
    {Py_tp_new, Recorder_new},
    {Py_tp_dealloc, Recorder_dealloc},
    {Py_tp_traverse, Recorder_traverse},
    {Py_tp_clear, Recorder_clear},
    {Py_tp_methods, Recorder_methods},
    {0, NULL},
};

static PyType_Spec Recorder_spec = {
    "racefree.detector._speedups.Recorder",
    sizeof(Recorder),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    Recorder_slots,
};

/* ------------------------------------------------------------------ lock hooks
 * LockHooks(recorder, gen, clock_type): Detector.lock_acquired / lock_released of
 * engine.py in C, for the tracked Lock and RLock of hb_threading (the Python methods
 * stay the reference; tests/detector/engine/test_lock_hooks.py holds both to the
 * same clocks).  A tracked lock's `_clock` is touched only by the thread that holds
 * the lock, a ThreadState only by its own thread: no lock is needed here. */

typedef struct {
    PyObject_HEAD
    Recorder *rec;           /* for thread_state() and the ThreadState slots */
    PyObject *gen;           /* the detector's generation (an int) */
    PyObject *clock_type;    /* clocks.SyncClock */
    PyObject *descrs;
    PyMemberDef *m_clock;    /* ThreadState.clock */
    PyMemberDef *m_gen, *m_cvc, *m_last;  /* SyncClock.gen, .vc, .last */
    PyObject *py_acquire_release;  /* Detector.acquire_release (Python), for keys without their own clock */
} LockHooks;

static PyTypeObject *LockHooksType;
static PyObject *s__clock, *s_clock, *s__hb_clock, *s__racefree_own_clock;
static PyMemberDef *m_tr_clock;
static PyObject *tracked_slot(PyObject *lock, PyMemberDef *member, PyObject *name);

/* ts.clock += 1; ts.vc[ts.tid] = ts.clock; ts.epoch = clock << SHIFT | tid (ThreadState.tick). */
static int
lock_tick(LockHooks *self, PyObject *ts, PyObject *tvc)
{
    Recorder *rec = self->rec;
    long long c, tid;
    PyObject *v;
    int ok = slot_ll(TS_GET(rec, ts, tid), &tid), rc;
    if (ok <= 0) {
        if (ok == 0) {
            PyErr_SetString(PyExc_TypeError, "ThreadState.tid is not an int");
        }
        return -1;
    }
    ok = slot_ll(get_slot(ts, rec->ts_type, self->m_clock, s_clock), &c);
    if (ok <= 0) {
        if (ok == 0) {
            PyErr_SetString(PyExc_TypeError, "ThreadState.clock is not an int");
        }
        return -1;
    }
    c += 1;
    if ((v = PyLong_FromLongLong(c)) == NULL) {
        return -1;
    }
    rc = set_slot(ts, rec->ts_type, self->m_clock, s_clock, v);
    if (rc == 0) {
        rc = PySequence_SetItem(tvc, (Py_ssize_t)tid, v);
    }
    Py_DECREF(v);
    if (rc < 0 || (v = PyLong_FromLongLong((c << rec->shift) | tid)) == NULL) {
        return -1;
    }
    rc = set_slot(ts, rec->ts_type, rec->m_epoch, s_epoch, v);
    Py_DECREF(v);
    return rc;
}

/* The lock's clock if it belongs to this detector's generation (new reference), Py_None
 * (new reference) when it does not; NULL with an exception. */
static PyObject *
clock_attr(LockHooks *self, PyObject *lock, PyObject *name)
{
    PyObject *clock = name == s__clock ? tracked_slot(lock, m_tr_clock, name) : PyObject_GetAttr(lock, name), *gen;
    int same;
    if (clock == NULL || clock == Py_None || (PyObject *)Py_TYPE(clock) != self->clock_type) {
        if (clock != NULL && clock != Py_None) {  /* not a SyncClock: as `clock.gen != gen` would say */
            Py_SETREF(clock, Py_NewRef(Py_None));
        }
        return clock;
    }
    gen = PyMember_GetOne((const char *)clock, self->m_gen);
    if (gen == NULL) {
        Py_DECREF(clock);
        return NULL;
    }
    same = PyObject_RichCompareBool(gen, self->gen, Py_EQ);
    Py_DECREF(gen);
    if (same <= 0) {
        Py_DECREF(clock);
        return same < 0 ? NULL : Py_NewRef(Py_None);
    }
    return clock;
}

#define lock_clock(self, lock) clock_attr((self), (lock), s__clock)

static PyObject *speedups_join_into(PyObject *module, PyObject *const *args, Py_ssize_t nargs);

/* The acquire half of SyncClock.absorb / exchange: tvc := tvc | clock.vc unless the
 * thread already knows the release that produced it (clock.last).  0, or -1 with an exception. */
static int
absorb_clock(LockHooks *self, PyObject *clock, PyObject *tvc)
{
    Recorder *rec = self->rec;
    PyObject *vc = PyMember_GetOne((const char *)clock, self->m_cvc);
    int rc = -1;
    if (vc == NULL) {
        return -1;
    }
    if (vc != Py_None) {
        long long last = 0, t, known = 0;
        int ok = slot_ll(PyMember_GetOne((const char *)clock, self->m_last), &last);
        if (ok < 0) {
            goto done;
        }
        t = last & rec->mask;
        if (ok && last && t < PyList_GET_SIZE(tvc)) {
            PyObject *item = PySequence_GetItem(tvc, (Py_ssize_t)t);
            if (item == NULL || !as_ll(item, &known)) {
                Py_XDECREF(item);
                goto done;
            }
            Py_DECREF(item);
        }
        if (!(ok && last && t < PyList_GET_SIZE(tvc) && (last >> rec->shift) <= known)) {
            PyObject *args[2] = {tvc, vc}, *r = speedups_join_into(NULL, args, 2);
            if (r == NULL) {
                goto done;
            }
            Py_DECREF(r);
        }
    }
    rc = 0;
done:
    Py_DECREF(vc);
    return rc;
}

/* acquired(lock): after a tracked lock's acquire (Detector.lock_acquired). */
static PyObject *
LockHooks_acquired(LockHooks *self, PyObject *lock)
{
    Recorder *rec = self->rec;
    PyObject *ts = thread_state(rec), *tvc = NULL, *clock = NULL;
    PyObject *result = NULL;
    if (ts == NULL || (tvc = TS_GET(rec, ts, vc)) == NULL || (clock = lock_clock(self, lock)) == NULL) {
        goto done;
    }
    if (!PyList_Check(tvc)) {
        PyErr_SetString(PyExc_TypeError, "ThreadState.vc is not a list");
        goto done;
    }
    if (clock != Py_None && absorb_clock(self, clock, tvc) < 0) {
        goto done;
    }
    if (lock_tick(self, ts, tvc) == 0) {
        result = Py_NewRef(Py_None);
    }
done:
    Py_XDECREF(clock);
    Py_XDECREF(tvc);
    Py_XDECREF(ts);
    return result;
}

/* `obj`'s clock in attribute `name`, made (a new SyncClock of this generation) when it
 * has none of this generation (new reference, or NULL with an exception). */
static PyObject *
clock_made(LockHooks *self, PyObject *obj, PyObject *name)
{
    PyObject *clock = clock_attr(self, obj, name);
    if (clock == Py_None) {
        Py_SETREF(clock, PyObject_CallOneArg(self->clock_type, self->gen));
        if (clock != NULL && PyObject_SetAttr(obj, name, clock) < 0) {
            Py_CLEAR(clock);
        }
    }
    return clock;
}

/* The release half of SyncClock.publish / exchange: clock := a copy of the thread's, then tick. */
static int
publish_clock(LockHooks *self, PyObject *clock, PyObject *ts, PyObject *tvc)
{
    PyObject *copy, *epoch = NULL;
    int rc = -1;
    if ((copy = PySequence_List(tvc)) != NULL && (epoch = TS_GET(self->rec, ts, epoch)) != NULL
        && PyMember_SetOne((char *)clock, self->m_cvc, copy) == 0
        && PyMember_SetOne((char *)clock, self->m_last, epoch) == 0) {
        rc = lock_tick(self, ts, tvc);
    }
    Py_XDECREF(epoch);
    Py_XDECREF(copy);
    return rc;
}

/* released(lock): before a tracked lock's release, its clock becomes the holder's
 * (Detector.lock_released, SyncClock.publish). */
static PyObject *
LockHooks_released(LockHooks *self, PyObject *lock)
{
    Recorder *rec = self->rec;
    PyObject *ts = thread_state(rec), *tvc = NULL, *clock = NULL;
    PyObject *result = NULL;
    if (ts == NULL || (tvc = TS_GET(rec, ts, vc)) == NULL || (clock = clock_made(self, lock, s__clock)) == NULL) {
        goto done;
    }
    if (publish_clock(self, clock, ts, tvc) == 0) {
        result = Py_NewRef(Py_None);
    }
done:
    Py_XDECREF(clock);
    Py_XDECREF(tvc);
    Py_XDECREF(ts);
    return result;
}

/* acquire_release(key): Detector.acquire_release.  A key whose type carries its own clock
 * (racefree.sync's atomics: _hb.OWN_CLOCK, the clock in `_hb_clock`, guarded by the
 * atomic's report lock, which the caller holds) is exchanged here (SyncClock.exchange);
 * any other key goes to the Python method. */
static PyObject *
LockHooks_acquire_release(LockHooks *self, PyObject *key)
{
    Recorder *rec = self->rec;
    PyObject *own, *ts = NULL, *tvc = NULL, *clock = NULL, *result = NULL;
    int yes;
    own = PyObject_GetAttr((PyObject *)Py_TYPE(key), s__racefree_own_clock);
    if (own == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            return NULL;
        }
        PyErr_Clear();
        yes = 0;
    }
    else {
        yes = PyObject_IsTrue(own);
        Py_DECREF(own);
        if (yes < 0) {
            return NULL;
        }
    }
    if (!yes || self->py_acquire_release == Py_None) {
        if (self->py_acquire_release == Py_None) {
            PyErr_SetString(PyExc_RuntimeError, "LockHooks made without acquire_release");
            return NULL;
        }
        return PyObject_CallOneArg(self->py_acquire_release, key);
    }
    if ((ts = thread_state(rec)) == NULL || (tvc = TS_GET(rec, ts, vc)) == NULL
        || (clock = clock_made(self, key, s__hb_clock)) == NULL) {
        goto done;
    }
    if (!PyList_Check(tvc)) {
        PyErr_SetString(PyExc_TypeError, "ThreadState.vc is not a list");
        goto done;
    }
    if (absorb_clock(self, clock, tvc) == 0 && publish_clock(self, clock, ts, tvc) == 0) {
        result = Py_NewRef(Py_None);
    }
done:
    Py_XDECREF(clock);
    Py_XDECREF(tvc);
    Py_XDECREF(ts);
    return result;
}

/* publish_clock(): a copy of the calling thread's clock, as a release (Detector.publish_clock). */
static PyObject *
LockHooks_publish_clock(LockHooks *self, PyObject *unused)
{
    Recorder *rec = self->rec;
    PyObject *ts = thread_state(rec), *tvc = NULL, *copy = NULL;
    if (ts == NULL || (tvc = TS_GET(rec, ts, vc)) == NULL || (copy = PySequence_List(tvc)) == NULL
        || lock_tick(self, ts, tvc) < 0) {
        Py_CLEAR(copy);
    }
    Py_XDECREF(tvc);
    Py_XDECREF(ts);
    return copy;
}

/* absorb_clock(vc): acquire a clock from publish_clock, or None (Detector.absorb_clock). */
static PyObject *
LockHooks_absorb_clock(LockHooks *self, PyObject *vc)
{
    Recorder *rec = self->rec;
    PyObject *ts = thread_state(rec), *tvc = NULL, *result = NULL;
    if (ts == NULL || (tvc = TS_GET(rec, ts, vc)) == NULL) {
        goto done;
    }
    if (vc != Py_None) {
        PyObject *args[2] = {tvc, vc}, *r = speedups_join_into(NULL, args, 2);
        if (r == NULL) {
            goto done;
        }
        Py_DECREF(r);
    }
    if (lock_tick(self, ts, tvc) == 0) {
        result = Py_NewRef(Py_None);
    }
done:
    Py_XDECREF(tvc);
    Py_XDECREF(ts);
    return result;
}

static int
LockHooks_traverse(LockHooks *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->rec);
    Py_VISIT(self->gen);
    Py_VISIT(self->clock_type);
    Py_VISIT(self->descrs);
    Py_VISIT(self->py_acquire_release);
    return 0;
}

static int
LockHooks_clear(LockHooks *self)
{
    Py_CLEAR(self->rec);
    Py_CLEAR(self->gen);
    Py_CLEAR(self->clock_type);
    Py_CLEAR(self->descrs);
    Py_CLEAR(self->py_acquire_release);
    return 0;
}

static void
LockHooks_dealloc(LockHooks *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    LockHooks_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
LockHooks_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"recorder", "gen", "clock_type", "acquire_release", NULL};
    PyObject *rec, *gen, *clock_type, *py_ar = Py_None;
    LockHooks *self;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!O!|O:LockHooks", kwlist, RecorderType, &rec,
                                     &PyLong_Type, &gen, &PyType_Type, &clock_type, &py_ar)) {
        return NULL;
    }
    self = (LockHooks *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->rec = (Recorder *)Py_NewRef(rec);
    self->gen = Py_NewRef(gen);
    self->clock_type = Py_NewRef(clock_type);
    self->py_acquire_release = Py_NewRef(py_ar);
    self->descrs = PyList_New(0);
    if (self->descrs == NULL
        || (self->m_clock = member_of(self->rec->ts_type, "clock", self->descrs)) == NULL
        || (self->m_gen = member_of(clock_type, "gen", self->descrs)) == NULL
        || (self->m_cvc = member_of(clock_type, "vc", self->descrs)) == NULL
        || (self->m_last = member_of(clock_type, "last", self->descrs)) == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyMethodDef LockHooks_methods[] = {
    {"acquired", (PyCFunction)LockHooks_acquired, METH_O,
     "acquired(lock): after a tracked lock's acquire (Detector.lock_acquired)."},
    {"released", (PyCFunction)LockHooks_released, METH_O,
     "released(lock): before a tracked lock's release (Detector.lock_released)."},
    {"acquire_release", (PyCFunction)LockHooks_acquire_release, METH_O,
     "acquire_release(key): an atomic read-modify-write on key (Detector.acquire_release)."},
    {"publish_clock", (PyCFunction)LockHooks_publish_clock, METH_NOARGS,
     "publish_clock() -> a copy of the calling thread's clock, as a release (Detector.publish_clock)."},
    {"absorb_clock", (PyCFunction)LockHooks_absorb_clock, METH_O,
     "absorb_clock(vc): acquire a clock from publish_clock, or None (Detector.absorb_clock)."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot LockHooks_slots[] = {
    {Py_tp_doc, "Detector.lock_acquired / lock_released in C, for one detector's Recorder."},
    {Py_tp_new, LockHooks_new},
    {Py_tp_dealloc, LockHooks_dealloc},
    {Py_tp_traverse, LockHooks_traverse},
    {Py_tp_clear, LockHooks_clear},
    {Py_tp_methods, LockHooks_methods},
    {0, NULL},
};

static PyType_Spec LockHooks_spec = {
    "racefree.detector._speedups.LockHooks",
    sizeof(LockHooks),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    LockHooks_slots,
};

/* join_into(vc, other): vc := vc ⊔ other, in place (clocks.join_into). */
static PyObject *
speedups_join_into(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *vc, *other, *zero;
    Py_ssize_t i, n;
    if (nargs != 2 || !PyList_CheckExact(args[0]) || !PyList_CheckExact(args[1])) {
        PyErr_SetString(PyExc_TypeError, "join_into(vc, other) takes two lists");
        return NULL;
    }
    vc = args[0];
    other = args[1];
    /* A clock is owned by one thread or guarded by the detector's lock, but the list
     * API below is also safe against concurrent use on the free-threaded build. */
    n = PyList_Size(other);
    zero = PyLong_FromLong(0);
    if (zero == NULL) {
        return NULL;
    }
    while (PyList_Size(vc) < n) {
        if (PyList_Append(vc, zero) < 0) {
            Py_DECREF(zero);
            return NULL;
        }
    }
    Py_DECREF(zero);
    for (i = 0; i < n; i++) {
        PyObject *o = PySequence_GetItem(other, i), *v;
        int bigger;
        if (o == NULL) {
            return NULL;
        }
        v = PySequence_GetItem(vc, i);
        if (v == NULL) {
            Py_DECREF(o);
            return NULL;
        }
        bigger = PyObject_RichCompareBool(o, v, Py_GT);
        Py_DECREF(v);
        if (bigger < 0 || (bigger && PyList_SetItem(vc, i, Py_NewRef(o)) < 0)) {
            Py_DECREF(o);
            return NULL;
        }
        Py_DECREF(o);
    }
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------- tracked lock's with
 * lock_methods(namespace) -> (__enter__, __exit__): hb_threading._TrackedLock's
 * __enter__ and __exit__ in C, as method descriptors reading the module's `_hooks`,
 * `_order` and `_held` from `namespace` (hb_threading's globals) at each call.
 * hb_threading installs them while a detector with the C back-end records and keeps
 * its Python methods as the reference (the differential test runs both). */

static PyObject *s_lock_acquired, *s_lock_released, *s__hooks, *s__order, *s__held, *s_held;
static PyObject *s_nested, *s_released, *s__order_epoch, *s__owned, *s__lock, *s__TrackedLock;

/* namespace[name] (new reference; NULL without an exception when absent) */
static PyObject *
ns_get(PyObject *ns, PyObject *name)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyObject *v = NULL;
    if (PyDict_GetItemRef(ns, name, &v) < 0) {
        PyErr_Clear();
    }
    return v;
#else
    PyObject *v = PyDict_GetItemWithError(ns, name);
    if (v == NULL) {
        PyErr_Clear();
    }
    return Py_XNewRef(v);
#endif
}

/* _held.held, made an empty list on first use in this thread (new reference).  The list
 * of the calling thread is remembered (borrowed) with the namespace's `_held_gen`, which
 * hb_threading / hb_queue bump whenever `_held` changes: while the generation is the same,
 * `_held` (kept by the module) and its list for this thread (kept by `_held`, never
 * replaced: LockOrder edits it in place) are alive. */
static THREAD_LOCAL PyObject *tl_held_ns;
static THREAD_LOCAL PyObject *tl_held;
static THREAD_LOCAL long tl_held_gen;
static PyObject *s__held_gen;

static long
held_gen(PyObject *ns)
{
    PyObject *g = ns_get(ns, s__held_gen);
    long v = -1;
    if (g != NULL && PyLong_CheckExact(g)) {
        v = PyLong_AsLong(g);
        if (v == -1 && PyErr_Occurred()) {
            PyErr_Clear();
        }
    }
    Py_XDECREF(g);
    return v;
}

static PyObject *
held_list(PyObject *ns)
{
    PyObject *local, *held;
    long gen = held_gen(ns);
    if (gen >= 0 && tl_held != NULL && tl_held_ns == ns && tl_held_gen == gen) {
        return Py_NewRef(tl_held);
    }
    local = ns_get(ns, s__held);
    if (local == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "hb_threading._held is missing");
        return NULL;
    }
    held = PyObject_GetAttr(local, s_held);
    if (held == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        held = PyList_New(0);
        if (held != NULL && PyObject_SetAttr(local, s_held, held) < 0) {
            Py_CLEAR(held);
        }
    }
    Py_DECREF(local);
    if (held != NULL && !PyList_Check(held)) {
        PyErr_SetString(PyExc_TypeError, "hb_threading._held.held is not a list");
        Py_CLEAR(held);
    }
    if (held != NULL && gen >= 0 && held_gen(ns) == gen) {
        tl_held = held;
        tl_held_ns = ns;
        tl_held_gen = gen;
    }
    return held;
}

/* hb_threading's _TrackedLock and its slots, read without an attribute lookup (lock_methods). */
static PyTypeObject *tracked_type;
static PyMemberDef *m_tr_lock, *m_tr_order_epoch;
static PyObject *tracked_descrs;

static PyObject *
tracked_slot(PyObject *lock, PyMemberDef *member, PyObject *name)
{
    if (member != NULL && PyObject_TypeCheck(lock, tracked_type)) {
        return PyMember_GetOne((const char *)lock, member);
    }
    return PyObject_GetAttr(lock, name);
}

static PyObject *LockHooks_acquired(LockHooks *self, PyObject *lock);
static PyObject *LockHooks_released(LockHooks *self, PyObject *lock);
static PyObject *s__lock_hooks;

/* h.lock_acquired(lock) / h.lock_released(lock): straight to the C hooks when the
 * namespace's `_lock_hooks` is the detector's LockHooks (hb_threading.install). */
static PyObject *
call_hook(PyObject *ns, PyObject *h, PyObject *name, PyObject *lock, int acquired)
{
    PyObject *hooks = ns_get(ns, s__lock_hooks), *r;
    if (hooks != NULL && Py_TYPE(hooks) == LockHooksType) {
        r = acquired ? LockHooks_acquired((LockHooks *)hooks, lock) : LockHooks_released((LockHooks *)hooks, lock);
        Py_DECREF(hooks);
        return r;
    }
    Py_XDECREF(hooks);
    return PyObject_CallMethodOneArg(h, name, lock);
}

/* (lock, epoch, frame, lasti): a held-list entry (new reference). */
static PyObject *
held_entry(PyObject *lock, PyObject *epoch, PyFrameObject *f)
{
    PyObject *lasti = PyLong_FromLong(PyFrame_GetLasti(f)), *entry;
    if (lasti == NULL) {
        return NULL;
    }
    entry = PyTuple_New(4);
    if (entry == NULL) {
        Py_DECREF(lasti);
        return NULL;
    }
    PyTuple_SET_ITEM(entry, 0, Py_NewRef(lock));
    PyTuple_SET_ITEM(entry, 1, Py_NewRef(epoch));
    PyTuple_SET_ITEM(entry, 2, Py_NewRef((PyObject *)f));
    PyTuple_SET_ITEM(entry, 3, lasti);
    return entry;
}

/* _TrackedLock.__enter__(self) */
static PyObject *
lock_enter(PyObject *ns, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *self, *raw, *r, *h = NULL, *o = NULL, *held = NULL, *epoch = NULL, *entry = NULL;
    PyFrameObject *f;
    int ok;
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "__enter__() needs the lock");
        return NULL;
    }
    self = args[0];
    if ((raw = tracked_slot(self, m_tr_lock, s__lock)) == NULL) {
        return NULL;
    }
    r = PyObject_CallMethodNoArgs(raw, s_acquire);
    Py_DECREF(raw);
    if (r == NULL) {
        return NULL;
    }
    ok = r != Py_False;  /* True, or (a Python RLock re-entered) 1: see _TrackedLock.acquire */
    Py_DECREF(r);
    h = ns_get(ns, s__hooks);
    if (h == NULL || h == Py_None) {
        goto done;
    }
    if ((r = call_hook(ns, h, s_lock_acquired, self, 1)) == NULL) {
        goto fail;
    }
    Py_DECREF(r);
    o = ns_get(ns, s__order);
    if (o == NULL || o == Py_None) {
        goto done;
    }
    f = PyEval_GetFrame();  /* the caller of __enter__: what _getframe(1) is in Python */
    if (f == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "__enter__() called without a Python frame");
        goto fail;
    }
    if ((held = held_list(ns)) == NULL) {
        goto fail;
    }
    if (PyList_GET_SIZE(held) > 0) {
        r = PyObject_CallMethodObjArgs(o, s_nested, self, held, (PyObject *)f, NULL);
        if (r == NULL) {
            goto fail;
        }
        Py_DECREF(r);
    }
    if ((epoch = tracked_slot(self, m_tr_order_epoch, s__order_epoch)) == NULL) {
        goto fail;
    }
    entry = held_entry(self, epoch, f);
    if (entry == NULL || PyList_Append(held, entry) < 0) {
        goto fail;
    }
done:
    Py_XDECREF(entry);
    Py_XDECREF(epoch);
    Py_XDECREF(held);
    Py_XDECREF(o);
    Py_XDECREF(h);
    return PyBool_FromLong(ok);
fail:
    Py_XDECREF(entry);
    Py_XDECREF(epoch);
    Py_XDECREF(held);
    Py_XDECREF(o);
    Py_XDECREF(h);
    return NULL;
}

/* _TrackedLock.__exit__(self, *exc) */
static PyObject *
lock_exit(PyObject *ns, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *self, *raw, *r, *h = NULL, *o = NULL, *held = NULL;
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "__exit__() needs the lock");
        return NULL;
    }
    self = args[0];
    if ((raw = tracked_slot(self, m_tr_lock, s__lock)) == NULL) {
        return NULL;
    }
    h = ns_get(ns, s__hooks);
    if (h != NULL && h != Py_None) {
        PyObject *owned = PyObject_GetAttr(self, s__owned);  /* a staticmethod: the plain function */
        int is_owned;
        if (owned == NULL) {
            goto fail;
        }
        r = PyObject_CallOneArg(owned, raw);
        Py_DECREF(owned);
        if (r == NULL) {
            goto fail;
        }
        is_owned = PyObject_IsTrue(r);
        Py_DECREF(r);
        if (is_owned < 0) {
            goto fail;
        }
        if (is_owned) {
            if ((r = call_hook(ns, h, s_lock_released, self, 0)) == NULL) {
                goto fail;
            }
            Py_DECREF(r);
            o = ns_get(ns, s__order);
            if (o != NULL && o != Py_None) {
                Py_ssize_t n;
                if ((held = held_list(ns)) == NULL) {
                    goto fail;
                }
                n = PyList_GET_SIZE(held);
                r = n > 0 ? PySequence_GetItem(held, n - 1) : NULL;
                if (n > 0 && r == NULL) {
                    goto fail;
                }
                if (r != NULL && PyTuple_Check(r) && PyTuple_GET_SIZE(r) > 0 && PyTuple_GET_ITEM(r, 0) == self) {
                    Py_DECREF(r);
                    if (PySequence_DelItem(held, n - 1) < 0) {
                        goto fail;
                    }
                }
                else {
                    Py_XDECREF(r);
                    if ((r = PyObject_CallMethodOneArg(o, s_released, self)) == NULL) {
                        goto fail;
                    }
                    Py_DECREF(r);
                }
            }
        }
    }
    r = PyObject_CallMethodNoArgs(raw, s_release);
    Py_DECREF(raw);
    Py_XDECREF(held);
    Py_XDECREF(o);
    Py_XDECREF(h);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    Py_RETURN_NONE;
fail:
    Py_DECREF(raw);
    Py_XDECREF(held);
    Py_XDECREF(o);
    Py_XDECREF(h);
    return NULL;
}

static PyMethodDef lock_enter_def = {
    "__enter__", (PyCFunction)(void (*)(void))lock_enter, METH_FASTCALL,
    "Acquire the raw lock, then record the acquire (hb_threading._TrackedLock.__enter__ in C)."};
static PyMethodDef lock_exit_def = {
    "__exit__", (PyCFunction)(void (*)(void))lock_exit, METH_FASTCALL,
    "Record the release, then release the raw lock (hb_threading._TrackedLock.__exit__ in C)."};

/* Condition.__enter__ (hb_threading._condition_enter): a condition whose lock is not a
 * tracked Lock/RLock, or with no lock-order graph, is the lock's own __enter__; the
 * rest goes to the Python function (namespace `_condition_enter`). */
static PyObject *s__condition_enter, *s___enter__, *s_Lock, *s_RLock;

static PyObject *
condition_enter(PyObject *ns, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *lock, *o, *r, *fn;
    int plain, truth;
    if (nargs != 1) {
        PyErr_SetString(PyExc_TypeError, "__enter__() takes no arguments");
        return NULL;
    }
    if ((lock = PyObject_GetAttr(args[0], s__lock)) == NULL) {
        return NULL;
    }
    o = ns_get(ns, s__order);
    plain = o == NULL || o == Py_None;
    if (!plain) {
        PyObject *tl = ns_get(ns, s_Lock), *tr = ns_get(ns, s_RLock);
        plain = (PyObject *)Py_TYPE(lock) != tl && (PyObject *)Py_TYPE(lock) != tr;
        Py_XDECREF(tl);
        Py_XDECREF(tr);
    }
    Py_XDECREF(o);
    if (!plain) {
        Py_DECREF(lock);
        if ((fn = ns_get(ns, s__condition_enter)) == NULL) {
            PyErr_SetString(PyExc_RuntimeError, "hb_threading._condition_enter is missing");
            return NULL;
        }
        r = PyObject_CallOneArg(fn, args[0]);
        Py_DECREF(fn);
        return r;
    }
    r = PyObject_CallMethodNoArgs(lock, s___enter__);
    Py_DECREF(lock);
    if (r == NULL) {
        return NULL;
    }
    truth = PyObject_IsTrue(r);
    Py_DECREF(r);
    return truth < 0 ? NULL : PyBool_FromLong(truth);
}

static PyMethodDef condition_enter_def = {
    "__enter__", (PyCFunction)(void (*)(void))condition_enter, METH_FASTCALL,
    "Enter the condition's lock, recording it as hb_threading._condition_enter does (in C)."};

/* condition_enter(namespace) -> Condition.__enter__ in C, binding like a function. */
static PyObject *
speedups_condition_enter(PyObject *module, PyObject *ns)
{
    PyObject *f, *m;
    if (!PyDict_Check(ns)) {
        PyErr_SetString(PyExc_TypeError, "condition_enter(namespace) takes a module's globals dict");
        return NULL;
    }
    if ((f = PyCFunction_New(&condition_enter_def, ns)) == NULL) {
        return NULL;
    }
    m = PyInstanceMethod_New(f);
    Py_DECREF(f);
    return m;
}

/* lock_methods(namespace) -> (__enter__, __exit__), each binding like a function. */
static PyObject *
speedups_lock_methods(PyObject *module, PyObject *ns)
{
    PyObject *enter = NULL, *exit_ = NULL, *f, *result;
    if (!PyDict_Check(ns)) {
        PyErr_SetString(PyExc_TypeError, "lock_methods(namespace) takes a module's globals dict");
        return NULL;
    }
    if (tracked_type == NULL) {  /* the slots of namespace["_TrackedLock"], once */
        PyObject *tp = ns_get(ns, s__TrackedLock);
        if (tp != NULL && PyType_Check(tp) && (tracked_descrs = PyList_New(0)) != NULL) {
            if ((m_tr_lock = member_of(tp, "_lock", tracked_descrs)) == NULL
                || (m_tr_order_epoch = member_of(tp, "_order_epoch", tracked_descrs)) == NULL
                || (m_tr_clock = member_of(tp, "_clock", tracked_descrs)) == NULL) {
                PyErr_Clear();
                m_tr_lock = m_tr_order_epoch = m_tr_clock = NULL;
            }
            else {
                tracked_type = (PyTypeObject *)Py_NewRef(tp);
            }
        }
        Py_XDECREF(tp);
    }
    if ((f = PyCFunction_New(&lock_enter_def, ns)) == NULL) {
        return NULL;
    }
    enter = PyInstanceMethod_New(f);
    Py_DECREF(f);
    if (enter == NULL || (f = PyCFunction_New(&lock_exit_def, ns)) == NULL) {
        Py_XDECREF(enter);
        return NULL;
    }
    exit_ = PyInstanceMethod_New(f);
    Py_DECREF(f);
    if (exit_ == NULL) {
        Py_DECREF(enter);
        return NULL;
    }
    result = PyTuple_Pack(2, enter, exit_);
    Py_DECREF(enter);
    Py_DECREF(exit_);
    return result;
}

/* ------------------------------------------------------------ queue put/get
 * HoldingMethod(original, namespace): hb_queue's wrapper of Queue.put / Queue.get in C.
 * While the detector keeps a lock-order graph (namespace `_order`), the call counts as
 * holding the stand-in of the queue's raw `mutex` (hb_rawlocks: the same node as a
 * `with q.mutex:` in instrumented code), exactly as LockOrder.acquired/released would
 * record it around the original method; no clock, no happens-before edge.  The
 * stand-in is found in hb_rawlocks' side table (namespace `_stands`), or made by
 * `stand_in`; the held list is namespace `_held`.held, as for the tracked locks.
 * It binds like a function and answers __wrapped__, __name__, __doc__... of the
 * original (inspect.signature sees the original's). */

typedef struct {
    PyObject_HEAD
    PyObject *original;
    PyObject *ns;
    vectorcallfunc vectorcall;
} HoldingMethod;

static PyTypeObject *HoldingMethodType;
static PyObject *s_mutex, *s__RawLock, *s__stands, *s__entries, *s_stand_in;

/* The stand-in of raw lock `raw`: hb_rawlocks' SideTable.get in C, else stand_in(raw). */
static PyObject *
stand_of(PyObject *ns, PyObject *raw)
{
    PyObject *table = ns_get(ns, s__stands), *entries = NULL, *ident = NULL, *pair = NULL, *fn;
    PyObject *found = NULL;
    if (table != NULL && (entries = PyObject_GetAttr(table, s__entries)) != NULL && PyDict_Check(entries)
        && (ident = PyLong_FromVoidPtr(raw)) != NULL && dict_get_ref(entries, ident, &pair) > 0
        && PyTuple_CheckExact(pair) && PyTuple_GET_SIZE(pair) == 2 && PyWeakref_Check(PyTuple_GET_ITEM(pair, 0))) {
#if PY_VERSION_HEX >= 0x030D0000
        PyObject *target = NULL;
        if (PyWeakref_GetRef(PyTuple_GET_ITEM(pair, 0), &target) < 0) {
            PyErr_Clear();
        }
        if (target == raw) {
            found = Py_NewRef(PyTuple_GET_ITEM(pair, 1));
        }
        Py_XDECREF(target);
#else
        if (PyWeakref_GET_OBJECT(PyTuple_GET_ITEM(pair, 0)) == raw) {
            found = Py_NewRef(PyTuple_GET_ITEM(pair, 1));
        }
#endif
    }
    PyErr_Clear();
    Py_XDECREF(pair);
    Py_XDECREF(ident);
    Py_XDECREF(entries);
    Py_XDECREF(table);
    if (found != NULL && found != Py_None) {
        return found;
    }
    Py_XDECREF(found);
    if ((fn = ns_get(ns, s_stand_in)) == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "hb_queue.stand_in is missing");
        return NULL;
    }
    found = PyObject_CallOneArg(fn, raw);
    Py_DECREF(fn);
    return found;
}

static PyObject *
HoldingMethod_vectorcall(HoldingMethod *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *o = NULL, *mutex = NULL, *raw_type = NULL, *stand = NULL, *held = NULL, *epoch = NULL;
    PyObject *entry = NULL, *result = NULL, *r;
    PyFrameObject *f;
    Py_ssize_t n;
    if (nargs < 1 || (o = ns_get(self->ns, s__order)) == NULL || o == Py_None) {
        goto plain;
    }
    mutex = PyObject_GetAttr(args[0], s_mutex);
    if (mutex == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
            goto fail;
        }
        PyErr_Clear();
        goto plain;
    }
    raw_type = ns_get(self->ns, s__RawLock);
    if (raw_type == NULL || (PyObject *)Py_TYPE(mutex) != raw_type) {
        goto plain;
    }
    if ((stand = stand_of(self->ns, mutex)) == NULL) {
        goto fail;
    }
    f = PyEval_GetFrame();  /* the caller of put/get: what _getframe(1) is in Python */
    if (f == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Queue method called without a Python frame");
        goto fail;
    }
    if ((held = held_list(self->ns)) == NULL) {
        goto fail;
    }
    if (PyList_GET_SIZE(held) > 0) {  /* LockOrder.acquired(stand, f, True) */
        r = PyObject_CallMethodObjArgs(o, s_nested, stand, held, (PyObject *)f, NULL);
        if (r == NULL) {
            goto fail;
        }
        Py_DECREF(r);
    }
    if ((epoch = PyObject_GetAttr(stand, s__order_epoch)) == NULL) {
        goto fail;
    }
    entry = Py_BuildValue("(OOOi)", stand, epoch, (PyObject *)f, PyFrame_GetLasti(f));
    if (entry == NULL || PyList_Append(held, entry) < 0) {
        goto fail;
    }
    result = PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    {   /* finally: LockOrder.released(stand), keeping the method's exception */
#if PY_VERSION_HEX >= 0x030C0000
        PyObject *exc = PyErr_GetRaisedException();
#else
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
#endif
        int ok = 0;
        n = PyList_GET_SIZE(held);
        r = n > 0 ? PySequence_GetItem(held, n - 1) : NULL;
        if (n > 0 && r == NULL) {
            ok = -1;
        }
        else if (r != NULL && PyTuple_Check(r) && PyTuple_GET_SIZE(r) > 0 && PyTuple_GET_ITEM(r, 0) == stand) {
            ok = PySequence_DelItem(held, n - 1);
        }
        else {
            PyObject *rr = PyObject_CallMethodOneArg(o, s_released, stand);
            ok = rr == NULL ? -1 : 0;
            Py_XDECREF(rr);
        }
        Py_XDECREF(r);
        if (ok < 0) {
            Py_CLEAR(result);
#if PY_VERSION_HEX >= 0x030C0000
            Py_XDECREF(exc);
#else
            Py_XDECREF(et);
            Py_XDECREF(ev);
            Py_XDECREF(tb);
#endif
        }
        else {
#if PY_VERSION_HEX >= 0x030C0000
            if (exc != NULL) {
                PyErr_SetRaisedException(exc);
            }
#else
            if (et != NULL) {
                PyErr_Restore(et, ev, tb);
            }
#endif
        }
    }
    goto done;
plain:
    result = PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    goto done;
fail:
    result = NULL;
done:
    Py_XDECREF(entry);
    Py_XDECREF(epoch);
    Py_XDECREF(held);
    Py_XDECREF(stand);
    Py_XDECREF(raw_type);
    Py_XDECREF(mutex);
    Py_XDECREF(o);
    return result;
}

static PyObject *
HoldingMethod_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None) {
        return Py_NewRef(self);
    }
    return PyMethod_New(self, obj);
}

static PyObject *
HoldingMethod_getattro(HoldingMethod *self, PyObject *name)
{
    PyObject *v;
    if (PyUnicode_Check(name)) {
        const char *c = PyUnicode_AsUTF8(name);
        if (c == NULL) {
            return NULL;
        }
        if (strcmp(c, "__wrapped__") == 0) {
            return Py_NewRef(self->original);
        }
        if (strcmp(c, "__doc__") == 0 || strcmp(c, "__name__") == 0 || strcmp(c, "__qualname__") == 0
            || strcmp(c, "__module__") == 0) {
            return PyObject_GetAttr(self->original, name);
        }
    }
    v = PyObject_GenericGetAttr((PyObject *)self, name);
    if (v == NULL && PyErr_ExceptionMatches(PyExc_AttributeError)) {
        PyErr_Clear();
        v = PyObject_GetAttr(self->original, name);
    }
    return v;
}

static PyObject *
HoldingMethod_repr(HoldingMethod *self)
{
    return PyUnicode_FromFormat("<racefree queue method wrapping %R>", self->original);
}

static int
HoldingMethod_traverse(HoldingMethod *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->original);
    Py_VISIT(self->ns);
    return 0;
}

static int
HoldingMethod_clear(HoldingMethod *self)
{
    Py_CLEAR(self->original);
    Py_CLEAR(self->ns);
    return 0;
}

static void
HoldingMethod_dealloc(HoldingMethod *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    HoldingMethod_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *
HoldingMethod_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"original", "namespace", NULL};
    PyObject *original, *ns;
    HoldingMethod *self;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO!:HoldingMethod", kwlist, &original, &PyDict_Type, &ns)) {
        return NULL;
    }
    if (!PyCallable_Check(original)) {
        PyErr_SetString(PyExc_TypeError, "HoldingMethod(original, namespace): original must be callable");
        return NULL;
    }
    self = (HoldingMethod *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    self->original = Py_NewRef(original);
    self->ns = Py_NewRef(ns);
    self->vectorcall = (vectorcallfunc)HoldingMethod_vectorcall;
    return (PyObject *)self;
}

static PyMemberDef HoldingMethod_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(HoldingMethod, vectorcall), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot HoldingMethod_slots[] = {
    {Py_tp_doc, "A Queue method that holds the queue mutex's lock-order stand-in (see _speedups.c)."},
    {Py_tp_new, HoldingMethod_new},
    {Py_tp_dealloc, HoldingMethod_dealloc},
    {Py_tp_traverse, HoldingMethod_traverse},
    {Py_tp_clear, HoldingMethod_clear},
    {Py_tp_call, PyVectorcall_Call},
    {Py_tp_descr_get, HoldingMethod_descr_get},
    {Py_tp_getattro, HoldingMethod_getattro},
    {Py_tp_repr, HoldingMethod_repr},
    {Py_tp_members, HoldingMethod_members},
    {0, NULL},
};

static PyType_Spec HoldingMethod_spec = {
    "racefree.detector._speedups.HoldingMethod",
    sizeof(HoldingMethod),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    HoldingMethod_slots,
};

static PyMethodDef speedups_functions[] = {
    {"join_into", (PyCFunction)(void (*)(void))speedups_join_into, METH_FASTCALL,
     "join_into(vc, other): vc := vc | other (element-wise max), in place."},
    {"condition_enter", (PyCFunction)speedups_condition_enter, METH_O,
     "condition_enter(namespace) -> Condition.__enter__ of hb_threading, in C."},
    {"lock_methods", (PyCFunction)speedups_lock_methods, METH_O,
     "lock_methods(namespace) -> (__enter__, __exit__) of hb_threading's tracked locks, in C."},
    {NULL, NULL, 0, NULL},
};

static int
speedups_exec(PyObject *module)
{
#define INTERN(var, text)                                   \
    if ((var) == NULL && ((var) = PyUnicode_InternFromString(text)) == NULL) \
        return -1;
    INTERN(s_ts, "ts")
    INTERN(s_epoch, "epoch")
    INTERN(s_tid, "tid")
    INTERN(s_fast, "fast")
    INTERN(s_container, "container")
    INTERN(s_obj, "obj")
    INTERN(s_ri, "ri")
    INTERN(s_wi, "wi")
    INTERN(s_mi, "mi")
    INTERN(s_g, "g")
    INTERN(s_it, "it")
    INTERN(s_off, "off")
    INTERN(s_shared, "shared")
    INTERN(s_owner, "owner")
    INTERN(s_kind, "kind")
    INTERN(s_vc, "vc")
    INTERN(s_acquire, "acquire")
    INTERN(s_release, "release")
    INTERN(s_seq, "seq")
    INTERN(s_r, "r")
    INTERN(s_w, "w")
    INTERN(s_m, "m")
    INTERN(s_rs, "rs")
    INTERN(s_rsite, "rsite")
    INTERN(s_lock_acquired, "lock_acquired")
    INTERN(s_lock_released, "lock_released")
    INTERN(s__hooks, "_hooks")
    INTERN(s__order, "_order")
    INTERN(s__held, "_held")
    INTERN(s_held, "held")
    INTERN(s_nested, "nested")
    INTERN(s_released, "released")
    INTERN(s__order_epoch, "_order_epoch")
    INTERN(s__owned, "_owned")
    INTERN(s__lock, "_lock")
    INTERN(s__condition_enter, "_condition_enter")
    INTERN(s__TrackedLock, "_TrackedLock")
    INTERN(s__held_gen, "_held_gen")
    INTERN(s__lock_hooks, "_lock_hooks")
    INTERN(s___enter__, "__enter__")
    INTERN(s_Lock, "Lock")
    INTERN(s_RLock, "RLock")
#undef INTERN
    LookasideType = (PyTypeObject *)PyType_FromSpec(&Lookaside_spec);
    if (LookasideType == NULL) {
        return -1;
    }
    StripeType = (PyTypeObject *)PyType_FromSpec(&Stripe_spec);
    if (StripeType == NULL || PyModule_AddObjectRef(module, "Stripe", (PyObject *)StripeType) < 0) {
        return -1;
    }
    RecorderType = (PyTypeObject *)PyType_FromSpec(&Recorder_spec);
    if (RecorderType == NULL) {
        return -1;
    }
    if (PyModule_AddObjectRef(module, "Recorder", (PyObject *)RecorderType) < 0) {
        return -1;
    }
    if ((s__clock == NULL && (s__clock = PyUnicode_InternFromString("_clock")) == NULL)
        || (s_clock == NULL && (s_clock = PyUnicode_InternFromString("clock")) == NULL)
        || (s__hb_clock == NULL && (s__hb_clock = PyUnicode_InternFromString("_hb_clock")) == NULL)
        || (s__racefree_own_clock == NULL
            && (s__racefree_own_clock = PyUnicode_InternFromString("_racefree_own_clock")) == NULL)
        || (LockHooksType = (PyTypeObject *)PyType_FromSpec(&LockHooks_spec)) == NULL
        || PyModule_AddObjectRef(module, "LockHooks", (PyObject *)LockHooksType) < 0) {
        return -1;
    }
    if ((s_mutex == NULL && (s_mutex = PyUnicode_InternFromString("mutex")) == NULL)
        || (s__RawLock == NULL && (s__RawLock = PyUnicode_InternFromString("_RawLock")) == NULL)
        || (s__stands == NULL && (s__stands = PyUnicode_InternFromString("_stands")) == NULL)
        || (s__entries == NULL && (s__entries = PyUnicode_InternFromString("_entries")) == NULL)
        || (s_stand_in == NULL && (s_stand_in = PyUnicode_InternFromString("stand_in")) == NULL)
        || (HoldingMethodType = (PyTypeObject *)PyType_FromSpec(&HoldingMethod_spec)) == NULL
        || PyModule_AddObjectRef(module, "HoldingMethod", (PyObject *)HoldingMethodType) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot speedups_slots[] = {
    {Py_mod_exec, speedups_exec},
#ifdef Py_mod_multiple_interpreters
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
#endif
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
#endif
    {0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    "racefree.detector._speedups",
    "The detector's same-epoch fast paths in C (optional; access.py is the reference).",
    0,
    speedups_functions,
    speedups_slots,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    return PyModuleDef_Init(&speedups_module);
}
