#!/usr/bin/env python3
"""cfnstub.py: a loopback CloudFormation fixture with realistic stack histories.

Answers the query protocol (POST /, form body, XML in the 2010-05-15 namespace,
<ErrorResponse> errors with a RequestId) for: CreateChangeSet, DescribeChangeSet,
ExecuteChangeSet, DeleteChangeSet, ListChangeSets, DescribeStacks,
DescribeStackEvents, ListStackResources, DeleteStack, UpdateTerminationProtection,
SetStackPolicy, GetStackPolicy, ContinueUpdateRollback, CancelUpdateStack,
DetectStackDrift, DescribeStackDriftDetectionStatus, DescribeStackResourceDrifts.

Operations do not finish at once: each DescribeStacks call advances every busy
stack by one step, so a waiter sees CREATE_IN_PROGRESS for several polls while
per-resource events appear (IN_PROGRESS, "Resource creation Initiated",
COMPLETE), as CloudFormation shows them. Templates are JSON.

Control:
  POST /__stub/script  JSON merged into the script; {"scenario": NAME} first
                       loads a preset (SCENARIOS below)
  POST /__stub/reset   forget every stack and the script
  GET  /__stub/log     every request so far: [{"action", "params"}]
  POST /__stub/log     forget the requests so far
Script keys:
  fail              {"Logical": "reason"}: the resource fails when created/updated
  rollback_fail     {"Logical": "reason"}: rolling the resource back fails (UPDATE_ROLLBACK_FAILED)
  hang              ["Logical"]: the resource never finishes (the stack stays *_IN_PROGRESS)
  replacement       {"Logical": "True"|"Conditional"}: Modify changes say so
  drift             {"Logical": {"status": "MODIFIED"|"DELETED", "differences": [...]}}
  changeset_polls   DescribeChangeSet calls answered CREATE_PENDING/IN_PROGRESS first (default 2)
  drift_polls       DescribeStackDriftDetectionStatus calls in progress first (default 2)
  event_page_size   DescribeStackEvents page size (default 100)
  page_size         ListStackResources / DescribeStackResourceDrifts / DescribeChangeSet page size
  age_s             new timestamps lie this many seconds in the past
  throttle          {"Action": n}: the next n calls of Action get 400 Throttling

Prints "PORT n" then "PID n". Stops on SIGTERM or after --max-seconds.
"""
import argparse
import copy
import datetime
import json
import os
import re
import signal
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

NS = "http://cloudformation.amazonaws.com/doc/2010-05-15/"
ACCOUNT = "123456789012"
REGION = "us-east-1"
STACK_TYPE = "AWS::CloudFormation::Stack"

DEFAULT_SCRIPT = {
    "fail": {}, "rollback_fail": {}, "hang": [], "replacement": {}, "drift": {},
    "changeset_polls": 2, "drift_polls": 2, "event_page_size": 100, "page_size": 100,
    "age_s": 0, "throttle": {},
}

DB_FAILURE = ('Resource handler returned message: "DB Subnet Group \'ci-db-subnets\' not found '
              '(Service: Rds, Status Code: 404, Request ID: 4b1b0f3e-5a57-4a4b-9b58-0d3c5c0a8e11)" '
              '(RequestToken: 0a1e6a64-c5b6-8f0e-9d1b-3f6a2c3b9d10, HandlerErrorCode: NotFound)')
SG_ROLLBACK_FAILURE = ('Resource handler returned message: "resource sg-0a1b2c3d4e5f is in use by '
                       'eni-0f1e2d3c4b5a (Service: Ec2, Status Code: 400)" (HandlerErrorCode: ResourceConflict)')
WEB_UPDATE_FAILURE = ('Resource handler returned message: "The image id \'[ami-00000000]\' does not exist '
                      '(Service: Ec2, Status Code: 400)" (HandlerErrorCode: InvalidRequest)')

SCENARIOS = {
    "happy": {},
    "create-fails": {"fail": {"Db": DB_FAILURE}},
    "update-fails": {"fail": {"Web": WEB_UPDATE_FAILURE}},
    "update-rollback-fails": {"fail": {"Web": WEB_UPDATE_FAILURE}, "rollback_fail": {"Sg": SG_ROLLBACK_FAILURE}},
    "db-replacement": {"replacement": {"Db": "True"}},
    "drifted": {"drift": {
        "Sg": {"status": "MODIFIED", "differences": [
            {"PropertyPath": "/SecurityGroupIngress/0/CidrIp", "ExpectedValue": "10.0.0.0/16",
             "ActualValue": "0.0.0.0/0", "DifferenceType": "NOT_EQUAL"}]},
        "Vol": {"status": "DELETED", "differences": []}}},
    "paged-events": {"event_page_size": 3, "page_size": 2},
    "stale-update": {"hang": ["Web"], "age_s": 7200},
}


def now_iso(age_s=0):
    t = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=age_s)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


class StubError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def validation(message):
    return StubError("ValidationError", message)


# ---- the simulated CloudFormation -------------------------------------------------------------


class Stack:
    def __init__(self, engine, name):
        self.engine = engine
        self.name = name
        self.id = "arn:aws:cloudformation:%s:%s:stack/%s/%s" % (REGION, ACCOUNT, name, uuid.uuid4())
        self.status = "REVIEW_IN_PROGRESS"
        self.reason = None
        self.created = engine.stamp()
        self.updated = None
        self.template = {"Resources": {}}
        self.parameters = {}
        self.tags = []
        self.capabilities = []
        self.notification_arns = []
        self.protection = False
        self.policy = None
        self.resources = {}   # logical -> {type, physical, status, reason, updated, props}
        self.events = []      # oldest first
        self.steps = []       # pending callables, one per DescribeStacks poll
        self.deleted = False
        self.tokens = set()
        self.on_failure = "ROLLBACK"

    # events
    def event(self, logical, rtype, status, reason=None, physical=None):
        stamp = self.engine.stamp()
        if logical == self.name and rtype == STACK_TYPE:
            physical = self.id
            self.status, self.reason = status, reason
            if not status.startswith("REVIEW") and not status.startswith("CREATE"):
                self.updated = stamp
        else:
            res = self.resources.setdefault(logical, {"type": rtype, "physical": None})
            res["status"], res["reason"], res["updated"] = status, reason, stamp
            if physical:
                res["physical"] = physical
            physical = res["physical"]
        self.events.append({"EventId": "%s-%s-%s" % (logical, status, uuid.uuid4()), "StackId": self.id,
                            "StackName": self.name, "LogicalResourceId": logical,
                            "PhysicalResourceId": physical or "", "ResourceType": rtype, "Timestamp": stamp,
                            "ResourceStatus": status, "ResourceStatusReason": reason})

    def stack_event(self, status, reason=None):
        self.event(self.name, STACK_TYPE, status, reason)

    def advance(self):
        if self.steps:
            self.steps.pop(0)()

    def outputs(self):
        out = []
        for key, spec in (self.template.get("Outputs") or {}).items():
            value = spec.get("Value")
            if isinstance(value, dict) and "Ref" in value:
                ref = value["Ref"]
                value = self.parameters.get(ref) or (self.resources.get(ref) or {}).get("physical") or ""
            out.append((key, str(value)))
        return out


def physical_id(logical, rtype):
    short = uuid.uuid4().hex[:17]
    prefixes = {"AWS::EC2::Volume": "vol-", "AWS::EC2::SecurityGroup": "sg-", "AWS::EC2::Instance": "i-"}
    if rtype == "AWS::RDS::DBInstance":
        return "ci-%s-%s" % (logical.lower(), short[:8])
    return prefixes.get(rtype, "%s-" % logical.lower()) + short


class Engine:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        self.script = copy.deepcopy(DEFAULT_SCRIPT)
        self.stacks = []
        self.change_sets = {}
        self.drifts = {}
        self.log = []
        self.polls = {}

    def stamp(self):
        return now_iso(self.script.get("age_s", 0))

    def find(self, name_or_id, include_deleted_by_id=True):
        for s in reversed(self.stacks):
            if s.id == name_or_id and (include_deleted_by_id or not s.deleted):
                return s
            if s.name == name_or_id and not s.deleted:
                return s
        return None

    def need(self, name_or_id):
        s = self.find(name_or_id)
        if not s:
            raise validation("Stack with id %s does not exist" % name_or_id)
        return s

    # ---- operations as step lists ----

    def schedule_create(self, s, resources):
        s.stack_event("CREATE_IN_PROGRESS", "User Initiated")
        steps = [lambda: [s.event(l, r["Type"], "CREATE_IN_PROGRESS") for l, r in resources]]
        for logical, res in resources:
            steps.append(self.create_step(s, logical, res["Type"], resources))
        steps.append(lambda: self.finish_create(s, resources))
        s.steps = steps

    def create_step(self, s, logical, rtype, resources):
        def step():
            if s.status != "CREATE_IN_PROGRESS":
                return
            if logical in self.script["hang"]:
                s.steps.insert(0, step)
                return
            reason = self.script["fail"].get(logical)
            if reason:
                s.event(logical, rtype, "CREATE_FAILED", reason)
                self.cancel_others(s, resources, "CREATE", "Resource creation cancelled")
                failed = [l for l, _ in resources if s.resources.get(l, {}).get("status") == "CREATE_FAILED"]
                self.start_rollback(s, resources, failed)
                return
            s.event(logical, rtype, "CREATE_IN_PROGRESS", "Resource creation Initiated", physical_id(logical, rtype))
            s.event(logical, rtype, "CREATE_COMPLETE")
        return step

    def cancel_others(self, s, resources, verb, reason):
        for other, res in resources:
            if s.resources.get(other, {}).get("status") == verb + "_IN_PROGRESS":
                s.event(other, res["Type"], verb + "_FAILED", reason)

    def finish_create(self, s, resources):
        if s.status == "CREATE_IN_PROGRESS":
            s.stack_event("CREATE_COMPLETE")

    def start_rollback(self, s, resources, failed):
        why = "The following resource(s) failed to create: [%s]. " % ", ".join(failed)
        if s.on_failure == "DO_NOTHING":
            s.steps = []
            s.stack_event("CREATE_FAILED", why.strip())
            return
        if s.on_failure == "DELETE":
            s.steps = []
            s.stack_event("DELETE_IN_PROGRESS", why + "Delete requested by user.")
            s.steps = self.delete_steps(s)
            return
        s.stack_event("ROLLBACK_IN_PROGRESS", why + "Rollback requested by user.")
        steps = []
        for logical, res in reversed(resources):
            if logical in s.resources:
                steps.append(self.delete_resource_step(s, logical, res["Type"]))
        steps.append(lambda: s.stack_event("ROLLBACK_COMPLETE"))
        s.steps = steps

    def delete_resource_step(self, s, logical, rtype):
        def step():
            res = s.resources.get(logical, {})
            if res.get("physical"):
                s.event(logical, rtype, "DELETE_IN_PROGRESS")
            policy = (s.template.get("Resources", {}).get(logical) or {}).get("DeletionPolicy")
            s.event(logical, rtype, "DELETE_SKIPPED" if policy == "Retain" else "DELETE_COMPLETE")
        return step

    def delete_steps(self, s):
        steps = []
        for logical in reversed(list(s.resources)):
            if s.resources[logical].get("status") not in ("DELETE_COMPLETE",):
                steps.append(self.delete_resource_step(s, logical, s.resources[logical]["type"]))

        def done():
            s.stack_event("DELETE_COMPLETE")
            s.deleted = True
        steps.append(done)
        return steps

    def schedule_update(self, s, cs):
        old_template, old_params = s.template, s.parameters
        s.stack_event("UPDATE_IN_PROGRESS", "User Initiated")
        s.template, s.parameters = cs["template"], cs["parameters"]
        changes = cs["changes"]
        touched = []
        steps = []
        for ch in changes:
            steps.append(self.update_step(s, ch, touched, changes, old_template, old_params))
        steps.append(lambda: self.finish_update(s, changes))
        s.steps = steps

    def update_step(self, s, ch, touched, changes, old_template, old_params):
        logical, rtype, action = ch["LogicalResourceId"], ch["ResourceType"], ch["Action"]

        def step():
            if s.status != "UPDATE_IN_PROGRESS":
                return
            if logical in self.script["hang"]:
                s.event(logical, rtype, "UPDATE_IN_PROGRESS")
                s.steps = []   # never finishes: only CancelUpdateStack moves it on
                return
            if action == "Remove":
                return
            verb = "CREATE" if action == "Add" else "UPDATE"
            s.event(logical, rtype, verb + "_IN_PROGRESS")
            reason = self.script["fail"].get(logical)
            if reason:
                s.event(logical, rtype, verb + "_FAILED", reason)
                self.update_failed(s, logical, touched, old_template, old_params)
                return
            touched.append((logical, rtype, action, s.resources[logical].get("physical")))
            if action == "Modify" and ch.get("Replacement") == "True":
                s.event(logical, rtype, "UPDATE_IN_PROGRESS",
                        "Requested update requires the creation of a new physical resource; hence creating one.",
                        physical_id(logical, rtype))
            elif action == "Add":
                s.event(logical, rtype, "CREATE_IN_PROGRESS", "Resource creation Initiated",
                        physical_id(logical, rtype))
            s.event(logical, rtype, verb + "_COMPLETE")
        return step

    def update_failed(self, s, logical, touched, old_template, old_params):
        s.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", "The following resource(s) failed to update: [%s]. " % logical)
        s.template, s.parameters = old_template, old_params
        steps = []
        for t_logical, t_type, t_action, _ in reversed(touched + [(logical, s.resources[logical]["type"],
                                                                    "Modify", None)]):
            steps.append(self.rollback_step(s, t_logical, t_type, t_action))
        steps.append(lambda: self.finish_rollback(s))
        s.steps = steps

    def rollback_step(self, s, logical, rtype, action):
        def step():
            if action == "Add":
                s.event(logical, rtype, "DELETE_IN_PROGRESS")
                s.event(logical, rtype, "DELETE_COMPLETE")
                return
            s.event(logical, rtype, "UPDATE_IN_PROGRESS")
            reason = self.script["rollback_fail"].get(logical)
            if reason:
                s.event(logical, rtype, "UPDATE_FAILED", reason)
            else:
                s.event(logical, rtype, "UPDATE_COMPLETE")
        return step

    def finish_rollback(self, s):
        failed = [l for l, r in s.resources.items() if r.get("status") == "UPDATE_FAILED"]
        if failed:
            s.stack_event("UPDATE_ROLLBACK_FAILED", "The following resource(s) failed to update: [%s]. "
                          % ", ".join(failed))
            return
        s.stack_event("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        s.steps = [lambda: s.stack_event("UPDATE_ROLLBACK_COMPLETE")]

    def finish_update(self, s, changes):
        if s.status != "UPDATE_IN_PROGRESS":
            return
        s.stack_event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        steps = []
        for ch in changes:
            if ch["Action"] == "Remove":
                steps.append(self.removal_step(s, ch["LogicalResourceId"], ch["ResourceType"]))
        steps.append(lambda: s.stack_event("UPDATE_COMPLETE"))
        s.steps = steps

    def removal_step(self, s, logical, rtype):
        def step():
            s.event(logical, rtype, "DELETE_IN_PROGRESS")
            s.event(logical, rtype, "DELETE_COMPLETE")
            s.resources.pop(logical, None)
        return step

    # ---- change sets ----

    def changes_between(self, s, template, params):
        old = s.template.get("Resources", {}) if s.status != "REVIEW_IN_PROGRESS" else {}
        new = template.get("Resources", {})
        changed_params = {k for k in set(params) | set(s.parameters) if params.get(k) != s.parameters.get(k)}
        changes = []
        for logical, res in new.items():
            if logical not in old:
                changes.append({"Action": "Add", "LogicalResourceId": logical, "ResourceType": res["Type"]})
                continue
            refs = set(re.findall(r'"Ref": "([^"]+)"', json.dumps(res)))
            if res != old[logical] or refs & changed_params:
                changes.append({"Action": "Modify", "LogicalResourceId": logical, "ResourceType": res["Type"],
                                "PhysicalResourceId": (s.resources.get(logical) or {}).get("physical"),
                                "Replacement": self.script["replacement"].get(logical, "False")})
        for logical, res in old.items():
            if logical not in new:
                changes.append({"Action": "Remove", "LogicalResourceId": logical, "ResourceType": res["Type"],
                                "PhysicalResourceId": (s.resources.get(logical) or {}).get("physical")})
        return changes

    def resolve_parameters(self, s, template, form):
        declared = template.get("Parameters") or {}
        given = members(form, "Parameters")
        values = {}
        for p in given:
            key = p.get("ParameterKey")
            if key not in declared:
                raise validation("Parameters: [%s] do not exist in the template" % key)
            if p.get("UsePreviousValue") == "true":
                if key not in s.parameters:
                    raise validation("Invalid input for parameter key %s. Cannot specify usePreviousValue as true "
                                     "for a parameter key not in the previous template" % key)
                values[key] = s.parameters[key]
            else:
                values[key] = p.get("ParameterValue", "")
        missing = [k for k, d in declared.items() if k not in values and "Default" not in d]
        if missing:
            raise validation("Parameters: [%s] must have values" % ", ".join(missing))
        for k, d in declared.items():
            values.setdefault(k, str(d.get("Default")))
        return values


def members(form, prefix):
    """Decode Prefix.member.N(.Field) form keys into a list of dicts or strings."""
    items = {}
    pat = re.compile(re.escape(prefix) + r"\.member\.(\d+)(?:\.(\w+))?$")
    for key, value in form.items():
        m = pat.match(key)
        if not m:
            continue
        n, field = int(m.group(1)), m.group(2)
        if field:
            items.setdefault(n, {})[field] = value
        else:
            items[n] = value
    return [items[n] for n in sorted(items)]


ENGINE = Engine()

# ---- XML ----------------------------------------------------------------------------------------


def el(name, value):
    if value is None:
        return ""
    if isinstance(value, bool):
        value = "true" if value else "false"
    return "<%s>%s</%s>" % (name, escape(str(value)), name)


def member_list(name, items, render):
    return "<%s>%s</%s>" % (name, "".join("<member>%s</member>" % render(i) for i in items), name)


def respond(action, inner):
    return ('<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>%s</RequestId>'
            '</ResponseMetadata></%sResponse>' % (action, NS, action, inner, action, uuid.uuid4(), action))


def respond_empty(action):
    return ('<%sResponse xmlns="%s"><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>'
            % (action, NS, uuid.uuid4(), action))


def error_body(code, message):
    return ('<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>'
            '<RequestId>%s</RequestId></ErrorResponse>' % (NS, code, escape(message), uuid.uuid4()))


def stack_xml(s):
    params = member_list("Parameters", sorted(s.parameters.items()),
                         lambda kv: el("ParameterKey", kv[0]) + el("ParameterValue", kv[1]))
    outputs = member_list("Outputs", s.outputs(), lambda kv: el("OutputKey", kv[0]) + el("OutputValue", kv[1]))
    tags = member_list("Tags", s.tags, lambda t: el("Key", t["Key"]) + el("Value", t["Value"]))
    return (el("StackId", s.id) + el("StackName", s.name) + el("CreationTime", s.created) +
            el("LastUpdatedTime", s.updated) + el("StackStatus", s.status) + el("StackStatusReason", s.reason) +
            el("DisableRollback", s.on_failure == "DO_NOTHING") + params + outputs + tags +
            member_list("Capabilities", s.capabilities, escape) +
            member_list("NotificationARNs", s.notification_arns, escape) +
            el("EnableTerminationProtection", s.protection) +
            "<DriftInformation>%s</DriftInformation>" % el("StackDriftStatus", "NOT_CHECKED"))


def event_xml(e):
    return "".join(el(k, e[k]) for k in ("StackId", "EventId", "StackName", "LogicalResourceId", "PhysicalResourceId",
                                         "ResourceType", "Timestamp", "ResourceStatus", "ResourceStatusReason"))


def page(items, form, size):
    start = int(form.get("NextToken", "0") or 0)
    chunk = items[start:start + size]
    token = str(start + size) if start + size < len(items) else None
    return chunk, token


# ---- actions ------------------------------------------------------------------------------------


def check_throttle(action):
    left = ENGINE.script["throttle"].get(action, 0)
    if left:
        ENGINE.script["throttle"][action] = left - 1
        raise StubError("Throttling", "Rate exceeded")


def a_describe_stacks(form):
    name = form.get("StackName")
    if name:
        stacks = [ENGINE.need(name)]
    else:
        stacks = [s for s in ENGINE.stacks if not s.deleted]
    for s in stacks:
        s.advance()
    return member_list("Stacks", stacks, stack_xml)


def a_describe_stack_events(form):
    s = ENGINE.need(form.get("StackName", ""))
    events = list(reversed(s.events))
    token = form.get("NextToken")
    if token:
        # A cursor: the id of the first event of the next page, stable while new events arrive.
        ids = [e["EventId"] for e in events]
        if token not in ids:
            raise validation("Invalid NextToken")
        events = events[ids.index(token):]
    size = ENGINE.script["event_page_size"]
    chunk, rest = events[:size], events[size:]
    return member_list("StackEvents", chunk, event_xml) + el("NextToken", rest[0]["EventId"] if rest else None)


def a_list_stack_resources(form):
    s = ENGINE.need(form.get("StackName", ""))
    items = [(l, r) for l, r in s.resources.items() if r.get("status")]
    chunk, token = page(items, form, ENGINE.script["page_size"])
    return member_list("StackResourceSummaries", chunk, lambda lr: (
        el("LogicalResourceId", lr[0]) + el("PhysicalResourceId", lr[1].get("physical")) +
        el("ResourceType", lr[1]["type"]) + el("LastUpdatedTimestamp", lr[1].get("updated")) +
        el("ResourceStatus", lr[1]["status"]) + el("ResourceStatusReason", lr[1].get("reason")))) + el("NextToken", token)


def parse_template(body):
    try:
        template = json.loads(body)
    except ValueError as e:
        raise validation("Template format error: JSON not well-formed. (%s)" % e)
    if not isinstance(template.get("Resources"), dict) or not template["Resources"]:
        raise validation("Template format error: At least one Resources member must be defined.")
    return template


def needs_iam(template):
    return any(r.get("Type", "").startswith("AWS::IAM::") for r in template["Resources"].values())


def a_create_change_set(form):
    name, cs_name, cs_type = form.get("StackName", ""), form.get("ChangeSetName", ""), form.get("ChangeSetType", "UPDATE")
    if not re.match(r"^[a-zA-Z][-a-zA-Z0-9]*$", cs_name) or len(cs_name) > 128:
        raise validation("1 validation error detected: Value '%s' at 'changeSetName' failed to satisfy constraint"
                         % cs_name)
    token = form.get("ClientToken")
    for cs in ENGINE.change_sets.values():
        if token and cs["token"] == token and cs["name"] == cs_name:
            return el("Id", cs["id"]) + el("StackId", cs["stack"].id)
    template = parse_template(form.get("TemplateBody", ""))
    caps = members(form, "Capabilities")
    if needs_iam(template) and not set(caps) & {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}:
        raise StubError("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
    s = ENGINE.find(name)
    if cs_type == "CREATE":
        if s and s.status != "REVIEW_IN_PROGRESS":
            raise StubError("AlreadyExistsException", "Stack [%s] already exists and cannot be created again with "
                            "the changeSet [%s]." % (name, cs_name))
        if not s:
            s = Stack(ENGINE, name)
            ENGINE.stacks.append(s)
            s.stack_event("REVIEW_IN_PROGRESS", "User Initiated")
    else:
        if not s:
            raise validation("Stack [%s] does not exist" % name)
        if s.status == "REVIEW_IN_PROGRESS":
            raise validation("Stack:%s is in REVIEW_IN_PROGRESS state and can not be updated." % s.id)
    params = ENGINE.resolve_parameters(s, template, form)
    cs_id = "arn:aws:cloudformation:%s:%s:changeSet/%s/%s" % (REGION, ACCOUNT, cs_name, uuid.uuid4())
    changes = ENGINE.changes_between(s, template, params)
    ENGINE.change_sets[cs_id] = {
        "id": cs_id, "name": cs_name, "stack": s, "type": cs_type, "token": token, "template": template,
        "parameters": params, "changes": changes, "polls": ENGINE.script["changeset_polls"],
        "tags": members(form, "Tags"), "capabilities": caps, "notification_arns": members(form, "NotificationARNs"),
        "on_failure": form.get("OnStackFailure", "ROLLBACK"), "executed": False, "exec_tokens": set(),
        "created": ENGINE.stamp()}
    return el("Id", cs_id) + el("StackId", s.id)


def find_change_set(form):
    ref, stack = form.get("ChangeSetName", ""), form.get("StackName")
    for cs in ENGINE.change_sets.values():
        if cs["id"] == ref or (cs["name"] == ref and stack and stack in (cs["stack"].name, cs["stack"].id)):
            return cs
    raise StubError("ChangeSetNotFound", "ChangeSet [%s] does not exist" % ref, 404)


def change_set_status(cs):
    if cs["polls"] > 0:
        cs["polls"] -= 1
        return ("CREATE_PENDING" if cs["polls"] > 0 else "CREATE_IN_PROGRESS"), "UNAVAILABLE", None
    if not cs["changes"]:
        return ("FAILED", "UNAVAILABLE", "The submitted information didn't contain changes. Submit different "
                "information to create a change set.")
    if cs["executed"]:
        return "CREATE_COMPLETE", "EXECUTE_COMPLETE", None
    return "CREATE_COMPLETE", "AVAILABLE", None


def change_xml(ch):
    return ("<Type>Resource</Type><ResourceChange>" + el("Action", ch["Action"]) +
            el("LogicalResourceId", ch["LogicalResourceId"]) + el("PhysicalResourceId", ch.get("PhysicalResourceId")) +
            el("ResourceType", ch["ResourceType"]) + el("Replacement", ch.get("Replacement")) +
            member_list("Scope", ["Properties"] if ch["Action"] == "Modify" else [], escape) +
            "</ResourceChange>")


def a_describe_change_set(form):
    cs = find_change_set(form)
    status, execution, reason = change_set_status(cs)
    chunk, token = page(cs["changes"] if status == "CREATE_COMPLETE" else [], form, ENGINE.script["page_size"])
    s = cs["stack"]
    return (el("ChangeSetName", cs["name"]) + el("ChangeSetId", cs["id"]) + el("StackId", s.id) +
            el("StackName", s.name) + el("CreationTime", cs["created"]) + el("ExecutionStatus", execution) +
            el("Status", status) + el("StatusReason", reason) +
            member_list("Parameters", sorted(cs["parameters"].items()),
                        lambda kv: el("ParameterKey", kv[0]) + el("ParameterValue", kv[1])) +
            member_list("Changes", chunk, change_xml) + el("OnStackFailure", cs["on_failure"]) +
            el("NextToken", token))


def a_execute_change_set(form):
    cs = find_change_set(form)
    token = form.get("ClientRequestToken")
    if token and token in cs["exec_tokens"]:
        return ""
    status, execution, _ = change_set_status(cs)
    if execution != "AVAILABLE":
        raise StubError("InvalidChangeSetStatus", "ChangeSet [%s] cannot be executed in its current status of "
                        "[%s]" % (cs["id"], status))
    s = cs["stack"]
    if s.status.endswith("_IN_PROGRESS") and s.status != "REVIEW_IN_PROGRESS":
        raise validation("Stack:%s is in %s state and can not be updated." % (s.id, s.status))
    cs["executed"] = True
    cs["exec_tokens"].add(token)
    for other in [k for k, v in ENGINE.change_sets.items() if v["stack"] is s and v is not cs]:
        del ENGINE.change_sets[other]
    s.tags, s.capabilities, s.notification_arns = cs["tags"], cs["capabilities"], cs["notification_arns"]
    if cs["type"] == "CREATE":
        s.template, s.parameters, s.on_failure = cs["template"], cs["parameters"], cs["on_failure"]
        ENGINE.schedule_create(s, list(cs["template"]["Resources"].items()))
    else:
        ENGINE.schedule_update(s, cs)
    return ""


def a_delete_change_set(form):
    cs = find_change_set(form)
    del ENGINE.change_sets[cs["id"]]
    return ""


def a_list_change_sets(form):
    s = ENGINE.need(form.get("StackName", ""))
    mine = [cs for cs in ENGINE.change_sets.values() if cs["stack"] is s]
    return member_list("Summaries", mine, lambda cs: (
        el("StackId", s.id) + el("StackName", s.name) + el("ChangeSetId", cs["id"]) + el("ChangeSetName", cs["name"]) +
        el("ExecutionStatus", change_set_status(dict(cs, polls=0))[1]) + el("Status", change_set_status(
            dict(cs, polls=0))[0]) + el("CreationTime", cs["created"])))


def a_delete_stack(form):
    s = ENGINE.find(form.get("StackName", ""), include_deleted_by_id=False)
    if not s:
        return ""
    token = form.get("ClientRequestToken")
    if token and token in s.tokens:
        return ""
    if s.protection:
        raise validation("Stack [%s] cannot be deleted while TerminationProtection is enabled" % s.name)
    if s.status == "DELETE_IN_PROGRESS":
        return ""
    s.tokens.add(token)
    for k in [k for k, v in ENGINE.change_sets.items() if v["stack"] is s]:
        del ENGINE.change_sets[k]
    s.stack_event("DELETE_IN_PROGRESS", "User Initiated")
    s.steps = ENGINE.delete_steps(s)
    return ""


def a_update_termination_protection(form):
    s = ENGINE.need(form.get("StackName", ""))
    s.protection = form.get("EnableTerminationProtection") == "true"
    return el("StackId", s.id)


def a_set_stack_policy(form):
    ENGINE.need(form.get("StackName", "")).policy = form.get("StackPolicyBody")
    return ""


def a_get_stack_policy(form):
    return el("StackPolicyBody", ENGINE.need(form.get("StackName", "")).policy)


def a_continue_update_rollback(form):
    s = ENGINE.need(form.get("StackName", ""))
    if s.status != "UPDATE_ROLLBACK_FAILED":
        raise validation("Stack %s is in %s state and can not continue update rollback." % (s.id, s.status))
    skip = members(form, "ResourcesToSkip")
    for logical in skip:
        if (s.resources.get(logical) or {}).get("status") != "UPDATE_FAILED":
            raise validation("Resource %s is not in UPDATE_FAILED state and cannot be skipped" % logical)
    s.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", "User Initiated")
    steps = []
    for logical, res in list(s.resources.items()):
        if res.get("status") == "UPDATE_FAILED":
            if logical in skip:
                steps.append(lambda l=logical, t=res["type"]: s.event(l, t, "UPDATE_COMPLETE",
                                                                      "Resource skipped during UpdateRollback"))
            else:
                steps.append(ENGINE.rollback_step(s, logical, res["type"], "Modify"))
    steps.append(lambda: ENGINE.finish_rollback(s))
    s.steps = steps
    return ""


def a_cancel_update_stack(form):
    s = ENGINE.need(form.get("StackName", ""))
    if s.status != "UPDATE_IN_PROGRESS":
        raise validation("CancelUpdateStack cannot be called from current stack status")
    for logical, res in s.resources.items():
        if res.get("status") == "UPDATE_IN_PROGRESS":
            s.event(logical, res["type"], "UPDATE_FAILED", "Resource update cancelled")
    s.stack_event("UPDATE_ROLLBACK_IN_PROGRESS", "Stack update cancelled")
    steps = [ENGINE.rollback_step(s, l, r["type"], "Modify") for l, r in s.resources.items()
             if r.get("status") == "UPDATE_FAILED"]
    ENGINE.script["hang"] = []
    steps.append(lambda: ENGINE.finish_rollback(s))
    s.steps = steps
    return ""


def a_detect_stack_drift(form):
    s = ENGINE.need(form.get("StackName", ""))
    if s.status.endswith("_IN_PROGRESS"):
        raise validation("Drift detection is not supported for stacks in %s" % s.status)
    detection = str(uuid.uuid4())
    ENGINE.drifts[detection] = {"stack": s, "polls": ENGINE.script["drift_polls"], "at": ENGINE.stamp()}
    return el("StackDriftDetectionId", detection)


def drift_of(s):
    out = []
    for logical, res in s.resources.items():
        d = ENGINE.script["drift"].get(logical)
        out.append((logical, res, d["status"] if d else "IN_SYNC", d.get("differences", []) if d else []))
    return out


def a_describe_drift_status(form):
    d = ENGINE.drifts.get(form.get("StackDriftDetectionId", ""))
    if not d:
        raise validation("StackDriftDetectionId %s does not exist" % form.get("StackDriftDetectionId"))
    s = d["stack"]
    if d["polls"] > 0:
        d["polls"] -= 1
        return (el("StackId", s.id) + el("StackDriftDetectionId", form["StackDriftDetectionId"]) +
                el("DetectionStatus", "DETECTION_IN_PROGRESS") + el("Timestamp", d["at"]))
    drifted = [x for x in drift_of(s) if x[2] != "IN_SYNC"]
    return (el("StackId", s.id) + el("StackDriftDetectionId", form["StackDriftDetectionId"]) +
            el("StackDriftStatus", "DRIFTED" if drifted else "IN_SYNC") + el("DetectionStatus", "DETECTION_COMPLETE") +
            el("DriftedStackResourceCount", len(drifted)) + el("Timestamp", d["at"]))


def difference_xml(diff):
    return "".join(el(k, diff.get(k)) for k in ("PropertyPath", "ExpectedValue", "ActualValue", "DifferenceType"))


def a_describe_resource_drifts(form):
    s = ENGINE.need(form.get("StackName", ""))
    wanted = set(members(form, "StackResourceDriftStatusFilters")) or {"IN_SYNC", "MODIFIED", "DELETED", "NOT_CHECKED"}
    items = [x for x in drift_of(s) if x[2] in wanted]
    chunk, token = page(items, form, ENGINE.script["page_size"])
    return member_list("StackResourceDrifts", chunk, lambda x: (
        el("StackId", s.id) + el("LogicalResourceId", x[0]) + el("PhysicalResourceId", x[1].get("physical")) +
        el("ResourceType", x[1]["type"]) + member_list("PropertyDifferences", x[3], difference_xml) +
        el("StackResourceDriftStatus", x[2]) + el("Timestamp", ENGINE.stamp()))) + el("NextToken", token)


ACTIONS = {
    "DescribeStacks": a_describe_stacks, "DescribeStackEvents": a_describe_stack_events,
    "ListStackResources": a_list_stack_resources, "CreateChangeSet": a_create_change_set,
    "DescribeChangeSet": a_describe_change_set, "ExecuteChangeSet": a_execute_change_set,
    "DeleteChangeSet": a_delete_change_set, "ListChangeSets": a_list_change_sets, "DeleteStack": a_delete_stack,
    "UpdateTerminationProtection": a_update_termination_protection, "SetStackPolicy": a_set_stack_policy,
    "GetStackPolicy": a_get_stack_policy, "ContinueUpdateRollback": a_continue_update_rollback,
    "CancelUpdateStack": a_cancel_update_stack, "DetectStackDrift": a_detect_stack_drift,
    "DescribeStackDriftDetectionStatus": a_describe_drift_status,
    "DescribeStackResourceDrifts": a_describe_resource_drifts,
}
NO_RESULT = {"ExecuteChangeSet", "DeleteChangeSet", "DeleteStack", "SetStackPolicy", "ContinueUpdateRollback",
             "CancelUpdateStack"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # One buffered write per response and no Nagle: no delayed-ACK stalls between headers and body.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):  # quiet
        pass

    def send(self, status, body, ctype="text/xml"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n).decode() if n else ""

    def do_GET(self):
        if self.path == "/__stub/log":
            with ENGINE.lock:
                self.send(200, json.dumps(ENGINE.log), "application/json")
            return
        self.send(404, "not found", "text/plain")

    def do_POST(self):
        raw = self.body()
        if self.path == "/__stub/reset":
            with ENGINE.lock:
                ENGINE.reset()
            self.send(200, "{}", "application/json")
            return
        if self.path == "/__stub/log":
            with ENGINE.lock:
                ENGINE.log = []
            self.send(200, "[]", "application/json")
            return
        if self.path == "/__stub/script":
            update = json.loads(raw or "{}")
            with ENGINE.lock:
                if "scenario" in update:
                    ENGINE.script = copy.deepcopy(DEFAULT_SCRIPT)
                    ENGINE.script.update(copy.deepcopy(SCENARIOS[update.pop("scenario")]))
                ENGINE.script.update(update)
            self.send(200, json.dumps(ENGINE.script), "application/json")
            return
        form = dict(urllib.parse.parse_qsl(raw, keep_blank_values=True))
        action = form.get("Action", "")
        with ENGINE.lock:
            ENGINE.log.append({"action": action, "params": form})
            self.dispatch(action, form)

    def dispatch(self, action, form):
        if "Credential=" not in (self.headers.get("Authorization") or ""):
            self.send(403, error_body("MissingAuthenticationToken", "Request is missing Authentication Token"))
            return
        if form.get("Version") != "2010-05-15" or action not in ACTIONS:
            self.send(400, error_body("InvalidAction", "Could not find operation %s for version %s"
                                      % (action, form.get("Version"))))
            return
        try:
            check_throttle(action)
            inner = ACTIONS[action](form)
        except StubError as e:
            self.send(e.status, error_body(e.code, e.message))
            return
        self.send(200, respond_empty(action) if action in NO_RESULT else respond(action, inner))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max-seconds", type=float, default=300)
    args = ap.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Timer(args.max_seconds, lambda: os._exit(0)).start()
    print("PORT %d" % server.server_address[1])
    print("PID %d" % os.getpid())
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
