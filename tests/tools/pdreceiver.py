#!/usr/bin/env python3
"""pdreceiver.py: a local stand-in for PagerDuty's event endpoints, for libciha's tests.

Serves, on one free port of 127.0.0.1:
  * POST /v2/enqueue                  Events API v2, validated like PagerDuty: routing_key of 32
                                      characters, event_action trigger|acknowledge|resolve, dedup_key
                                      (required to acknowledge or resolve, at most 255 characters),
                                      for a trigger payload.summary (<= 1024), payload.source and
                                      payload.severity (critical|error|warning|info).
                                      202 {"status":"success","message":"Event processed","dedup_key":..}
                                      400 {"status":"invalid event","message":"Event object is invalid",
                                           "errors":[...]}
  * POST /integration/<key>/enqueue   the CloudWatch integration URL shape: SNS HTTP(S) deliveries.
                                      SubscriptionConfirmation is recorded (and its SubscribeURL fetched
                                      when the script says confirm_subscriptions); a Notification whose
                                      Message is a CloudWatch alarm triggers (NewStateValue ALARM) or
                                      resolves (OK) the incident keyed by AlarmName.
  * GET  /__pd/incidents              {dedup_key: {status, summary, source, severity, custom_details,
                                      routing_key, via, triggers, events: [event_action, ...]}}
  * GET  /__pd/log                    every request so far but the /__pd/ ones: method, path, headers,
                                      body, status, answer
  * GET  /__pd/subscriptions          the SubscriptionConfirmation messages received
  * POST /__pd/script                 JSON merged into the script:
                                        responses: [{"status": 429|500|..., "body": "...", "delay_s": 1}]
                                          answered, in order, to the next event requests instead of
                                          processing them (after delay_s seconds; without a status the
                                          request is processed normally once the delay is over)
                                        confirm_subscriptions: true/false
  * POST /__pd/reset                  forget incidents, log, subscriptions and script

Incidents follow PagerDuty's rules: a trigger opens the incident of its dedup key (or adds to it
while open), acknowledge moves an open one to acknowledged, resolve closes it; acknowledging or
resolving an unknown or resolved incident is accepted and changes nothing.

Prints "PORT n" then "PID n" on stdout. Stops on SIGTERM or after --max-seconds.
"""
import argparse
import copy
import json
import os
import re
import signal
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_SCRIPT = {"responses": [], "confirm_subscriptions": False}
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
INTEGRATION_PATH = re.compile(r"^/integration/([^/]+)/enqueue/?$")


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.script = copy.deepcopy(DEFAULT_SCRIPT)
        self.incidents = {}
        self.log = []
        self.subscriptions = []

    def next_scripted(self):
        if self.script["responses"]:
            return self.script["responses"].pop(0)
        return None

    def apply(self, action, dedup_key, event, via, routing_key):
        """Apply one accepted event to the incident of dedup_key."""
        incident = self.incidents.get(dedup_key)
        if action == "trigger":
            if incident is None or incident["status"] == "resolved":
                incident = {"status": "triggered", "events": [], "triggers": 0,
                            "opened": (incident or {}).get("opened", 0) + 1}
                self.incidents[dedup_key] = incident
            payload = event.get("payload", {})
            incident.update({"summary": payload.get("summary"), "source": payload.get("source"),
                             "severity": payload.get("severity"),
                             "custom_details": payload.get("custom_details"),
                             "routing_key": routing_key, "via": via})
            incident["triggers"] += 1
        elif incident is not None and incident["status"] != "resolved":
            incident["status"] = "acknowledged" if action == "acknowledge" else "resolved"
        if incident is not None:
            incident["events"].append(action)


STATE = State()


def event_errors(event):
    """PagerDuty's validation of an Events API v2 body: a list of messages, empty when valid."""
    if not isinstance(event, dict):
        return ["Event object is not a JSON object"]
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str):
        errors.append("'routing_key' is missing or blank")
    elif len(key) != 32:
        errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' "
                      "or 'resolve')")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or len(dedup) > 255):
        errors.append("'dedup_key' must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is required for the '%s' event_action" % action)
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or is not an object")
        else:
            summary = payload.get("summary")
            if not isinstance(summary, str) or not summary:
                errors.append("'payload.summary' is missing or blank")
            elif len(summary) > 1024:
                errors.append("'payload.summary' is longer than 1024 characters")
            if not isinstance(payload.get("source"), str) or not payload.get("source"):
                errors.append("'payload.source' is missing or blank")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' is invalid (must be one of the following: 'critical', "
                              "'warning', 'error' or 'info')")
    return errors


def alarm_event(alarm):
    """The Events API action a CloudWatch alarm state maps to (None: ignored)."""
    state = alarm.get("NewStateValue")
    if state == "ALARM":
        return "trigger"
    if state == "OK":
        return "resolve"
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _answer(self, status, body, entry=None):
        data = json.dumps(body).encode() if not isinstance(body, (bytes, str)) else (
            body.encode() if isinstance(body, str) else body)
        if entry is not None:
            entry["status"] = status
            entry["answer"] = data.decode(errors="replace")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            if entry is not None:
                entry["client_gone"] = True   # the client timed out before the (delayed) answer

    def _read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _entry(self, body):
        entry = {"time": time.time(), "method": self.command, "path": self.path,
                 "headers": {k: v for k, v in self.headers.items()}, "body": body.decode(errors="replace")}
        if not self.path.startswith("/__pd/"):
            with STATE.lock:
                STATE.log.append(entry)
        return entry

    def do_GET(self):
        entry = self._entry(b"")
        with STATE.lock:
            if self.path == "/__pd/incidents":
                return self._answer(200, STATE.incidents, entry)
            if self.path == "/__pd/log":
                return self._answer(200, STATE.log, entry)
            if self.path == "/__pd/subscriptions":
                return self._answer(200, STATE.subscriptions, entry)
        return self._answer(404, {"status": "not found"}, entry)

    def do_POST(self):
        body = self._read_body()
        entry = self._entry(body)
        if self.path == "/__pd/reset":
            with STATE.lock:
                STATE.reset()
            return self._answer(200, {"status": "ok"}, entry)
        if self.path == "/__pd/script":
            try:
                update = json.loads(body or b"{}")
            except ValueError as err:
                return self._answer(400, {"status": "bad script", "message": str(err)}, entry)
            with STATE.lock:
                STATE.script.update(update)
            return self._answer(200, STATE.script, entry)
        match = INTEGRATION_PATH.match(self.path)
        if self.path.rstrip("/") != "/v2/enqueue" and not match:
            return self._answer(404, {"status": "not found"}, entry)
        with STATE.lock:
            scripted = STATE.next_scripted()
        if scripted is not None:
            time.sleep(float(scripted.get("delay_s", 0)))
        if scripted is not None and "status" in scripted:
            return self._answer(int(scripted["status"]),
                                scripted.get("body", {"status": "scripted", "message": "scripted failure"}),
                                entry)
        try:
            document = json.loads(body)
        except ValueError:
            return self._answer(400, {"status": "invalid event", "message": "Event object is invalid",
                                      "errors": ["Request body is not valid JSON"]}, entry)
        if match:
            return self._integration(match.group(1), document, entry)
        return self._events_v2(document, entry)

    def _events_v2(self, event, entry):
        errors = event_errors(event)
        if errors:
            return self._answer(400, {"status": "invalid event", "message": "Event object is invalid",
                                      "errors": errors}, entry)
        dedup = event.get("dedup_key") or uuid.uuid4().hex
        with STATE.lock:
            STATE.apply(event["event_action"], dedup, event, "events_v2", event["routing_key"])
        return self._answer(202, {"status": "success", "message": "Event processed", "dedup_key": dedup}, entry)

    def _integration(self, key, message, entry):
        if len(key) != 32:
            return self._answer(400, {"status": "invalid event", "message": "Event object is invalid",
                                      "errors": ["Length of integration key is incorrect (should be 32 "
                                                 "characters)"]}, entry)
        kind = message.get("Type") if isinstance(message, dict) else None
        if kind == "SubscriptionConfirmation":
            return self._confirmation(key, message, entry)
        if kind != "Notification":
            return self._answer(400, {"status": "invalid event", "message": "Event object is invalid",
                                      "errors": ["not an SNS notification (Type %r)" % (kind,)]}, entry)
        try:
            alarm = json.loads(message.get("Message") or "")
        except ValueError:
            alarm = None
        if not isinstance(alarm, dict) or not alarm.get("AlarmName"):
            return self._answer(400, {"status": "invalid event", "message": "Event object is invalid",
                                      "errors": ["Message is not a CloudWatch alarm"]}, entry)
        action = alarm_event(alarm)
        if action:
            event = {"payload": {"summary": "%s: %s" % (alarm["AlarmName"], alarm.get("NewStateReason", "")),
                                 "source": alarm.get("AlarmArn") or "cloudwatch", "severity": "critical",
                                 "custom_details": alarm}}
            with STATE.lock:
                STATE.apply(action, alarm["AlarmName"], event, "cloudwatch", key)
        return self._answer(202, {"status": "success", "message": "Event processed",
                                  "dedup_key": alarm["AlarmName"]}, entry)

    def _confirmation(self, key, message, entry):
        record = {"integration_key": key, "TopicArn": message.get("TopicArn"),
                  "SubscribeURL": message.get("SubscribeURL"), "Token": message.get("Token"),
                  "confirmed": False}
        with STATE.lock:
            confirm = STATE.script.get("confirm_subscriptions")
            STATE.subscriptions.append(record)
        if confirm and record["SubscribeURL"]:
            try:
                with urllib.request.urlopen(record["SubscribeURL"], timeout=10) as reply:
                    record["confirmed"] = 200 <= reply.status < 300
            except OSError as err:
                record["error"] = str(err)
        return self._answer(200, {"status": "success", "message": "Subscription recorded"}, entry)


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
