"""Client, calls, pages, whoami, errors, logging and credentials callbacks against moto."""
import gc

import ciha
from helpers import SECRET, client, raises, unique, volume


def test_call_returns_a_dict_and_paginate_yields_pages():
    with client() as c:
        ids = {volume(c) for _ in range(3)}
        pages = list(c.paginate("ec2", "DescribeVolumes", MaxResults=5))
        seen = {v["volumeId"] for p in pages for v in p.get("volumeSet", [])}
        assert ids <= seen
        merged = c.call_all("ec2", "DescribeVolumes", MaxResults=5)
        assert ids <= {v["volumeId"] for v in merged["volumeSet"]}
        one = c.call("ec2", "DescribeVolumes", VolumeId=[sorted(ids)[0]])
        assert [v["volumeId"] for v in one["volumeSet"]] == [sorted(ids)[0]]


def test_paginate_is_lazy_and_follows_tokens():
    prefix = unique("lc")
    with client() as c:
        for i in range(5):
            c.call("autoscaling", "CreateLaunchConfiguration", LaunchConfigurationName="%s-%d" % (prefix, i),
                   ImageId="ami-12345678", InstanceType="t3.micro")
        pages = c.paginate("autoscaling", "DescribeLaunchConfigurations", MaxRecords=2)
        first = next(pages)
        assert len(first["LaunchConfigurations"]) == 2 and "NextToken" in first
        rest = list(pages)
        assert len(rest) >= 2 and "NextToken" not in rest[-1]
        names = {lc["LaunchConfigurationName"] for p in [first] + rest for lc in p["LaunchConfigurations"]}
        assert {"%s-%d" % (prefix, i) for i in range(5)} <= names
        merged = c.call_all("autoscaling", "DescribeLaunchConfigurations", MaxRecords=2)
        assert len(merged["LaunchConfigurations"]) == len(names) and "NextToken" not in merged


def test_whoami_has_attributes_and_as_dict():
    with client() as c:
        me = c.whoami()
        assert me.account == "123456789012"
        assert me.arn.startswith("arn:aws:sts::")
        assert me.provider == "static" and me.region == "us-east-1"
        assert me.as_dict()["endpoint"] == me.endpoint


def test_missing_volume_is_not_found_with_aws_detail():
    with client() as c, raises(ciha.NotFoundError) as caught:
        c.call("ec2", "DeleteVolume", VolumeId="vol-0123456789abcdef0")
    e = caught.value
    assert isinstance(e, ciha.Error) and isinstance(e, LookupError)
    assert e.code == "CIHA_ENOTFOUND"
    assert e.aws_code == "InvalidVolume.NotFound"
    assert e.request_id and e.http_status == 400 and e.service == "ec2"
    assert e.retryable is False
    assert "vol-0123456789abcdef0" in str(e)


def test_bad_service_is_invalid_argument_and_value_error():
    with client() as c, raises(ValueError) as caught:
        c.call("nosuchservice", "Anything")
    assert isinstance(caught.value, ciha.InvalidArgument)
    assert caught.value.code == "CIHA_EINVAL" and caught.value.aws_code is None


def test_hierarchy_is_generated_from_code_names():
    assert issubclass(ciha.AuthError, PermissionError)
    assert issubclass(ciha.TimeoutError, TimeoutError)
    assert issubclass(ciha.NetworkError, ConnectionError)
    for cls in (ciha.AlreadyExistsError, ciha.ThrottledError, ciha.StateError, ciha.AwsError, ciha.UserAbort):
        assert issubclass(cls, ciha.Error) and cls.code.startswith("CIHA_E")


def test_unknown_keyword_is_a_type_error():
    with raises(TypeError):
        ciha.Client(regoin="us-east-1")
    with raises(TypeError):
        ciha.SnapshotPolicy("p", keep_lats=3)


def test_log_callback_gets_lines_without_secrets():
    lines = []
    with client(log=lambda level, subsystem, message: lines.append((level, subsystem, message)),
                log_level="trace") as c:
        c.whoami()
    assert any(s == "http" for _, s, _ in lines)
    assert {level for level, _, _ in lines} <= {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"}
    assert all(SECRET not in m for _, _, m in lines)
    signed = [m for _, _, m in lines if "Signature=" in m]
    assert signed and all("Signature=[redacted]" in m for m in signed)


def test_exception_in_log_callback_comes_back_unchanged():
    boom = KeyError("from the log callback")

    def log(level, subsystem, message):
        if subsystem == "http":
            raise boom
    with client(log=log, log_level="debug") as c, raises(KeyError) as caught:
        c.whoami()
    assert caught.value is boom
    with raises(KeyError) as caught:  # raised while the client is being made
        client(log=lambda *a: (_ for _ in ()).throw(boom), log_level="debug")
    assert caught.value is boom


def test_credentials_callable_supplies_keys_and_its_exception_comes_back():
    calls = []

    def keys():
        calls.append(1)
        return ("AKIDFROMCALLABLE", SECRET, None)
    with client(credentials=keys) as c:
        assert c.whoami().provider == "delegate"
    assert calls

    class VaultDown(Exception):
        pass
    down = VaultDown("vault unreachable")

    def failing():
        raise down
    with client(credentials=failing) as c, raises(VaultDown) as caught:
        c.whoami()
    assert caught.value is down


def test_encode_shows_the_body_without_sending():
    body = ciha.Client.encode("ec2", "DescribeVolumes", VolumeId=["vol-1", "vol-2"])
    assert "Action=DescribeVolumes" in body and "VolumeId.2=vol-2" in body


def test_closed_client_refuses_calls():
    c = client()
    c.close()
    c.close()
    with raises(ValueError):
        c.whoami()
    gc.collect()
