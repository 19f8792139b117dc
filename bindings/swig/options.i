/*
 * options.i: the versioned options structs (and their callbacks) as flat
 * argument lists, and JSON text in place of jansson values, so that hosts
 * never build C structs or json_t. A NULL/None string or 0 means the
 * library default, exactly as in the structs. Callbacks are ciha_callback
 * objects (callbacks.i) or NULL.
 */

%{
static ciha_result ciha_json_parse(json_t **out, const char *text, const char *what)
{
	json_error_t jerr;
	*out = NULL;
	if (!text)
		return CIHA_OK;
	*out = json_loads(text, JSON_DECODE_ANY, &jerr);
	if (!*out) {
		char msg[200];
		snprintf(msg, sizeof msg, "%s is not JSON: %s", what, jerr.text);
		return ciha_glue_fail(CIHA_EINVAL, msg);
	}
	return CIHA_OK;
}

/* Hands a json_t result over as text the glue allocated (see `char **glue_out` in outparams.i). */
static ciha_result ciha_json_out(char **glue_out, json_t *value, ciha_result rc)
{
	char *text;
	if (rc != CIHA_OK || !value) {
		json_decref(value);
		return rc;
	}
	text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(value);
	if (!text)
		return ciha_glue_fail(CIHA_ENOMEM, "out of memory");
	*glue_out = text;
	return CIHA_OK;
}
%}

%inline %{
/* ---- client ------------------------------------------------------------ */

/** ciha_client_new with every ciha_client_options field as an argument. */
ciha_result ciha_glue_client_new(ciha_client **out, const char *region, const char *profile,
	const char *endpoint_url, ciha_credentials_provider *credentials, int max_attempts, long timeout_ms,
	long connect_timeout_ms, const char *retry_mode, const char *user_agent_suffix, const char *ca_bundle,
	const char *config_file, const char *credentials_file, ciha_callback *log, int log_level)
{
	ciha_client_options o = CIHA_CLIENT_OPTIONS_INIT;
	o.region = region;
	o.profile = profile;
	o.endpoint_url = endpoint_url;
	o.credentials = credentials;
	o.max_attempts = max_attempts;
	o.timeout_ms = timeout_ms;
	o.connect_timeout_ms = connect_timeout_ms;
	o.retry_mode = retry_mode;
	o.user_agent_suffix = user_agent_suffix;
	o.ca_bundle = ca_bundle;
	o.config_file = config_file;
	o.credentials_file = credentials_file;
	if (log) {
		o.log_cb = ciha_log_trampoline;
		o.log_payload = log;
		o.log_level = (ciha_log_level)log_level;
	}
	return ciha_client_new(out, &o);
}

/* ---- calls (JSON text in and out) -------------------------------------- */

/** ciha_call, ciha_call_all ("all") or ciha_call_encode ("encode") with JSON text params. */
ciha_result ciha_glue_call(char **glue_out, const char *mode, ciha_client *client, const char *service,
	const char *action, const char *params_json)
{
	json_t *params = NULL, *result = NULL;
	ciha_result rc = ciha_json_parse(&params, params_json, "params");
	if (rc == CIHA_OK && strcmp(mode, "encode") == 0) {
		char *body = NULL;
		rc = ciha_call_encode(&body, service, action, params);
		json_decref(params);
		if (rc == CIHA_OK)
			rc = ciha_json_out(glue_out, json_string(body), rc);
		ciha_free(body);
		return rc;
	}
	if (rc == CIHA_OK)
		rc = strcmp(mode, "all") == 0 ? ciha_call_all(&result, client, service, action, params)
		                              : ciha_call(&result, client, service, action, params);
	json_decref(params);
	return ciha_json_out(glue_out, result, rc);
}

/** ciha_pager_new with JSON text params. */
ciha_result ciha_glue_pager_new(ciha_pager **out, ciha_client *client, const char *service, const char *action,
	const char *params_json)
{
	json_t *params = NULL;
	ciha_result rc = ciha_json_parse(&params, params_json, "params");
	if (rc == CIHA_OK)
		rc = ciha_pager_new(out, client, service, action, params);
	json_decref(params);
	return rc;
}

/** The next page as JSON text; None/nil (CIHA_ITEROVER) after the last one. */
ciha_result ciha_glue_pager_next(char **glue_out, ciha_pager *pager)
{
	json_t *page = NULL;
	ciha_result rc = ciha_pager_next(&page, pager);
	return ciha_json_out(glue_out, page, rc);
}

/* ---- snapshots --------------------------------------------------------- */

static void ciha_glue_snapshot_options(ciha_snapshot_options *o, int dry_run, int wait, long wait_timeout_s,
	long poll_interval_ms, long long now, int concurrency, const char *pre_hook, const char *post_hook,
	ciha_callback *progress)
{
	o->dry_run = dry_run;
	o->wait = wait;
	o->wait_timeout_s = wait_timeout_s;
	o->poll_interval_ms = poll_interval_ms;
	o->now = (int64_t)now;
	o->concurrency = concurrency;
	o->pre_hook = pre_hook;
	o->post_hook = post_hook;
	if (progress) {
		o->progress = ciha_snapshot_trampoline;
		o->progress_payload = progress;
	}
}

/** ciha_snapshot_take / rotate / run / copy / list, chosen by `op`. */
ciha_result ciha_glue_snapshot(ciha_snapshot_report **out, const char *op, ciha_client *client,
	const ciha_snapshot_selector *sel, const ciha_snapshot_policy *policy, int dry_run, int wait,
	long wait_timeout_s, long poll_interval_ms, long long now, int concurrency, const char *pre_hook,
	const char *post_hook, ciha_callback *progress)
{
	ciha_snapshot_options o = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha_glue_snapshot_options(&o, dry_run, wait, wait_timeout_s, poll_interval_ms, now, concurrency, pre_hook,
	                           post_hook, progress);
	if (strcmp(op, "take") == 0)
		return ciha_snapshot_take(out, client, sel, policy, &o);
	if (strcmp(op, "rotate") == 0)
		return ciha_snapshot_rotate(out, client, sel, policy, &o);
	if (strcmp(op, "run") == 0)
		return ciha_snapshot_run(out, client, sel, policy, &o);
	if (strcmp(op, "copy") == 0)
		return ciha_snapshot_copy(out, client, sel, policy, &o);
	if (strcmp(op, "list") == 0)
		return ciha_snapshot_list(out, client, sel, policy);
	return ciha_glue_fail(CIHA_EINVAL, "unknown snapshot operation");
}

/** ciha_snapshot_restore_volume (kind "volume": where = AZ) or _restore_db (kind "db": where = new id). */
ciha_result ciha_glue_snapshot_restore(char **out, const char *kind, ciha_client *client, const char *source,
	const char *where, long wait_timeout_s, long poll_interval_ms, ciha_callback *progress)
{
	ciha_snapshot_options o = CIHA_SNAPSHOT_OPTIONS_INIT;
	ciha_glue_snapshot_options(&o, 0, 1, wait_timeout_s, poll_interval_ms, 0, 0, NULL, NULL, progress);
	if (strcmp(kind, "volume") == 0)
		return ciha_snapshot_restore_volume(out, client, source, where, &o);
	if (strcmp(kind, "db") == 0)
		return ciha_snapshot_restore_db(out, client, source, where, &o);
	return ciha_glue_fail(CIHA_EINVAL, "unknown restore kind");
}

/* ---- stacks ------------------------------------------------------------ */

/** ciha_stack_deploy with ciha_stack_deploy_options as arguments. */
ciha_result ciha_glue_stack_deploy(ciha_stack_deployment **out, ciha_client *client, const ciha_stack_spec *spec,
	int no_execute, int allow_replace, int wait, long timeout_s, long poll_interval_ms, ciha_callback *on_event)
{
	ciha_stack_deploy_options o = CIHA_STACK_DEPLOY_OPTIONS_INIT;
	o.no_execute = no_execute;
	o.allow_replace = allow_replace;
	o.wait = wait;
	o.timeout_s = timeout_s;
	o.poll_interval_ms = poll_interval_ms;
	if (on_event) {
		o.on_event = ciha_stack_event_trampoline;
		o.payload = on_event;
	}
	return ciha_stack_deploy(out, client, spec, &o);
}

/** ciha_stack_wait with ciha_stack_wait_options as arguments. */
ciha_result ciha_glue_stack_wait(char **out_status, ciha_client *client, const char *stack, int kind,
	long timeout_s, long poll_interval_ms, ciha_callback *on_event)
{
	ciha_stack_wait_options o = CIHA_STACK_WAIT_OPTIONS_INIT;
	o.timeout_s = timeout_s;
	o.poll_interval_ms = poll_interval_ms;
	if (on_event) {
		o.on_event = ciha_stack_event_trampoline;
		o.payload = on_event;
	}
	return ciha_stack_wait(out_status, client, stack, (ciha_stack_wait_kind)kind, &o);
}

/** ciha_stack_delete with ciha_stack_delete_options as arguments. */
ciha_result ciha_glue_stack_delete(ciha_client *client, const char *stack, int wait, int final_snapshots,
	const char *snapshot_policy, long timeout_s, long poll_interval_ms, ciha_callback *on_event)
{
	ciha_stack_delete_options o = CIHA_STACK_DELETE_OPTIONS_INIT;
	o.wait = wait;
	o.final_snapshots = final_snapshots;
	o.snapshot_policy = snapshot_policy;
	o.timeout_s = timeout_s;
	o.poll_interval_ms = poll_interval_ms;
	if (on_event) {
		o.on_event = ciha_stack_event_trampoline;
		o.payload = on_event;
	}
	return ciha_stack_delete(client, stack, &o);
}

/** ciha_agents_schedule_set with the ciha_agent_schedule fields as arguments. */
ciha_result ciha_glue_agents_schedule_set(ciha_client *client, const char *group, const char *stop_recurrence,
	const char *start_recurrence, const char *time_zone, int day_min, int day_max, int day_desired,
	int night_min, int night_max, int night_desired)
{
	ciha_agent_schedule s = CIHA_AGENT_SCHEDULE_INIT;
	s.group = group;
	s.stop_recurrence = stop_recurrence;
	s.start_recurrence = start_recurrence;
	if (time_zone)
		s.time_zone = time_zone;
	s.day_min = day_min;
	s.day_max = day_max;
	s.day_desired = day_desired;
	s.night_min = night_min;
	s.night_max = night_max;
	s.night_desired = night_desired;
	return ciha_agents_schedule_set(client, &s);
}

/* ---- probes and signing ------------------------------------------------ */

/** ciha_probe_mounts with the mount points (and expected sources, or null) as JSON arrays of strings. */
ciha_result ciha_glue_probe_mounts(char **out_json, ciha_client *client, const char *host,
	const char *mount_points_json, const char *expected_json, const char *mountinfo_path, int publish)
{
	json_t *mounts = NULL, *expected = NULL;
	const char **points = NULL, **sources = NULL;
	size_t n = 0, i;
	ciha_result rc = ciha_json_parse(&mounts, mount_points_json, "mount points");
	if (rc == CIHA_OK)
		rc = ciha_json_parse(&expected, expected_json, "expected sources");
	if (rc == CIHA_OK && !json_is_array(mounts))
		rc = ciha_glue_fail(CIHA_EINVAL, "mount points must be a list of strings");
	if (rc == CIHA_OK) {
		n = json_array_size(mounts);
		points = calloc(n + 1, sizeof *points);
		sources = calloc(n + 1, sizeof *sources);
		if (!points || !sources)
			rc = ciha_glue_fail(CIHA_ENOMEM, "out of memory");
	}
	for (i = 0; rc == CIHA_OK && i < n; i++) {
		points[i] = json_string_value(json_array_get(mounts, i));
		sources[i] = json_string_value(json_array_get(expected, i));
		if (!points[i])
			rc = ciha_glue_fail(CIHA_EINVAL, "mount points must be a list of strings");
	}
	if (rc == CIHA_OK)
		rc = ciha_probe_mounts(out_json, client, host, points, expected ? sources : NULL, n, mountinfo_path,
		                       publish);
	free(points);
	free(sources);
	json_decref(mounts);
	json_decref(expected);
	return rc;
}

/** ciha_sigv4_sign (expires_s < 0) or ciha_sigv4_presign (out = the signed target) with the options as arguments. */
ciha_result ciha_glue_sigv4(char **out, ciha_sigv4_request *req, const char *access_key_id,
	const char *secret_access_key, const char *session_token, const char *region, const char *service,
	long long when, int normalize_path, int sign_body, int omit_session_token, long expires_s)
{
	ciha_sigv4_options o = CIHA_SIGV4_OPTIONS_INIT;
	o.access_key_id = access_key_id;
	o.secret_access_key = secret_access_key;
	o.session_token = session_token;
	o.region = region;
	o.service = service;
	o.when = (time_t)when;
	o.normalize_path = normalize_path;
	o.sign_body = sign_body;
	o.omit_session_token = omit_session_token;
	if (expires_s < 0)
		return ciha_sigv4_sign(req, &o);
	return ciha_sigv4_presign(out, req, &o, expires_s);
}
%}
