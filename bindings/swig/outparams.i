/*
 * outparams.i: `T **out` parameters become return values owned by the host
 * (freed with the type's _free/_release when collected); `char **out`
 * strings become native strings and are freed with ciha_free at once.
 */

%include <stdint.i>
%include <typemaps.i>

%fragment("SWIG_FromCharPtr");

/*
 * An opaque libciha type that SWIG wraps as a class with only a destructor.
 * SWIG sees an empty body (the C compiler never does), so it makes a class
 * whose destructor is FREE; functions returning it through `TYPE **` hand
 * over ownership.
 */
%define CIHA_OWNED(TYPE, FREE)
%nodefaultctor TYPE;
typedef struct TYPE {} TYPE;
%extend TYPE {
	~TYPE() { FREE($self); }
}
%typemap(in, numinputs=0) TYPE ** (TYPE *tmp = NULL) "$1 = &tmp;"
%typemap(argout) TYPE ** {
	%append_output(tmp$argnum ? SWIG_NewPointerObj(SWIG_as_voidptr(tmp$argnum), $descriptor(TYPE *), SWIG_POINTER_OWN)
	                          : SWIG_FromCharPtr(NULL));
}
%enddef

/* Every `char **` in the API is a caller-owned string handed out. */
%typemap(in, numinputs=0) char ** (char *tmp = NULL) "$1 = &tmp;"
%typemap(argout) char ** {
	%append_output(SWIG_FromCharPtr(tmp$argnum));
}
%typemap(freearg) char ** {
	ciha_free(tmp$argnum);
}

/* Strings the glue itself allocated (JSON text from jansson) go back to free(), not ciha_free(). */
%typemap(freearg) char **glue_out {
	free(tmp$argnum);
}

%apply int *OUTPUT { int *confirmed };
%apply long long *OUTPUT { int64_t *out_age_s };
