"""EBS and RDS snapshots under a named retention policy: take, rotate, run, list, copy, restore."""
import json

from . import ciha_native as _n
from ._errors import Error
from ._util import Record, event_callback, interrupt_callback, ms

_KINDS = {1: "ebs", 2: "rds", 3: "rds-cluster"}
_TAG_KINDS = {"ebs": 1 << 1, "rds": 1 << 2, "rds-cluster": 1 << 3}


class SnapshotPolicy:
    """A retention policy.

    ciha.SnapshotPolicy(name, keep=None, keep_days=None, daily=None, weekly=None, monthly=None,
                        min=None, interval_hours=None, tags=None, copy_to=None)
    copy_to is a region name or a dict {"region", "keep", "kms_key_id"}.
    """

    def __init__(self, name, *, keep=None, keep_days=None, daily=None, weekly=None, monthly=None, min=None,
                 interval_hours=None, tags=None, copy_to=None):
        self._handle = _n.ciha_snapshot_policy_new(name)
        if keep is not None:
            _n.ciha_snapshot_policy_set_keep_last(self._handle, keep)
        if keep_days is not None:
            _n.ciha_snapshot_policy_set_keep_days(self._handle, keep_days)
        if daily is not None or weekly is not None or monthly is not None:
            _n.ciha_snapshot_policy_set_keep_gfs(self._handle, daily or 0, weekly or 0, monthly or 0)
        if min is not None:
            _n.ciha_snapshot_policy_set_min(self._handle, min)
        if interval_hours is not None:
            _n.ciha_snapshot_policy_set_interval(self._handle, int(interval_hours * 3600))
        for key, value in (tags or {}).items():
            _n.ciha_snapshot_policy_add_tag(self._handle, key, value)
        if copy_to is not None:
            copy = {"region": copy_to} if isinstance(copy_to, str) else dict(copy_to)
            _n.ciha_snapshot_policy_set_copy(self._handle, copy["region"], copy.get("keep", 0),
                                             copy.get("kms_key_id"))

    @classmethod
    def from_json(cls, text, source="<json>"):
        """A policy from JSON text (the CLI's policy file format)."""
        policy = cls.__new__(cls)
        policy._handle = _n.ciha_snapshot_policy_from_json(text, source)
        return policy

    @classmethod
    def from_file(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read(), str(path))

    @property
    def name(self):
        return _n.ciha_snapshot_policy_name(self._handle)

    def as_dict(self):
        return json.loads(_n.ciha_snapshot_policy_to_json(self._handle))

    def __repr__(self):
        return "SnapshotPolicy(%r)" % self.as_dict()


class SnapshotEvent(Record):
    """Progress while waiting: kind, target, snapshot_id, state, progress (-1 when unknown)."""


class ReportItem(Record):
    """One decision: action, kind, target, snapshot_id, reason, ok, planned, error, message, created."""


class Report:
    """The plan or outcome of a snapshot run: iterable of ReportItem.

    .failures (count), .failed (the failed items), .ok, .error (the exception of the first
    failure, or None), .as_dict(), .to_json().
    """

    def __init__(self, handle, error=None):
        self._handle = handle
        self.error = error
        self.items = [self._item(i) for i in range(_n.ciha_snapshot_report_count(handle))]

    def _item(self, i):
        h = self._handle
        outcome = _n.ciha_snapshot_report_outcome(h, i)
        return ReportItem({
            "action": _n.ciha_snapshot_report_action(h, i),
            "kind": _KINDS.get(_n.ciha_snapshot_report_kind(h, i), "unknown"),
            "target": _n.ciha_snapshot_report_target(h, i),
            "snapshot_id": _n.ciha_snapshot_report_snapshot_id(h, i),
            "reason": _n.ciha_snapshot_report_reason(h, i),
            "ok": outcome == 0 or outcome == _n.CIHA_EAGAIN,
            "planned": outcome == _n.CIHA_EAGAIN,
            "error": None if outcome in (0, _n.CIHA_EAGAIN) else _n.ciha_code_name(outcome),
            "message": _n.ciha_snapshot_report_message(h, i),
            "created": _n.ciha_snapshot_report_created(h, i),
        })

    def __iter__(self):
        return iter(self.items)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]

    @property
    def failures(self):
        return _n.ciha_snapshot_report_failures(self._handle)

    @property
    def failed(self):
        return [item for item in self.items if not item.ok]

    @property
    def ok(self):
        return self.failures == 0 and self.error is None

    def by_action(self, action):
        return [item for item in self.items if item.action == action]

    def to_json(self):
        return _n.ciha_snapshot_report_json(self._handle)

    def as_dict(self):
        return json.loads(self.to_json())

    def __repr__(self):
        return "<ciha.Report %d items, %d failures>" % (len(self.items), self.failures)


class Snapshots:
    """client.snapshots: every operation takes volumes=, dbs=, clusters=, tags= and policy=."""

    def __init__(self, client):
        self._client = client

    def take(self, **kw):
        """Snapshot each target unless its newest snapshot is younger than the interval."""
        return self._run("take", **kw)

    def rotate(self, **kw):
        """Delete what the policy no longer keeps (only snapshots libciha took under it)."""
        return self._run("rotate", **kw)

    def run(self, **kw):
        """Take, then rotate."""
        return self._run("run", **kw)

    def copy(self, **kw):
        """Copy the newest snapshots to the policy's copy region and rotate the copies there."""
        return self._run("copy", **kw)

    def list(self, *, volumes=(), dbs=(), clusters=(), tags=None, tag_kinds=None, policy):
        """The targets' snapshots (managed or not) as a Report of "list" items."""
        return self._run("list", volumes=volumes, dbs=dbs, clusters=clusters, tags=tags, tag_kinds=tag_kinds,
                         policy=policy)

    def _run(self, op, *, volumes=(), dbs=(), clusters=(), tags=None, tag_kinds=None, policy, dry_run=False,
             wait=False, wait_timeout=0, poll=None, now=0, concurrency=0, pre_hook=None, post_hook=None,
             progress=None):
        sel = _selector(volumes, dbs, clusters, tags, tag_kinds)
        cb = event_callback(progress, SnapshotEvent) or interrupt_callback()
        try:
            handle = _n.ciha_glue_snapshot(op, self._client.native, sel, _policy(policy), int(dry_run), int(wait),
                                           int(wait_timeout), ms(poll), int(now), concurrency, pre_hook,
                                           post_hook, cb)
        except Error as e:
            if e.result is None:
                raise
            return Report(e.result, error=e)  # a partial failure: the items tell which
        return Report(handle)

    def restore_volume(self, source, availability_zone, *, wait_timeout=0, poll=None, progress=None):
        """A new volume from a snapshot id (or a volume id: its newest snapshot); returns the volume id."""
        return _n.ciha_glue_snapshot_restore("volume", self._client.native, source, availability_zone,
                                             int(wait_timeout), ms(poll),
                                             event_callback(progress, SnapshotEvent) or interrupt_callback())

    def restore_db(self, source, new_db_id, *, wait_timeout=0, poll=None, progress=None):
        """A new DB instance from a manual snapshot (or a DB id: its newest); returns the DB id."""
        return _n.ciha_glue_snapshot_restore("db", self._client.native, source, new_db_id, int(wait_timeout),
                                             ms(poll), event_callback(progress, SnapshotEvent) or interrupt_callback())

    def age(self, target, *, publish=False):
        """Seconds since the newest completed snapshot of `target` (published as a metric with publish=True)."""
        return _n.ciha_probe_snapshot_age(self._client.native, target, int(publish))


def _policy(policy):
    if isinstance(policy, SnapshotPolicy):
        return policy._handle
    if isinstance(policy, dict):
        return SnapshotPolicy.from_json(json.dumps(policy), "<dict>")._handle
    raise TypeError("policy must be a ciha.SnapshotPolicy or a dict, not %s" % type(policy).__name__)


def _selector(volumes, dbs, clusters, tags, tag_kinds):
    sel = _n.ciha_snapshot_selector_new()
    for volume in _listed(volumes):
        _n.ciha_snapshot_selector_add_volume(sel, volume)
    for db in _listed(dbs):
        _n.ciha_snapshot_selector_add_db(sel, db)
    for cluster in _listed(clusters):
        _n.ciha_snapshot_selector_add_cluster(sel, cluster)
    mask = 0
    for kind in _listed(tag_kinds):
        mask |= _TAG_KINDS[kind]
    for key, value in (tags or {}).items():
        _n.ciha_snapshot_selector_add_tag(sel, key, value, mask)
    return sel


def _listed(value):
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else value

