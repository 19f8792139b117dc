"""Shared pieces of the Python suite: the moto endpoint, clients, raises(), a PagerDuty receiver."""
import contextlib
import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import ciha

SECRET = "moto-secret-DO-NOT-LOG-0123456789"
ENDPOINT = os.environ.get("CIHA_TEST_ENDPOINT", "")


def client(**kw):
    kw.setdefault("region", "us-east-1")
    kw.setdefault("endpoint_url", ENDPOINT)
    kw.setdefault("credentials", ("AKIDPYTHONTEST", SECRET))
    return ciha.Client(**kw)


def unique(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def volume(c, size=1):
    return c.call("ec2", "CreateVolume", AvailabilityZone="us-east-1a", Size=size)["volumeId"]


@contextlib.contextmanager
def raises(cls):
    """with raises(ciha.NotFoundError) as caught: ...; caught.value is the exception."""
    class Caught:
        value = None
    caught = Caught()
    try:
        yield caught
    except cls as e:
        caught.value = e
    else:
        raise AssertionError("%s was not raised" % cls.__name__)


class PagerDutyReceiver:
    """A local Events API v2 receiver keeping what it got; use as a context manager."""

    def __init__(self):
        self.events = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.events.append(body)
                answer = json.dumps({"status": "success", "message": "Event processed",
                                     "dedup_key": body.get("dedup_key") or "generated-key"}).encode()
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/v2/enqueue" % self.server.server_address[1]

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        return False
