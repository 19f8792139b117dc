"""Alarms and PagerDuty through the Python layer."""
import ciha
from helpers import PagerDutyReceiver, client, raises, unique

KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32"


def alarm_set(prefix, topic):
    return {"prefix": prefix, "topic_arn": topic, "alarms": [
        {"name": "asg-low", "preset": "asg-below-min", "group": "ci-agents", "min": 1},
        {"name": "cpu", "namespace": "AWS/EC2", "metric": "CPUUtilization", "dimensions": {"InstanceId": "i-1"},
         "statistic": "Average", "comparison": "GreaterThanThreshold", "threshold": 90, "period": 60,
         "periods": 5, "datapoints": 3, "missing_data": "notBreaching"},
    ]}


def test_apply_plans_creates_then_is_unchanged_and_list_shows_them():
    prefix = unique("py") + "-"
    with client() as c:
        topic = c.alarms.topic(unique("alarms"))
        assert topic.startswith("arn:aws:sns:")
        dry = c.alarms.apply(alarm_set(prefix, topic), dry_run=True)
        assert isinstance(dry, ciha.Plan) and [i.action for i in dry] == ["create", "create"]
        assert all(i.planned for i in dry)
        done = c.alarms.apply(alarm_set(prefix, topic))
        assert {i.name for i in done} == {prefix + "asg-low", prefix + "cpu"} and not done.failures
        again = c.alarms.apply(alarm_set(prefix, topic))
        assert not again.changes and again.as_dict()
        listed = c.alarms.list(prefix)
        assert len(listed) == 2


def test_bad_alarm_set_is_invalid_argument_naming_the_path():
    with client() as c, raises(ciha.InvalidArgument) as caught:
        c.alarms.apply({"prefix": "x-", "alarms": [{"name": "a", "preset": "no-such-preset"}]})
    assert "alarms" in str(caught.value)


def test_pagerduty_trigger_acknowledge_resolve_and_report_job():
    with PagerDutyReceiver() as receiver:
        pd = ciha.PagerDuty(KEY, endpoint_url=receiver.url)
        key = pd.trigger("backup failed", source="ci", severity="critical", dedup_key="nightly",
                         details={"failed": 2})
        assert key == "nightly"
        pd.acknowledge(key)
        pd.resolve(key)
        pd.report_job("nightly-backup", failed=True, summary="2 volumes failed")
        actions = [(e["event_action"], e.get("dedup_key")) for e in receiver.events]
        assert actions[:3] == [("trigger", "nightly"), ("acknowledge", "nightly"), ("resolve", "nightly")]
        assert actions[3] == ("trigger", "ciha:nightly-backup")
        assert receiver.events[0]["payload"]["custom_details"] == {"failed": 2}


def test_pagerduty_errors_never_show_the_key():
    pd = ciha.PagerDuty(KEY, endpoint_url="http://127.0.0.1:9/v2/enqueue")
    with raises(ciha.Error) as caught:
        pd.trigger("x", source="ci")
    assert KEY not in str(caught.value)
