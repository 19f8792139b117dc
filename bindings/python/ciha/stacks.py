"""CloudFormation stacks: deploy through change sets, describe, events, wait, delete, drift, repair."""
import json
import time

from . import ciha_native as _n
from ._errors import Error, NotFoundError, error
from ._util import Record, event_callback, interrupt_callback, ms

# (success, failure) statuses per wait kind, as the AWS waiters have them.
_WAITERS = {
    "create": ({"CREATE_COMPLETE"}, {"CREATE_FAILED", "DELETE_COMPLETE", "DELETE_FAILED", "ROLLBACK_FAILED",
                                     "ROLLBACK_COMPLETE"}),
    "update": ({"UPDATE_COMPLETE"}, {"UPDATE_FAILED", "UPDATE_ROLLBACK_FAILED", "UPDATE_ROLLBACK_COMPLETE"}),
    "delete": ({"DELETE_COMPLETE"}, {"DELETE_FAILED", "CREATE_FAILED", "ROLLBACK_FAILED"}),
}


class StackEvent(Record):
    """event_id, stack_name, logical_id, physical_id, resource_type, status, reason, timestamp."""


class Change(Record):
    """action ("Add", "Modify", "Remove"), logical_id, type, replacement, dangerous."""


class Deployment:
    """What a deploy did: action ("create", "update", "none"), executed, status, change_set, stack_id, changes."""

    def __init__(self, handle):
        self._handle = handle
        h = handle
        self.action = _n.ciha_stack_deployment_action(h)
        self.executed = bool(_n.ciha_stack_deployment_executed(h))
        self.status = _n.ciha_stack_deployment_status(h)
        self.change_set = _n.ciha_stack_deployment_change_set(h)
        self.stack_id = _n.ciha_stack_deployment_stack_id(h)
        self.changes = [Change({
            "action": _n.ciha_stack_deployment_change_action(h, i),
            "logical_id": _n.ciha_stack_deployment_change_logical_id(h, i),
            "type": _n.ciha_stack_deployment_change_type(h, i),
            "replacement": _n.ciha_stack_deployment_change_replacement(h, i),
            "dangerous": bool(_n.ciha_stack_deployment_change_dangerous(h, i)),
        }) for i in range(_n.ciha_stack_deployment_change_count(h))]

    def to_json(self):
        return _n.ciha_stack_deployment_json(self._handle)

    def as_dict(self):
        return json.loads(self.to_json())

    def __repr__(self):
        return "<ciha.Deployment %s %s, %d changes>" % (self.action, self.status, len(self.changes))


class Stack:
    """A stack's description: name, id, status, reason, protected, outputs, parameters, tags, resources."""

    def __init__(self, handle):
        self._handle = handle
        d = json.loads(_n.ciha_stack_json(handle))
        self._dict = d
        self.name = _n.ciha_stack_name(handle)
        self.id = _n.ciha_stack_id(handle)
        self.status = _n.ciha_stack_status(handle)
        self.reason = _n.ciha_stack_status_reason(handle)
        self.protected = bool(_n.ciha_stack_termination_protection(handle))
        self.outputs = {_n.ciha_stack_output_key_at(handle, i): _n.ciha_stack_output_value_at(handle, i)
                        for i in range(_n.ciha_stack_outputs_count(handle))}
        self.parameters = _mapping(d.get("parameters"))
        self.tags = _mapping(d.get("tags"))
        self.resources = d.get("resources") or []

    def output(self, key, default=None):
        return self.outputs.get(key, default)

    def as_dict(self):
        return dict(self._dict)

    def __repr__(self):
        return "<ciha.Stack %s %s>" % (self.name, self.status)


class Stacks:
    """client.stacks."""

    def __init__(self, client):
        self._client = client

    @property
    def _c(self):
        return self._client.native

    def deploy(self, name, *, template=None, template_file=None, parameters=None, use_previous=(),
               snapshot_parameters=None, tags=None, capabilities=(), notification_arns=(), role_arn=None,
               timeout_minutes=0, on_failure=None, protect=None, policy=None, allow_replace=False, review=False,
               wait=True, timeout=0, poll=None, on_event=None):
        """Create or update `name` through a change set and wait; returns a Deployment.

        snapshot_parameters={"DBSnapshot": ("rds", "db-id")} resolves parameters to the newest snapshot.
        A refused deploy (stateful replacement without allow_replace) raises StateError whose
        .result is the Deployment listing the changes.
        """
        spec = _n.ciha_stack_spec_new(name)
        if template is not None:
            _n.ciha_stack_spec_set_template_body(spec, template)
        if template_file is not None:
            _n.ciha_stack_spec_set_template_file(spec, str(template_file))
        for key, value in (parameters or {}).items():
            _n.ciha_stack_spec_add_parameter(spec, key, str(value))
        for key in use_previous:
            _n.ciha_stack_spec_use_previous(spec, key)
        for key, (kind, source) in (snapshot_parameters or {}).items():
            _n.ciha_stack_spec_add_snapshot_parameter(spec, key, kind, source)
        for key, value in (tags or {}).items():
            _n.ciha_stack_spec_add_tag(spec, key, value)
        for capability in capabilities:
            _n.ciha_stack_spec_add_capability(spec, capability)
        for arn in notification_arns:
            _n.ciha_stack_spec_add_notification_arn(spec, arn)
        if role_arn:
            _n.ciha_stack_spec_set_role_arn(spec, role_arn)
        if timeout_minutes:
            _n.ciha_stack_spec_set_timeout_minutes(spec, timeout_minutes)
        if on_failure:
            _n.ciha_stack_spec_set_on_failure(spec, on_failure)
        if protect is not None:
            _n.ciha_stack_spec_set_termination_protection(spec, int(bool(protect)))
        if policy is not None:
            _n.ciha_stack_spec_set_policy_body(spec, policy if isinstance(policy, str) else json.dumps(policy))
        cb = event_callback(on_event, StackEvent) or interrupt_callback()
        try:
            handle = _n.ciha_glue_stack_deploy(self._c, spec, int(review), int(allow_replace), int(wait),
                                               int(timeout), ms(poll), cb)
        except Error as e:
            if e.result is not None:
                e.result = Deployment(e.result)
            raise
        return Deployment(handle)

    def describe(self, name):
        """The stack as a Stack; NotFoundError when it does not exist."""
        return Stack(_n.ciha_stack_describe(self._c, name))

    def exists(self, name):
        try:
            self.describe(name)
        except NotFoundError:
            return False
        return True

    def outputs(self, name):
        return self.describe(name).outputs

    def list(self, *, include_deleted=False):
        """[Record(name, id, status, updated)]."""
        return [Record(s) for s in json.loads(_n.ciha_stack_list(self._c, int(include_deleted)))]

    def events(self, name, *, follow=False, poll=5.0, limit=0):
        """A generator of StackEvent, oldest first.

        With follow=True it keeps polling (time.sleep, so Ctrl-C stops it) until the stack
        settles (no *_IN_PROGRESS status) or disappears, yielding each new event once.
        """
        seen = set()
        while True:
            try:
                batch = json.loads(_n.ciha_stack_events(self._c, name, limit))
            except NotFoundError:
                return
            for ev in reversed(batch):
                key = ev.get("event_id") or json.dumps(ev, sort_keys=True)
                if key not in seen:
                    seen.add(key)
                    yield StackEvent(ev)
            if not follow or self._settled(name):
                return
            time.sleep(poll)

    def _settled(self, name):
        try:
            status = self.describe(name).status
        except NotFoundError:
            return True
        return not status.endswith("_IN_PROGRESS")

    def wait(self, name, kind="create", *, timeout=3600.0, poll=5.0, on_event=None):
        """Wait (in Python, so Ctrl-C works) until the stack settles; returns the final status.

        kind: "create", "update", "delete" or "any". StateError on a failure state (the message names
        the failed resources), TimeoutError after `timeout` seconds.
        """
        if kind != "any" and kind not in _WAITERS:
            raise ValueError("kind must be one of create, update, delete, any")
        deadline = time.monotonic() + timeout
        failed = []
        while True:
            for ev in self.events(name):
                if ev.status and ev.status.endswith("_FAILED") and ev.event_id not in [f.event_id for f in failed]:
                    failed.append(ev)
                if on_event is not None and on_event(ev):
                    raise error("CIHA_EUSER", "on_event stopped the wait for %s" % name)
            status = self._status(name, kind)
            verdict = _verdict(kind, status)
            if verdict is True:
                return status
            if verdict is False:
                causes = "; ".join("%s %s: %s" % (f.logical_id, f.status, f.reason) for f in failed[-5:])
                raise error("CIHA_ESTATE", "stack %s ended in %s%s" % (name, status, ": " + causes if causes else ""))
            if time.monotonic() + poll > deadline:
                raise error("CIHA_ETIMEOUT", "stack %s still %s after %ss" % (name, status, timeout))
            time.sleep(poll)

    def _status(self, name, kind):
        try:
            return self.describe(name).status
        except NotFoundError:
            if kind in ("delete", "any"):
                return "DELETE_COMPLETE"
            raise

    def wait_native(self, name, kind="create", *, timeout=0, poll=None, on_event=None):
        """The library's own waiter (ciha_stack_wait); Ctrl-C is noticed at the next event."""
        kinds = {"create": 1, "update": 2, "delete": 3, "any": 4}
        cb = event_callback(on_event, StackEvent) or interrupt_callback()
        return _n.ciha_glue_stack_wait(self._c, name, kinds[kind], int(timeout), ms(poll), cb)

    def delete(self, name, *, wait=True, final_snapshots=False, snapshot_policy=None, timeout=0, poll=None,
               on_event=None):
        """Delete the stack (refused with StateError while protected), optionally after final snapshots."""
        cb = event_callback(on_event, StackEvent) or interrupt_callback()
        _n.ciha_glue_stack_delete(self._c, name, int(wait), int(final_snapshots), snapshot_policy, int(timeout),
                                  ms(poll), cb)

    def protect(self, name, on=True):
        """Termination protection on or off."""
        _n.ciha_stack_set_termination_protection(self._c, name, int(bool(on)))

    def policy(self, name):
        """The stack policy as a dict, or None."""
        text = _n.ciha_stack_policy_get(self._c, name)
        return None if text is None else json.loads(text)

    def set_policy(self, name, policy):
        _n.ciha_stack_policy_set(self._c, name, policy if isinstance(policy, str) else json.dumps(policy))

    @staticmethod
    def generate_policy(template):
        """A stack policy that forbids replacing or deleting the template's stateful resources."""
        return json.loads(_n.ciha_stack_policy_generate(template))

    @staticmethod
    def check_template(template):
        """Stateful resources lacking a Snapshot/Retain policy: [Record(logical_id, type, problem, ...)]."""
        return [Record(p) for p in json.loads(_n.ciha_stack_template_check(template))]

    def drift(self, name, *, timeout=0):
        """{"status": "DRIFTED"|"IN_SYNC", "resources": [...]}."""
        return json.loads(_n.ciha_stack_drift(self._c, name, int(timeout)))

    def diagnose(self, name, *, stale_after=0):
        """{"status", "problem", "action", "holds_data", "resources_to_skip"}."""
        return json.loads(_n.ciha_stack_diagnose(self._c, name, int(stale_after)))

    def fix(self, name, *, force=False):
        """Apply the safe action diagnose names."""
        _n.ciha_stack_fix(self._c, name, int(bool(force)))

    # -- CI agents (Auto Scaling) -------------------------------------------

    def schedule_agents(self, group, *, stop, start, time_zone="UTC", day=(1, 1, 1), night=(0, 0, 0)):
        """Scheduled actions ciha-stop / ciha-start; day and night are (min, max, desired)."""
        _n.ciha_glue_agents_schedule_set(self._c, group, stop, start, time_zone, *day, *night)

    def agent_schedules(self, group):
        return json.loads(_n.ciha_agents_schedule_list(self._c, group))

    def unschedule_agents(self, group):
        _n.ciha_agents_schedule_remove(self._c, group)

    def scale_agents(self, group, desired):
        _n.ciha_agents_scale(self._c, group, int(desired))


def _verdict(kind, status):
    if kind == "any":
        if status.endswith("_IN_PROGRESS"):
            return None
        return not status.endswith("_FAILED")
    success, failure = _WAITERS[kind]
    if status in success:
        return True
    if status in failure:
        return False
    return None


def _mapping(value):
    if value is None:
        return {}
    if isinstance(value, dict):
        return dict(value)
    return {p.get("key", p.get("ParameterKey")): p.get("value", p.get("ParameterValue")) for p in value}

