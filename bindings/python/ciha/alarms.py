"""CloudWatch alarms reconciled as desired state, SNS topics, probes, fire drills and PagerDuty."""
import json
import os

from . import ciha_native as _n
from ._util import Record, ms


class AlarmSet:
    """Alarms under a name prefix sending ALARM and OK to one topic.

    ciha.AlarmSet(prefix, topic_arn=None, alarms=[{"name": ..., "preset": "elb-no-healthy-host", ...}
    | {"name", "namespace", "metric", "dimensions", "statistic", "comparison", "threshold", "period",
    "periods", "datapoints", "missing_data", "description", "unit"}]) (the alarms file format).
    """

    def __init__(self, prefix, *, topic_arn=None, alarms=()):
        doc = {"prefix": prefix, "alarms": list(alarms)}
        if topic_arn is not None:
            doc["topic_arn"] = topic_arn
        self._handle = _n.ciha_alarm_set_from_json(json.dumps(doc), "<AlarmSet>")

    @classmethod
    def from_json(cls, text, source="<json>"):
        alarm_set = cls.__new__(cls)
        alarm_set._handle = _n.ciha_alarm_set_from_json(text, source)
        return alarm_set

    @classmethod
    def from_file(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read(), str(path))

    @classmethod
    def coerce(cls, value):
        """An AlarmSet from an AlarmSet, a dict, JSON text or a file path."""
        if isinstance(value, AlarmSet):
            return value
        if isinstance(value, dict):
            return cls.from_json(json.dumps(value), "<dict>")
        if isinstance(value, os.PathLike) or (isinstance(value, str) and not value.lstrip().startswith("{")):
            return cls.from_file(value)
        if isinstance(value, str):
            return cls.from_json(value)
        raise TypeError("an alarm set is an AlarmSet, a dict, JSON text or a path, not %s" % type(value).__name__)

    def set_topic(self, topic_arn):
        _n.ciha_alarm_set_set_topic(self._handle, topic_arn)
        return self


class PlanItem(Record):
    """action ("create", "update", "delete", "unchanged"), name, diff, ok, planned, error."""


class Plan:
    """The result of a reconcile: iterable of PlanItem; .changes, .failures, .as_dict(), .to_json()."""

    def __init__(self, handle, error=None):
        self._handle = handle
        self.error = error
        self.items = []
        for i in range(_n.ciha_alarm_plan_count(handle)):
            outcome = _n.ciha_alarm_plan_outcome(handle, i)
            self.items.append(PlanItem({
                "action": _n.ciha_alarm_plan_action(handle, i),
                "name": _n.ciha_alarm_plan_name(handle, i),
                "diff": _n.ciha_alarm_plan_diff(handle, i),
                "ok": outcome in (0, _n.CIHA_EAGAIN),
                "planned": outcome == _n.CIHA_EAGAIN,
                "error": None if outcome in (0, _n.CIHA_EAGAIN) else _n.ciha_code_name(outcome),
            }))

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    @property
    def changes(self):
        return [item for item in self.items if item.action != "unchanged"]

    @property
    def failures(self):
        return [item for item in self.items if not item.ok]

    def to_json(self):
        return _n.ciha_alarm_plan_json(self._handle)

    def as_dict(self):
        return json.loads(self.to_json())

    def __repr__(self):
        return "<ciha.Plan %d alarms, %d changes>" % (len(self.items), len(self.changes))


class Alarms:
    """client.alarms."""

    def __init__(self, client):
        self._client = client

    @property
    def _c(self):
        return self._client.native

    def apply(self, alarm_set, *, topic_arn=None, dry_run=False):
        """Reconcile the set (AlarmSet, dict, JSON text or file path); returns a Plan."""
        alarm_set = AlarmSet.coerce(alarm_set)
        if topic_arn is not None:
            alarm_set.set_topic(topic_arn)
        return Plan(_n.ciha_alarm_apply(self._c, alarm_set._handle, int(bool(dry_run))))

    def list(self, prefix=""):
        """Alarms under `prefix` with state and actions, as a list of dicts."""
        found = json.loads(_n.ciha_alarm_list(self._c, prefix))
        return found.get("alarms", found) if isinstance(found, dict) else found

    def topic(self, name):
        """Create the SNS topic if missing; returns its ARN."""
        return _n.ciha_alarm_topic_ensure(self._c, name)

    def subscribe(self, topic_arn, endpoint_url, *, allow_http=False):
        """Subscribe a PagerDuty CloudWatch integration URL once; returns the subscription ARN."""
        return _n.ciha_alarm_subscribe(self._c, topic_arn, endpoint_url, int(bool(allow_http)))

    def subscription_status(self, topic_arn, endpoint_url):
        """"confirmed", "pending" or None (not subscribed)."""
        confirmed = _n.ciha_alarm_subscription_status(self._c, topic_arn, endpoint_url)
        return {1: "confirmed", 0: "pending"}.get(confirmed)

    def drill(self, alarm_set, endpoint_url, *, resolve_after=0.0):
        """Fire drill: checks, then ALARM and OK through the topic; returns [Record(step, ok, detail)]."""
        steps = _n.ciha_alarm_drill(self._c, AlarmSet.coerce(alarm_set)._handle, endpoint_url,
                                    ms(resolve_after))
        return [Record(s) for s in json.loads(steps)]

    def probe_mounts(self, host, mount_points, *, expected=None, mountinfo=None, publish=True):
        """Check mount points and publish VolumeMounted; StateError when one is missing."""
        text = _n.ciha_glue_probe_mounts(self._c, host, json.dumps(list(mount_points)),
                                         None if expected is None else json.dumps(list(expected)),
                                         mountinfo, int(bool(publish)))
        return json.loads(text)

    def probe_snapshot_age(self, target, *, publish=True):
        """Age in seconds of the newest snapshot of `target`, published as SnapshotAgeSeconds."""
        return _n.ciha_probe_snapshot_age(self._c, target, int(bool(publish)))


class PagerDuty:
    """PagerDuty Events API v2: ciha.PagerDuty(routing_key, endpoint_url=None, client=None).

    The routing key is never logged or put in an error message.
    """

    def __init__(self, routing_key, *, endpoint_url=None, client=None):
        self._client = client  # borrowed by the native pager for its whole life
        self._handle = _n.ciha_pagerduty_new(routing_key, endpoint_url, client.native if client else None)

    def trigger(self, summary, *, source, severity="error", dedup_key=None, details=None):
        """Open (or add to) an incident; returns its dedup key."""
        return _n.ciha_pagerduty_trigger(self._handle, dedup_key, summary, source, severity,
                                         None if details is None else json.dumps(details))

    def acknowledge(self, dedup_key):
        _n.ciha_pagerduty_acknowledge(self._handle, dedup_key)

    def resolve(self, dedup_key):
        _n.ciha_pagerduty_resolve(self._handle, dedup_key)

    def report_job(self, job, *, failed, summary=None):
        """Page for a failed job (dedup key "ciha:<job>"), or resolve that incident when it succeeded."""
        _n.ciha_pagerduty_report_job(self._handle, job, int(bool(failed)), summary)

    def close(self):
        self._handle = None
        self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
