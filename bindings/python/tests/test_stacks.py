"""Stacks through the Python layer against moto: deploy, describe, events, wait, delete."""
import ciha
from helpers import client, raises, unique

TEMPLATE = """Parameters:
  Env: {Type: String}
Resources:
  Topic:
    Type: AWS::SNS::Topic
    Properties:
      TopicName: !Sub '${Env}-builds'
Outputs:
  TopicArn: {Value: !Ref Topic}
"""


def test_deploy_describe_events_and_delete():
    name = unique("py-stack")
    env = unique("env")
    with client() as c:
        seen = []
        d = c.stacks.deploy(name, template=TEMPLATE, parameters={"Env": env}, tags={"team": "ci"}, poll=0.1,
                            on_event=seen.append)
        assert isinstance(d, ciha.Deployment) and d.action == "create" and d.executed
        assert d.status == "CREATE_COMPLETE" and d.stack_id
        assert [ch.logical_id for ch in d.changes] == ["Topic"] and d.changes[0].action == "Add"
        assert d.as_dict()["action"] == "create"
        stack = c.stacks.describe(name)
        assert stack.status == "CREATE_COMPLETE" and stack.name == name
        assert stack.parameters == {"Env": env}
        assert isinstance(stack.outputs, dict)
        assert stack.tags.get("team") == "ci"
        events = c.stacks.events(name)
        first = next(events)
        assert isinstance(first, ciha.StackEvent) and first.stack_name == name
        rest = list(events)
        assert rest[-1].status == "CREATE_COMPLETE" and rest[-1].logical_id == name
        followed = list(c.stacks.events(name, follow=True, poll=0.05))
        assert len(followed) == len(rest) + 1
        assert c.stacks.wait(name, "create", poll=0.05) == "CREATE_COMPLETE"
        again = c.stacks.deploy(name, template=TEMPLATE, parameters={"Env": env}, tags={"team": "ci"}, poll=0.1)
        assert again.action == "none"
        assert any(s.name == name for s in c.stacks.list())
        c.stacks.delete(name, poll=0.1)
        assert not c.stacks.exists(name)
        with raises(ciha.NotFoundError):
            c.stacks.describe(name)


def test_stack_policy_round_trip():
    name = unique("py-pol")
    policy = {"Statement": [{"Effect": "Allow", "Action": "Update:*", "Principal": "*", "Resource": "*"}]}
    with client() as c:
        c.stacks.deploy(name, template=TEMPLATE, parameters={"Env": unique("e")}, poll=0.1)
        try:
            c.stacks.set_policy(name, policy)
            assert c.stacks.policy(name) == policy
        finally:
            c.stacks.delete(name, poll=0.1)


def test_on_event_exception_comes_back_unchanged():
    name = unique("py-ev")
    marker = ValueError("from on_event")

    def on_event(event):
        raise marker
    with client() as c:
        with raises(ValueError) as caught:
            c.stacks.deploy(name, template=TEMPLATE, parameters={"Env": unique("e")}, poll=0.1, on_event=on_event)
        assert caught.value is marker
        c.stacks.wait(name, "any", poll=0.05)
        c.stacks.delete(name, poll=0.1)


def test_template_check_and_generated_policy():
    template = "Resources:\n  Db:\n    Type: AWS::RDS::DBInstance\n    Properties: {Engine: postgres}\n"
    with client() as c:
        problems = c.stacks.check_template(template)
        policy = c.stacks.generate_policy(template)
    assert problems and problems[0].logical_id == "Db"
    assert "Statement" in policy
