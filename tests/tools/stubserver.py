#!/usr/bin/env python3
"""stubserver.py: a loopback fixture for libciha's credential providers.

Serves, on one free port of 127.0.0.1:
  * IMDS:      PUT /latest/api/token, GET /latest/meta-data/iam/security-credentials/[role]
  * container: GET /container/<anything> (checks Authorization when told to)
  * STS:       POST / with Action=AssumeRole or AssumeRoleWithWebIdentity
  * control:   POST /__stub/script (JSON merged into the script), POST /__stub/reset,
               GET /__stub/log (every request so far, with headers and what was answered)

Script keys (defaults in DEFAULT_SCRIPT):
  imds_token_status     status of the token PUT (403/404/405 make clients fall back to v1)
  imds_require_token    GETs without a valid token get 401
  imds_revoke_tokens    (action) forget every token issued so far: the next GET with one gets 401
  imds_role             the role name listed, or null for 404 (no role)
  imds_creds            {"AccessKeyId", "SecretAccessKey", "Token", "expires_in"} or any JSON
  container_auth        the Authorization value required, or null for no check
  container_creds       as imds_creds
  container_status      status of the container endpoint
  sts_expires_in        lifetime of the keys STS hands out
  sts_status            status of STS answers (non-200 gives an ErrorResponse)

Prints "PORT n" then "PID n" on stdout. Stops on SIGTERM or after --max-seconds.
"""
import argparse
import copy
import datetime
import json
import os
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_SCRIPT = {
    "imds_token_status": 200,
    "imds_require_token": True,
    "imds_role": "stub-role",
    "imds_creds": {"AccessKeyId": "ASIAIMDSSTUB", "SecretAccessKey": "imds-stub-secret",
                   "Token": "imds-stub-session-token", "expires_in": 7200},
    "container_auth": None,
    "container_creds": {"AccessKeyId": "ASIACONTAINERSTUB", "SecretAccessKey": "container-stub-secret",
                        "Token": "container-stub-session-token", "expires_in": 7200},
    "container_status": 200,
    "sts_expires_in": 3600,
    "sts_status": 200,
}

ROLES_PATH = "/latest/meta-data/iam/security-credentials/"


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.script = copy.deepcopy(DEFAULT_SCRIPT)
        self.log = []
        self.valid_tokens = set()
        self.counter = 0

    def next_number(self):
        self.counter += 1
        return self.counter


STATE = State()


def iso_in(seconds):
    when = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def creds_document(spec):
    doc = {k: v for k, v in spec.items() if k != "expires_in"}
    if "expires_in" in spec:
        doc["Expiration"] = iso_in(spec["expires_in"])
    doc.setdefault("Code", "Success")
    doc.setdefault("Type", "AWS-HMAC")
    return json.dumps(doc)


def access_key_of(authorization):
    marker = "Credential="
    if not authorization or marker not in authorization:
        return None
    return authorization.split(marker, 1)[1].split("/", 1)[0]


def sts_success(action, number, expires_in, role_arn):
    account = role_arn.split(":")[4] if role_arn.count(":") >= 5 else "123456789012"
    role = role_arn.rsplit("/", 1)[-1]
    akid = "ASIASTUB%08d" % number
    body = (
        '<{a}Response xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><{a}Result>'
        "<Credentials><AccessKeyId>{k}</AccessKeyId><SecretAccessKey>stub-sts-secret-{n}</SecretAccessKey>"
        "<SessionToken>stub-sts-session-token-{n}</SessionToken><Expiration>{e}</Expiration></Credentials>"
        "<AssumedRoleUser><AssumedRoleId>AROA:{r}</AssumedRoleId>"
        "<Arn>arn:aws:sts::{acct}:assumed-role/{r}/s</Arn></AssumedRoleUser>"
        "</{a}Result><ResponseMetadata><RequestId>req-{n}</RequestId></ResponseMetadata></{a}Response>"
    ).format(a=action, k=akid, n=number, e=iso_in(expires_in), r=role, acct=account)
    return akid, body


def sts_failure(status):
    code = "AccessDenied" if status == 403 else "InternalFailure"
    return ('<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>stub says no</Message></Error>'
            "<RequestId>req-error</RequestId></ErrorResponse>" % code)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode("utf-8", "replace") if n else ""

    def _answer(self, status, body, entry, content_type="text/plain"):
        data = body.encode()
        entry["status"] = status
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _entry(self, body):
        entry = {"method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        if not self.path.startswith("/__stub/"):
            STATE.log.append(entry)
        return entry

    def _dispatch(self):
        body = self._body()
        with STATE.lock:
            entry = self._entry(body)
            path = self.path.split("?", 1)[0]
            if path.startswith("/__stub/"):
                return self._control(path, body, entry)
            if path == "/latest/api/token":
                return self._imds_token(entry)
            if path.startswith(ROLES_PATH):
                return self._imds_get(path, entry)
            if path.startswith("/container"):
                return self._container(entry)
            if self.command == "POST":
                return self._sts(body, entry)
            return self._answer(404, "no such stub path", entry)

    do_GET = do_PUT = do_POST = _dispatch

    def _control(self, path, body, entry):
        if path == "/__stub/log":
            return self._answer(200, json.dumps(STATE.log), entry, "application/json")
        if path == "/__stub/reset":
            STATE.reset()
            return self._answer(200, "ok", entry)
        if path == "/__stub/script":
            script = json.loads(body or "{}")
            if script.pop("imds_revoke_tokens", False):
                STATE.valid_tokens.clear()
            STATE.script.update(script)
            return self._answer(200, "ok", entry)
        return self._answer(404, "unknown control path", entry)

    def _imds_token(self, entry):
        if self.command != "PUT":
            return self._answer(405, "", entry)
        if not self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
            return self._answer(400, "missing ttl header", entry)
        status = STATE.script["imds_token_status"]
        if status != 200:
            return self._answer(status, "", entry)
        token = "stub-imds-token-%d" % STATE.next_number()
        STATE.valid_tokens.add(token)
        entry["issued_token"] = token
        return self._answer(200, token, entry)

    def _imds_get(self, path, entry):
        token = self.headers.get("x-aws-ec2-metadata-token")
        if (token or STATE.script["imds_require_token"]) and token not in STATE.valid_tokens:
            return self._answer(401, "", entry)
        role = STATE.script["imds_role"]
        if role is None:
            return self._answer(404, "", entry)
        if path == ROLES_PATH:
            return self._answer(200, role + "\n", entry)
        if path[len(ROLES_PATH):] != role:
            return self._answer(404, "", entry)
        return self._answer(200, creds_document(STATE.script["imds_creds"]), entry)

    def _container(self, entry):
        wanted = STATE.script["container_auth"]
        if wanted is not None and self.headers.get("Authorization") != wanted:
            return self._answer(401, '{"message":"bad token"}', entry, "application/json")
        status = STATE.script["container_status"]
        if status != 200:
            return self._answer(status, '{"message":"scripted failure"}', entry, "application/json")
        return self._answer(200, creds_document(STATE.script["container_creds"]), entry, "application/json")

    def _sts(self, body, entry):
        form = dict(urllib.parse.parse_qsl(body))
        action = form.get("Action", "")
        entry["action"] = action
        entry["signed"] = "authorization" in entry["headers"]
        entry["signing_key"] = access_key_of(self.headers.get("Authorization"))
        entry["security_token"] = self.headers.get("X-Amz-Security-Token")
        entry["form"] = form
        if action not in ("AssumeRole", "AssumeRoleWithWebIdentity"):
            return self._answer(400, sts_failure(400), entry, "text/xml")
        status = STATE.script["sts_status"]
        if status != 200:
            return self._answer(status, sts_failure(status), entry, "text/xml")
        akid, xml = sts_success(action, STATE.next_number(), STATE.script["sts_expires_in"],
                                form.get("RoleArn", ""))
        entry["issued_key"] = akid
        return self._answer(200, xml, entry, "text/xml")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-seconds", type=float, default=300)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stop = lambda *_: threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    timer = threading.Timer(args.max_seconds, stop)
    timer.daemon = True
    timer.start()
    print("PORT %d" % server.server_address[1], flush=True)
    print("PID %d" % os.getpid(), flush=True)
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
