/*
 * lang_ruby.i: the Ruby side of the glue: host hooks for callbacks and the
 * exception factory. Included by ciha.i after errors.i and callbacks.i.
 *
 * `%module "ciha::native"` makes the module Ciha::Native with Init_native, so
 * the shared object is ciha/native.so and lib/ciha.rb requires "ciha/native".
 *
 * Callables: ciha_host_retain() puts a callable on a keep list that one
 * hidden object marks (rb_gc_mark pins, so a compacting GC never moves a
 * VALUE that C holds). ciha_host_release() runs in a wrapper's free function,
 * that is inside the GC: it only edits the C array, never a Ruby object.
 *
 * Exceptions (and `break`/`throw`) out of a block: ciha_host_call() runs the
 * callable under rb_protect, keeps the jump's state for this thread and
 * returns -1 so that C unwinds with CIHA_EUSER; the ret typemap of errors.i
 * then resumes the same jump with rb_jump_tag, so the very exception object
 * the block raised comes out of the call. Until then no Ruby code runs (later
 * callbacks of the same call return at once), so the thread's errinfo still
 * holds it.
 */

%runtime %{
/* Strings handed out by C are UTF-8 text, not SWIG's default binary strings. */
#undef rb_str_new
#define rb_str_new(ptr, len) rb_utf8_str_new((ptr), (len))
%}

%{
typedef struct {
	VALUE *values;
	size_t count;
	size_t capacity;
} ciha_rb_keep_list;

static ciha_rb_keep_list ciha_rb_kept;
static VALUE ciha_rb_error_factory = Qnil;
static __thread int ciha_rb_pending_state;

static void ciha_rb_keep_list_mark(void *unused)
{
	size_t i;
	(void)unused;
	for (i = 0; i < ciha_rb_kept.count; i++)
		rb_gc_mark(ciha_rb_kept.values[i]);
}

static void ciha_host_retain(ciha_host_value v)
{
	if (ciha_rb_kept.count == ciha_rb_kept.capacity) {
		size_t capacity = ciha_rb_kept.capacity ? ciha_rb_kept.capacity * 2 : 16;
		VALUE *grown = realloc(ciha_rb_kept.values, capacity * sizeof *grown);
		if (!grown)
			rb_raise(rb_eNoMemError, "out of memory keeping a callable");
		ciha_rb_kept.values = grown;
		ciha_rb_kept.capacity = capacity;
	}
	ciha_rb_kept.values[ciha_rb_kept.count++] = v;
}

/* Runs inside the GC (a ciha_callback's free function): C memory only. */
static void ciha_host_release(ciha_host_value v)
{
	size_t i = ciha_rb_kept.count;
	while (i-- > 0) {
		if (ciha_rb_kept.values[i] == v) {
			ciha_rb_kept.values[i] = ciha_rb_kept.values[--ciha_rb_kept.count];
			return;
		}
	}
}

static int ciha_host_pending(void)
{
	return ciha_rb_pending_state != 0;
}

typedef struct {
	VALUE callable;
	VALUE args[3];
} ciha_rb_invocation;

static VALUE ciha_rb_invoke(VALUE data)
{
	ciha_rb_invocation *inv = (ciha_rb_invocation *)data;
	rb_thread_check_ints(); /* Ctrl-C during a long call is raised here */
	return rb_funcallv(inv->callable, rb_intern("call"), 3, inv->args);
}

static VALUE ciha_rb_str_or_nil(const char *s)
{
	return s ? rb_utf8_str_new_cstr(s) : Qnil;
}

static VALUE ciha_rb_reply_text(VALUE ret)
{
	return StringValue(ret);
}

static int ciha_host_call(ciha_callback *cb, const char *a, const char *b, const char *c, char **reply)
{
	ciha_rb_invocation inv;
	VALUE ret;
	int state = 0;
	if (ciha_rb_pending_state)
		return -1; /* a block already raised during this call: nothing more runs */
	if (!cb || NIL_P(cb->callable))
		return 0;
	inv.callable = cb->callable;
	inv.args[0] = ciha_rb_str_or_nil(a);
	inv.args[1] = ciha_rb_str_or_nil(b);
	inv.args[2] = ciha_rb_str_or_nil(c);
	ret = rb_protect(ciha_rb_invoke, (VALUE)&inv, &state);
	if (state == 0 && reply) {
		ret = rb_protect(ciha_rb_reply_text, ret, &state);
		if (state == 0)
			*reply = strdup(RSTRING_PTR(ret));
	}
	if (state != 0) {
		ciha_rb_pending_state = state;
		return -1;
	}
	return reply ? 0 : RTEST(ret);
}

/* Raise for a failed call; never returns. A block's own exception (or jump), unchanged, wins. */
static void ciha_host_raise(int code, VALUE partial)
{
	ciha_error_fields f;
	VALUE args[9];
	if (ciha_rb_pending_state) {
		int state = ciha_rb_pending_state;
		ciha_rb_pending_state = 0;
		ciha_glue_reset();
		rb_jump_tag(state);
	}
	ciha_error_fields_get(&f, code);
	args[0] = INT2NUM(f.code);
	args[1] = ciha_rb_str_or_nil(f.name);
	args[2] = ciha_rb_str_or_nil(f.message);
	args[3] = ciha_rb_str_or_nil(f.aws_code);
	args[4] = ciha_rb_str_or_nil(f.request_id);
	args[5] = ciha_rb_str_or_nil(f.service);
	args[6] = INT2NUM(f.http_status);
	args[7] = f.retryable ? Qtrue : Qfalse;
	args[8] = partial;
	ciha_glue_reset(); /* the fields are Ruby strings now */
	if (NIL_P(ciha_rb_error_factory))
		rb_raise(rb_eRuntimeError, "%s", f.message ? f.message : "libciha error");
	rb_exc_raise(rb_funcallv(ciha_rb_error_factory, rb_intern("call"), 9, args));
}
%}

%init %{
	rb_gc_register_address(&ciha_rb_error_factory);
	rb_gc_register_mark_object(Data_Wrap_Struct(0, ciha_rb_keep_list_mark, 0, &ciha_rb_kept));
%}

%inline %{
/** Register Ciha's exception factory: factory.call(code, name, message, aws_code, request_id, service,
 *  http_status, retryable, partial) returns the exception to raise. */
void ciha_set_error_factory(VALUE factory)
{
	ciha_rb_error_factory = factory;
}
%}
