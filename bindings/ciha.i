/*
 * ciha.i: the one SWIG interface for every language.
 *
 * Python: `swig -python -threads` makes the private module ciha.ciha_native;
 *         ciha/__init__.py is the public API.
 * Ruby:   `swig -ruby` makes Ciha::Native (SWIG spells a nested Ruby module
 *         with "::" in %module, see its Ruby chapter "Module names"); lib/ciha.rb
 *         is the public API.
 *
 * Everything in ciha/*.h is wrapped with these rules:
 *  - a ciha_result is not returned: failures raise (swig/errors.i);
 *  - `T **out` and `char **out` become return values (swig/outparams.i);
 *  - versioned options structs, callbacks and json_t values are replaced by
 *    flat functions taking arguments, callables and JSON text (swig/options.i,
 *    swig/callbacks.i);
 *  - calls that wait on the network release the Python GIL; accessors do not.
 */

#if defined(SWIGPYTHON)
%module(package="ciha") ciha_native
#elif defined(SWIGRUBY)
%module "ciha::native"
#else
%module ciha_native
#endif

%{
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include "ciha.h"
#if defined(SWIGPYTHON)
typedef PyObject *ciha_host_value;
#elif defined(SWIGRUBY)
typedef VALUE ciha_host_value;
#endif
%}

/* A host callable passes through untouched (callbacks.i keeps a reference). */
%typemap(in) ciha_host_value "$1 = $input;"

/* ---- threads: only calls that may wait on the network release the GIL --- */

#if defined(SWIGPYTHON)
%feature("nothreadallow");
%define CIHA_RELEASES_GIL(NAME) %feature("nothreadallow", "0") NAME; %enddef
CIHA_RELEASES_GIL(ciha_glue_call)
CIHA_RELEASES_GIL(ciha_glue_pager_next)
CIHA_RELEASES_GIL(ciha_glue_snapshot)
CIHA_RELEASES_GIL(ciha_glue_snapshot_restore)
CIHA_RELEASES_GIL(ciha_glue_stack_deploy)
CIHA_RELEASES_GIL(ciha_glue_stack_wait)
CIHA_RELEASES_GIL(ciha_glue_stack_delete)
CIHA_RELEASES_GIL(ciha_glue_agents_schedule_set)
CIHA_RELEASES_GIL(ciha_glue_probe_mounts)
CIHA_RELEASES_GIL(ciha_credentials_provider_get)
CIHA_RELEASES_GIL(ciha_client_whoami)
CIHA_RELEASES_GIL(ciha_stack_spec_add_snapshot_parameter)
CIHA_RELEASES_GIL(ciha_stack_describe)
CIHA_RELEASES_GIL(ciha_stack_list)
CIHA_RELEASES_GIL(ciha_stack_events)
CIHA_RELEASES_GIL(ciha_stack_set_termination_protection)
CIHA_RELEASES_GIL(ciha_stack_policy_set)
CIHA_RELEASES_GIL(ciha_stack_policy_get)
CIHA_RELEASES_GIL(ciha_stack_drift)
CIHA_RELEASES_GIL(ciha_stack_diagnose)
CIHA_RELEASES_GIL(ciha_stack_fix)
CIHA_RELEASES_GIL(ciha_agents_schedule_list)
CIHA_RELEASES_GIL(ciha_agents_schedule_remove)
CIHA_RELEASES_GIL(ciha_agents_scale)
CIHA_RELEASES_GIL(ciha_alarm_topic_ensure)
CIHA_RELEASES_GIL(ciha_alarm_subscribe)
CIHA_RELEASES_GIL(ciha_alarm_subscription_status)
CIHA_RELEASES_GIL(ciha_alarm_apply)
CIHA_RELEASES_GIL(ciha_alarm_list)
CIHA_RELEASES_GIL(ciha_alarm_drill)
CIHA_RELEASES_GIL(ciha_probe_snapshot_age)
CIHA_RELEASES_GIL(ciha_pagerduty_trigger)
CIHA_RELEASES_GIL(ciha_pagerduty_acknowledge)
CIHA_RELEASES_GIL(ciha_pagerduty_resolve)
CIHA_RELEASES_GIL(ciha_pagerduty_report_job)
#endif

%include "swig/errors.i"
%include "swig/outparams.i"

/* ---- ownership: each opaque type and what frees it ---------------------- */

CIHA_OWNED(ciha_error, ciha_error_free)
CIHA_OWNED(ciha_credentials, ciha_credentials_release)
CIHA_OWNED(ciha_credentials_provider, ciha_credentials_provider_release)
CIHA_OWNED(ciha_client, ciha_client_free)
CIHA_OWNED(ciha_identity, ciha_identity_free)
CIHA_OWNED(ciha_pager, ciha_pager_free)
CIHA_OWNED(ciha_sigv4_request, ciha_sigv4_request_free)
CIHA_OWNED(ciha_snapshot_policy, ciha_snapshot_policy_free)
CIHA_OWNED(ciha_snapshot_selector, ciha_snapshot_selector_free)
CIHA_OWNED(ciha_snapshot_report, ciha_snapshot_report_free)
CIHA_OWNED(ciha_stack_spec, ciha_stack_spec_free)
CIHA_OWNED(ciha_stack_deployment, ciha_stack_deployment_free)
CIHA_OWNED(ciha_stack, ciha_stack_free)
CIHA_OWNED(ciha_alarm_spec, ciha_alarm_spec_free)
CIHA_OWNED(ciha_alarm_set, ciha_alarm_set_free)
CIHA_OWNED(ciha_alarm_plan, ciha_alarm_plan_free)
CIHA_OWNED(ciha_pagerduty, ciha_pagerduty_free)

/* callbacks after the owned types: its functions hand out providers through `**out` */
%include "swig/callbacks.i"
#if defined(SWIGPYTHON)
%include "swig/lang_python.i"
#elif defined(SWIGRUBY)
%include "swig/lang_ruby.i"
#endif

/* ciha_error_last() and ciha_client_error() lend an error; it is never freed by the host. */
%typemap(out) const ciha_error * "$result = SWIG_NewPointerObj(SWIG_as_voidptr($1), $descriptor(ciha_error *), 0);"

/* ---- replaced by swig/options.i and swig/callbacks.i ------------------- */

%ignore ciha_client_options;
%ignore ciha_client_options_init;
%ignore ciha_client_new;
%ignore ciha_credentials_options;
%ignore ciha_credentials_options_init;
%ignore ciha_credentials_provider_new_delegate;
%ignore ciha_log_set_default;
%ignore ciha_call;
%ignore ciha_call_all;
%ignore ciha_call_encode;
%ignore ciha_pager_new;
%ignore ciha_pager_next;
%ignore ciha_sigv4_options;
%ignore ciha_sigv4_options_init;
%ignore ciha_sigv4_sign;
%ignore ciha_sigv4_presign;
%ignore ciha_snapshot_event;
%ignore ciha_snapshot_options;
%ignore ciha_snapshot_options_init;
%ignore ciha_snapshot_take;
%ignore ciha_snapshot_rotate;
%ignore ciha_snapshot_run;
%ignore ciha_snapshot_list;
%ignore ciha_snapshot_copy;
%ignore ciha_snapshot_restore_volume;
%ignore ciha_snapshot_restore_db;
%ignore ciha_stack_event;
%ignore ciha_stack_deploy_options;
%ignore ciha_stack_deploy_options_init;
%ignore ciha_stack_deploy;
%ignore ciha_stack_wait_options;
%ignore ciha_stack_wait_options_init;
%ignore ciha_stack_wait;
%ignore ciha_stack_delete_options;
%ignore ciha_stack_delete_options_init;
%ignore ciha_stack_delete;
%ignore ciha_agent_schedule;
%ignore ciha_agents_schedule_set;
%ignore ciha_probe_mounts;

/* (const void *body, size_t len): a string or bytes. */
%apply (char *STRING, size_t LENGTH) { (const void *body, size_t len) };

/* ---- the API ------------------------------------------------------------ */

#define CIHA_EXTERN(type) extern type
#define CIHA_WARN_UNUSED
%include "ciha/version.h"
%include "ciha/common.h"
%include "ciha/errors.h"
%include "ciha/log.h"
%include "ciha/credentials.h"
%include "ciha/sigv4.h"
%include "ciha/client.h"
%include "ciha/call.h"
%include "ciha/snapshot.h"
%include "ciha/stack.h"
%include "ciha/alarm.h"

%include "swig/options.i"
