/*
 * lang_python.i: the Python side of the glue: host hooks for callbacks and
 * the exception factory. Included by ciha.i after errors.i and callbacks.i.
 */

%{
/* ciha._errors registers a callable building the exception instance. */
static PyObject *ciha_py_error_factory;

/* The first exception a callback raised during the current C call (per thread). */
static __thread PyObject *ciha_py_pending_type;
static __thread PyObject *ciha_py_pending_value;
static __thread PyObject *ciha_py_pending_tb;

static void ciha_host_retain(ciha_host_value v)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	Py_XINCREF(v);
	PyGILState_Release(gil);
}

static void ciha_host_release(ciha_host_value v)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	Py_XDECREF(v);
	PyGILState_Release(gil);
}

static int ciha_host_pending(void)
{
	return ciha_py_pending_type != NULL;
}

/* Keep the current Python exception for the end of the C call; later ones are dropped. */
static void ciha_py_keep_exception(void)
{
	if (ciha_py_pending_type) {
		PyErr_Clear();
		return;
	}
	PyErr_Fetch(&ciha_py_pending_type, &ciha_py_pending_value, &ciha_py_pending_tb);
	PyErr_NormalizeException(&ciha_py_pending_type, &ciha_py_pending_value, &ciha_py_pending_tb);
	if (ciha_py_pending_tb && ciha_py_pending_value)
		PyException_SetTraceback(ciha_py_pending_value, ciha_py_pending_tb);
}

static PyObject *ciha_py_str_or_none(const char *s)
{
	if (!s)
		Py_RETURN_NONE;
	return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static int ciha_py_take_reply(PyObject *ret, char **reply)
{
	const char *text;
	if (!reply)
		return PyObject_IsTrue(ret) == 1;
	text = PyUnicode_Check(ret) ? PyUnicode_AsUTF8(ret) : NULL;
	if (!text) {
		PyErr_SetString(PyExc_TypeError, "the callback must return a str");
		return -1;
	}
	*reply = strdup(text);
	return 0;
}

static int ciha_host_call(ciha_callback *cb, const char *a, const char *b, const char *c, char **reply)
{
	PyGILState_STATE gil = PyGILState_Ensure();
	PyObject *ret = NULL;
	int rc = -1;
	if (!cb || !cb->callable) {
		PyGILState_Release(gil);
		return 0;
	}
	if (PyErr_CheckSignals() == 0) { /* Ctrl-C during a long call stops it here */
		PyObject *pa = ciha_py_str_or_none(a), *pb = ciha_py_str_or_none(b), *pc = ciha_py_str_or_none(c);
		if (pa && pb && pc)
			ret = PyObject_CallFunctionObjArgs(cb->callable, pa, pb, pc, NULL);
		Py_XDECREF(pa);
		Py_XDECREF(pb);
		Py_XDECREF(pc);
	}
	if (ret) {
		rc = ciha_py_take_reply(ret, reply);
		Py_DECREF(ret);
	}
	if (rc < 0)
		ciha_py_keep_exception();
	PyGILState_Release(gil);
	return rc;
}

static PyObject *ciha_py_build_error(int code, PyObject *partial)
{
	ciha_error_fields f;
	ciha_error_fields_get(&f, code);
	if (!ciha_py_error_factory)
		return PyObject_CallFunction(PyExc_RuntimeError, "s", f.message);
	return PyObject_CallFunction(ciha_py_error_factory, "isszzzii" "O", f.code, f.name, f.message, f.aws_code,
	                             f.request_id, f.service, f.http_status, f.retryable,
	                             partial ? partial : Py_None);
}

/* Set the Python error for a failed call: a callback's own exception, unchanged, wins. */
static void ciha_host_raise(int code, PyObject *partial)
{
	PyObject *exc;
	if (ciha_py_pending_type) {
		PyErr_Restore(ciha_py_pending_type, ciha_py_pending_value, ciha_py_pending_tb);
		ciha_py_pending_type = ciha_py_pending_value = ciha_py_pending_tb = NULL;
		return;
	}
	exc = ciha_py_build_error(code, partial);
	if (!exc)
		return; /* the factory raised: that exception stands */
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
}
%}

%inline %{
/** Register ciha._errors.from_native(code, name, message, aws_code, request_id, service, http_status, retryable, partial). */
void ciha_set_error_factory(PyObject *factory)
{
	Py_XINCREF(factory);
	Py_XDECREF(ciha_py_error_factory);
	ciha_py_error_factory = factory;
}
%}
