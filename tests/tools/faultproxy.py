#!/usr/bin/env python3
"""faultproxy.py: a fault-injecting HTTP proxy for libciha's retry tests.

Listens on 127.0.0.1 (port chosen by the OS, printed as "PORT <n>" then
"PID <pid>" on stdout) and forwards every request to an upstream (e.g. moto)
or, with --upstream-echo, answers a query-style success itself. Faults come
from a script given with --script or changed at run time:

  POST /__proxy/script   JSON: [fault, ...]            applied to the next requests in order
                          or {"rate": 0.2, "kinds": [...], "seed": 1}   random faults
  GET  /__proxy/log      JSON list of {time, method, path, action, fault, status}
  POST /__proxy/reset    forget the script and the log

A fault is a kind name or an object {"kind": name, ...options}; a scripted fault
with "action": NAME waits for a request of that action (others pass meanwhile):
  pass                   forward untouched
  throttling             400 query <ErrorResponse> Code Throttling
  ec2_throttle           503 EC2 <Response><Errors> Code RequestLimitExceeded
  http500 / http503      that status with an HTML body
  error                  {"status": 400, "code": "ValidationError", "message": "...",
                          "shape": "query"|"ec2", "retry_after_ms": N (sends x-amz-retry-after)}
  reset                  close the connection with SO_LINGER 0 (RST), no answer
  timeout                {"seconds": N} hold the connection without answering, then close
  truncated              Content-Length larger than the bytes sent, then close
  malformed              200 with a broken XML body
  slow                   {"seconds": N} wait, then forward
  reset_after_forward    forward (upstream acts on it), then RST instead of the answer
  timeout_after_forward  {"seconds": N} forward, then hold the answer back and close
                         (both: the request happened though the client saw no answer)

Log entries also carry "token": the request's ClientRequestToken or ClientToken, if any.
With --honour-tokens the proxy does what AWS does and moto does not: a request
repeating the action and token of an earlier successful one is answered with
that earlier answer without reaching the upstream (logged with "replayed": true).

Stdlib only. Stops on SIGTERM/SIGINT and after --max-seconds without requests.
"""
import argparse
import http.client
import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length"}
KINDS = {"pass", "throttling", "ec2_throttle", "http500", "http503", "error", "reset", "timeout",
         "truncated", "malformed", "slow", "reset_after_forward", "timeout_after_forward"}


class ScriptError(ValueError):
    pass


def normalise_fault(item):
    fault = {"kind": item} if isinstance(item, str) else dict(item)
    if fault.get("kind") not in KINDS:
        raise ScriptError("unknown fault kind %r (known: %s)" % (fault.get("kind"), ", ".join(sorted(KINDS))))
    return fault


class FaultState:
    """The script and the request log, shared by the handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.queue = []
        self.rate = None
        self.rng = random.Random(0)
        self.log = []
        self.replies = {}   # (action, token) -> the upstream's 2xx answer, for --honour-tokens
        self.last_activity = time.monotonic()

    def set_script(self, script):
        with self.lock:
            if isinstance(script, dict) and "rate" in script:
                kinds = [normalise_fault(k) for k in script.get("kinds", ["http503"])]
                self.rate = (float(script["rate"]), kinds)
                self.rng = random.Random(script.get("seed", 0))
                self.queue = []
            else:
                if isinstance(script, dict):
                    script = script.get("script", [])
                if not isinstance(script, list):
                    raise ScriptError("a script is a list of faults or {\"rate\": r, \"kinds\": [...]}")
                self.queue = [normalise_fault(f) for f in script]
                self.rate = None

    def reset(self):
        with self.lock:
            self.queue = []
            self.rate = None
            self.log = []
            self.replies = {}

    def next_fault(self, action):
        with self.lock:
            self.last_activity = time.monotonic()
            if self.queue and self.queue[0].get("action", action) == action:
                return self.queue.pop(0)
            if self.queue:
                return {"kind": "pass"}
            if self.rate and self.rng.random() < self.rate[0]:
                return dict(self.rng.choice(self.rate[1]))
            return {"kind": "pass"}

    def record(self, entry):
        with self.lock:
            self.log.append(entry)

    def earlier_reply(self, key):
        with self.lock:
            return self.replies.get(key)

    def remember_reply(self, key, reply):
        with self.lock:
            if 200 <= reply[0] < 300:
                self.replies[key] = reply

    def snapshot(self):
        with self.lock:
            return list(self.log)


def query_error(code, message):
    return ('<ErrorResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/">'
            "<Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
            "<RequestId>%s</RequestId></ErrorResponse>" % (code, message, uuid.uuid4())).encode()


def ec2_error(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error><Code>%s</Code>"
            "<Message>%s</Message></Error></Errors><RequestID>%s</RequestID></Response>"
            % (code, message, uuid.uuid4())).encode()


def html_error(status, reason):
    return ("<html><head><title>%d %s</title></head><body><h1>%s</h1></body></html>"
            % (status, reason, reason)).encode()


def echo_success(action, attempt):
    action = action or "Echo"
    return ('<%sResponse xmlns="https://ciha.invalid/doc/echo/"><%sResult><Echo>ok</Echo>'
            "<Request>%d</Request></%sResult><ResponseMetadata><RequestId>%s</RequestId>"
            "</ResponseMetadata></%sResponse>" % (action, action, attempt, action, uuid.uuid4(), action)).encode()


class ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "faultproxy/1"
    disable_nagle_algorithm = True   # headers and body go out in separate writes

    def log_message(self, fmt, *args):  # keep stdout for the PORT line, stderr quiet
        if self.server.verbose:
            sys.stderr.write("faultproxy: " + (fmt % args) + "\n")

    # Every method goes through one path.
    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_bytes(self, status, body, content_type="text/xml", extra=None, declared=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if declared is None else declared))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def handle_any(self):
        body = self.read_body()
        self.server.state.last_activity = time.monotonic()
        if self.path.startswith("/__proxy/"):
            self.control(body)
            return
        state = self.server.state
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        fault = state.next_fault((form.get("Action") or [""])[0])
        token = (form.get("ClientRequestToken") or form.get("ClientToken") or [None])[0]
        entry = {"time": time.time(), "method": self.command, "path": self.path,
                 "action": (form.get("Action") or [""])[0], "fault": fault["kind"], "status": None,
                 "token": token}
        state.record(entry)
        entry["status"] = self.apply(fault, body, entry)

    # ---- control endpoint ---------------------------------------------------
    def control(self, body):
        state = self.server.state
        if self.command == "GET" and self.path == "/__proxy/log":
            self.send_bytes(200, json.dumps(state.snapshot()).encode(), "application/json")
        elif self.command == "POST" and self.path == "/__proxy/reset":
            state.reset()
            self.send_bytes(200, b'{"status":"ok"}', "application/json")
        elif self.command == "POST" and self.path == "/__proxy/script":
            try:
                state.set_script(json.loads(body.decode() or "[]"))
            except (ValueError, TypeError, KeyError) as exc:
                self.send_bytes(400, json.dumps({"error": str(exc)}).encode(), "application/json")
                return
            self.send_bytes(200, b'{"status":"ok"}', "application/json")
        else:
            self.send_bytes(404, b'{"error":"unknown control path"}', "application/json")

    # ---- faults ---------------------------------------------------------------
    def apply(self, fault, body, entry):
        kind, action = fault["kind"], entry["action"]
        if kind == "throttling":
            self.send_bytes(400, query_error("Throttling", "Rate exceeded"))
            return 400
        if kind == "ec2_throttle":
            self.send_bytes(503, ec2_error("RequestLimitExceeded", "Request limit exceeded."))
            return 503
        if kind in ("http500", "http503"):
            status = 500 if kind == "http500" else 503
            reason = self.responses.get(status, ("",))[0]
            self.send_bytes(status, html_error(status, reason), "text/html")
            return status
        if kind == "error":
            status = int(fault.get("status", 400))
            code, message = fault.get("code", "ValidationError"), fault.get("message", "injected error")
            maker = ec2_error if fault.get("shape") == "ec2" else query_error
            extra = {"x-amz-retry-after": str(fault["retry_after_ms"])} if "retry_after_ms" in fault else None
            self.send_bytes(status, maker(code, message), extra=extra)
            return status
        if kind == "reset":
            self.reset_connection()
            return None
        if kind == "timeout":
            self.server.stopping.wait(float(fault.get("seconds", 5)))
            self.close_connection = True
            return None
        if kind == "truncated":
            payload = echo_success(action, 0)
            self.send_bytes(200, payload[: len(payload) // 2], declared=len(payload))
            self.close_connection = True
            return 200
        if kind == "malformed":
            self.send_bytes(200, b"<DescribeStacksResponse><DescribeStacksResult><Stacks><member>"
                                 b"<StackName>oops</Stack")
            return 200
        if kind == "slow":
            self.server.stopping.wait(float(fault.get("seconds", 1)))
        if kind in ("reset_after_forward", "timeout_after_forward"):
            status, _, _, _ = self.fetch(body, entry)
            entry["status"] = status   # the log shows it while the answer is still held back
            if kind == "timeout_after_forward":
                self.server.stopping.wait(float(fault.get("seconds", 5)))
                self.close_connection = True
            else:
                self.reset_connection()
            return status
        return self.forward(body, entry)

    def reset_connection(self):
        sock = self.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        # close the descriptor now: the buffered reader/writer still hold the socket object
        os.close(sock.detach())
        self.close_connection = True

    def fetch(self, body, entry):
        """The upstream's answer: (status, reason, headers, body)."""
        key = (entry["action"], entry["token"])
        if self.server.honour_tokens and entry["token"]:
            reply = self.server.state.earlier_reply(key)
            if reply:
                entry["replayed"] = True
                return reply
            reply = self.fetch_upstream(body, entry["action"])
            self.server.state.remember_reply(key, reply)
            return reply
        return self.fetch_upstream(body, entry["action"])

    def fetch_upstream(self, body, action):
        if self.server.upstream is None:
            count = sum(1 for e in self.server.state.snapshot() if e["action"] == action)
            return (200, "OK", [("Content-Type", "text/xml"), ("x-amzn-RequestId", str(uuid.uuid4()))],
                    echo_success(action, count))
        up = self.server.upstream
        conn_cls = http.client.HTTPSConnection if up.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(up.hostname, up.port or (443 if up.scheme == "https" else 80), timeout=120)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.reason, resp.getheaders(), resp.read()
        except OSError as exc:
            return 502, "Bad Gateway", [("Content-Type", "text/html")], html_error(502, "upstream unreachable: %s" % exc)
        finally:
            conn.close()

    def forward(self, body, entry):
        status, reason, headers, data = self.fetch(body, entry)
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()
        return status


class FaultProxy(ThreadingHTTPServer):
    request_queue_size = 64  # bursts of new connections must not wait for a SYN retransmit
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, upstream, verbose, honour_tokens=False):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.honour_tokens = honour_tokens
        self.upstream = urllib.parse.urlsplit(upstream) if upstream else None
        self.verbose = verbose
        self.state = FaultState()
        self.stopping = threading.Event()

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def parse_args(argv):
    p = argparse.ArgumentParser(description="fault-injecting HTTP proxy for libciha tests")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--upstream", help="forward to this base URL, e.g. http://127.0.0.1:5000")
    g.add_argument("--upstream-echo", action="store_true", help="answer a query-style success itself")
    p.add_argument("--script", default="[]", help="initial script as JSON, or @file")
    p.add_argument("--max-seconds", type=float, default=600, help="stop after this long without requests")
    p.add_argument("--honour-tokens", action="store_true",
                   help="answer a repeated ClientToken/ClientRequestToken with the earlier answer, like AWS")
    p.add_argument("--verbose", action="store_true")
    return p.parse_args(argv)


def load_script(text):
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as f:
            text = f.read()
    return json.loads(text)


def main(argv):
    args = parse_args(argv)
    proxy = FaultProxy(None if args.upstream_echo else args.upstream, args.verbose, args.honour_tokens)
    try:
        proxy.state.set_script(load_script(args.script))
    except (ValueError, OSError) as exc:
        sys.stderr.write("faultproxy: bad --script: %s\n" % exc)
        return 2
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    server = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    server.start()
    sys.stdout.write("PORT %d\nPID %d\n" % (proxy.server_address[1], os.getpid()))
    sys.stdout.flush()
    while not done.wait(0.2):
        if time.monotonic() - proxy.state.last_activity > args.max_seconds:
            sys.stderr.write("faultproxy: idle for %.0f s, stopping\n" % args.max_seconds)
            break
    proxy.stopping.set()
    proxy.shutdown()
    proxy.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
