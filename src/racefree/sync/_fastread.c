/* racefree.sync._fastread: Snapshot.get and ShardedCounter.add as one C call each.
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
static PyObject *str_listener;  /* interned attribute names */
static PyObject *str_cell;
static PyObject *str_new_cell;
static PyObject *str_add_reporting;
static PyObject *int_one;

typedef struct {
    PyObject_HEAD
    PyObject *local; /* the counter's threading.local, set once by __init__ */
} CounterCells;

static PyMemberDef counter_members[] = {
    {"_local", Py_T_OBJECT_EX, offsetof(CounterCells, local), 0,
     "the counter's threading.local (the calling thread's cell is _local.cell)"},
    {NULL, 0, 0, 0, NULL},
};

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
    PyObject *listener = PyObject_GetAttr(hb_module, str_listener);
    if (listener == NULL) {
        return NULL;
    }
    int reporting = listener != Py_None;
    Py_DECREF(listener);
    if (reporting) {
        return PyObject_CallMethodOneArg(self, str_add_reporting, n);
    }
    PyObject *local = PyMember_GetOne((const char *)self, &counter_members[0]);
    if (local == NULL) {
        return NULL;
    }
    PyObject *cell = PyObject_GetAttr(local, str_cell);
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
    {Py_tp_members, counter_members},
    {0, NULL},
};

static PyType_Spec counter_spec = {
    .name = "racefree.sync._fastread.CounterCells",
    .basicsize = sizeof(CounterCells),
    .itemsize = 0,
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = counter_slots,
};

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
        str_listener = PyUnicode_InternFromString("listener");
        str_cell = PyUnicode_InternFromString("cell");
        str_new_cell = PyUnicode_InternFromString("_new_cell");
        str_add_reporting = PyUnicode_InternFromString("_add_reporting");
        int_one = PyLong_FromLong(1);
        if (!str_listener || !str_cell || !str_new_cell || !str_add_reporting || !int_one) {
            return -1;
        }
    }
    if (add_type(module, &published_spec, "PublishedValue") < 0) {
        return -1;
    }
    return add_type(module, &counter_spec, "CounterCells");
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
    .m_doc = "Snapshot.get and ShardedCounter.add as one C call each (optional; see snapshot.py, counter.py).",
    .m_size = 0,
    .m_slots = fastread_module_slots,
};

PyMODINIT_FUNC
PyInit__fastread(void)
{
    return PyModuleDef_Init(&fastread_module);
}
