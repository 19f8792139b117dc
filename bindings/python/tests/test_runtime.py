"""The GIL during long calls, garbage collection of many objects, and an offline pip install."""
import gc
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

import ciha
from helpers import ENDPOINT, client, raises, volume

SRCDIR = os.environ.get("CIHA_SRCDIR", os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILDDIR = os.environ.get("CIHA_BUILDDIR", "")


def test_gil_is_released_while_a_call_waits():
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # accepts connections, never answers
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)
            time.sleep(0.005)
    counter = threading.Thread(target=count)
    counter.start()
    started = time.monotonic()
    try:
        with client(endpoint_url="http://127.0.0.1:%d" % silent.getsockname()[1], timeout=1.0,
                    max_attempts=1) as c, raises(ciha.Error):
            c.call("ec2", "DescribeVolumes")
    finally:
        done.set()
        counter.join()
        silent.close()
    elapsed = time.monotonic() - started
    assert elapsed >= 0.9
    assert len(ticks) > 50, "the counting thread made %d steps in %.1fs" % (len(ticks), elapsed)


def rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def churn(n, vol):
    for i in range(n):
        c = client(log=lambda *a: None, log_level="debug")
        report = c.snapshots.list(volumes=[vol], policy=ciha.SnapshotPolicy("gc", keep=1))
        assert len(report) >= 0
        items = list(report)
        del items, report
        if i % 2:
            c.close()
        del c
    gc.collect()


def test_many_clients_and_reports_are_collected_without_growth():
    with client() as c:
        vol = volume(c)
    churn(100, vol)
    before = rss_kb()
    churn(1000, vol)
    grown = rss_kb() - before
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        return  # ASan holds freed memory in its quarantine: RSS says nothing there; the plain run checks it
    assert grown < 20000, "RSS grew by %d kB over 1000 clients and reports" % grown


def wheel_builder():
    """This interpreter, or the system's, when it has pip, setuptools and wheel to build offline."""
    check = "import setuptools, wheel, pip"
    for python in (sys.executable, "/usr/bin/python3"):
        if os.path.exists(python) and subprocess.run([python, "-c", check], stderr=subprocess.DEVNULL).returncode == 0:
            return python
    raise AssertionError("no Python with pip, setuptools and wheel (Debian: python3-pip python3-setuptools python3-wheel)")


def test_pip_installs_offline_into_a_target_and_calls_moto():
    python = wheel_builder()
    if not BUILDDIR or not os.path.exists(os.path.join(BUILDDIR, "libciha", ".libs", "libciha.so")):
        raise AssertionError("CIHA_BUILDDIR with a built libciha is needed")
    work = tempfile.mkdtemp(prefix="ciha-pip-")
    try:
        tree = os.path.join(work, "bindings")
        shutil.copytree(os.path.join(SRCDIR, "bindings"), tree,
                        ignore=shutil.ignore_patterns("build", "stage", "*.egg-info", "__pycache__", "ruby"))
        pcdir = os.path.join(work, "pkgconfig")
        os.makedirs(pcdir)
        with open(os.path.join(pcdir, "libciha.pc"), "w") as pc:
            pc.write("Name: libciha\nDescription: build tree\nVersion: %s\nRequires.private: jansson\n"
                     "Cflags: -I%s/libciha/include -I%s/libciha/include\nLibs: -L%s/libciha/.libs -lciha\n"
                     % (ciha.__version__, os.path.abspath(SRCDIR), BUILDDIR, BUILDDIR))
        env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1")
        target = os.path.join(work, "site")
        subprocess.run([python, "-m", "pip", "install", "--no-index", "--no-build-isolation", "--quiet",
                        "--target", target, os.path.join(tree, "python")], env=env, check=True)
        probe = ("import ciha, sys; c = ciha.Client(region='us-east-1', endpoint_url=sys.argv[1], "
                 "credentials=('AKID', 'secret')); print(ciha.__file__); print(c.whoami().account)")
        env = dict(os.environ, PYTHONPATH=target)
        env.pop("LD_LIBRARY_PATH", None)
        out = subprocess.run([python, "-c", probe, ENDPOINT], env=env, check=True,
                             stdout=subprocess.PIPE, universal_newlines=True).stdout.split()
        assert out[0].startswith(target) and out[1] == "123456789012"
    finally:
        shutil.rmtree(work, ignore_errors=True)


def test_example_nightly_backup_runs_against_moto():
    examples = os.environ.get("CIHA_EXAMPLES", os.path.join(SRCDIR, "examples", "python"))
    with client() as c:
        vol = volume(c)
    from helpers import PagerDutyReceiver
    with PagerDutyReceiver() as receiver:
        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDNIGHTLY", AWS_SECRET_ACCESS_KEY="nightly-secret",
                   AWS_REGION="us-east-1", CIHA_ENDPOINT_URL=ENDPOINT,
                   PAGERDUTY_ROUTING_KEY="R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32", PAGERDUTY_URL=receiver.url)
        script = os.path.join(examples, "nightly_backup.py")
        ok = subprocess.run([sys.executable, script, "--keep", "2", "--volume", vol], env=env)
        assert ok.returncode == 0
        assert receiver.events[-1]["event_action"] == "resolve"
        bad = subprocess.run([sys.executable, script, "--volume", "vol-00000000000000bad"], env=env)
        assert bad.returncode == 1
        assert receiver.events[-1]["event_action"] == "trigger"
        assert receiver.events[-1]["dedup_key"] == "ciha:nightly-backup"
