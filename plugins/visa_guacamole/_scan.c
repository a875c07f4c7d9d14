/* The Guacamole instruction scanner in C: visa_guacamole.wire.scan, element by element.
 *
 * scan(buffer, start, end) -> (complete, next)
 *
 * `buffer` holds UTF-8 bytes; an element starts at `start`. Elements are read while they lie
 * whole within buffer[:end]: LENGTH "." VALUE ("," or ";"), LENGTH counting code points.
 * `complete` is the offset just after the last ";" read (-1 when none was), `next` the offset
 * of the first element not read. ValueError when the bytes are not an instruction stream.
 *
 * It must behave exactly as wire._scan_python (the tests compare both on random streams).
 * Only lead bytes are looked at inside values; the caller decodes (and so validates) the UTF-8.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Digits of an element's length, at most (as in wire.MAX_LENGTH_DIGITS). */
#define MAX_LENGTH_DIGITS 11

/* Bytes of the UTF-8 sequence that `lead` starts; 0 if it cannot start one. */
static int sequence_length(unsigned char lead) {
    if (lead < 0x80) return 1;
    if ((lead & 0xE0) == 0xC0) return 2;
    if ((lead & 0xF0) == 0xE0) return 3;
    if ((lead & 0xF8) == 0xF0) return 4;
    return 0;
}

/* Whether data[0:size] is all ASCII, eight bytes at a time. */
static int all_ascii(const unsigned char *data, Py_ssize_t size) {
    Py_ssize_t i = 0;
    for (; i + 8 <= size; i += 8) {
        uint64_t word;
        memcpy(&word, data + i, 8);
        if (word & 0x8080808080808080ULL) return 0;
    }
    for (; i < size; i++) {
        if (data[i] & 0x80) return 0;
    }
    return 1;
}

/* Where the value of `count` code points from `pos` ends: -1 if it goes past `end`, -2 if a
 * byte that cannot start a UTF-8 sequence is met. */
static Py_ssize_t skip_code_points(const unsigned char *data, Py_ssize_t pos, Py_ssize_t end,
                                   Py_ssize_t count) {
    Py_ssize_t available = end - pos;
    if (count <= available) {
        if (all_ascii(data + pos, count)) return pos + count;
    } else if (all_ascii(data + pos, available)) {
        return -1;
    }
    while (count > 0) {
        if (pos >= end) return -1;
        int length = sequence_length(data[pos]);
        if (length == 0) return -2;
        pos += length;
        count--;
    }
    return pos <= end ? pos : -1;
}

static PyObject *scan(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "scan(buffer, start, end)");
        return NULL;
    }
    Py_ssize_t start = PyLong_AsSsize_t(args[1]);
    if (start == -1 && PyErr_Occurred()) return NULL;
    Py_ssize_t end = PyLong_AsSsize_t(args[2]);
    if (end == -1 && PyErr_Occurred()) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    if (start < 0 || end < start || end > view.len) {
        PyBuffer_Release(&view);
        PyErr_SetString(PyExc_ValueError, "start and end must lie within the buffer");
        return NULL;
    }
    const unsigned char *data = (const unsigned char *)view.buf;
    Py_ssize_t pos = start, complete = -1;
    const char *error = NULL;
    while (pos < end) {
        Py_ssize_t limit = end - pos < MAX_LENGTH_DIGITS + 1 ? end : pos + MAX_LENGTH_DIGITS + 1;
        Py_ssize_t dot = pos;
        Py_ssize_t length = 0;
        while (dot < limit && data[dot] >= '0' && data[dot] <= '9') {
            length = length * 10 + (data[dot] - '0');
            dot++;
        }
        if (dot == limit) {
            if (dot - pos > MAX_LENGTH_DIGITS) error = "bad element length";
            break; /* the length goes on in bytes not yet received */
        }
        if (data[dot] != '.' || dot == pos) {
            error = "bad element length";
            break;
        }
        Py_ssize_t value_end = skip_code_points(data, dot + 1, end, length);
        if (value_end == -2) {
            error = "not UTF-8";
            break;
        }
        if (value_end < 0 || value_end >= end) break; /* value or terminator still to come */
        unsigned char terminator = data[value_end];
        if (terminator == ';') {
            complete = value_end + 1;
        } else if (terminator != ',') {
            error = "bad element terminator";
            break;
        }
        pos = value_end + 1;
    }
    PyBuffer_Release(&view);
    if (error != NULL) {
        PyErr_Format(PyExc_ValueError, "%s at offset %zd", error, pos);
        return NULL;
    }
    return Py_BuildValue("(nn)", complete, pos);
}

static PyMethodDef methods[] = {
    {"scan", (PyCFunction)(void (*)(void))scan, METH_FASTCALL,
     "scan(buffer, start, end) -> (complete, next): read whole Guacamole elements."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_scan", "The Guacamole instruction scanner in C.", -1, methods,
};

PyMODINIT_FUNC PyInit__scan(void) { return PyModule_Create(&module); }
