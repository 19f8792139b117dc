#!/usr/bin/env bash
# stack_cli.sh: `ciha stack` as a shell user runs it, against moto (CIHA_TEST_ENDPOINT):
# the example environment deployed stack by stack, no-change and review deploys, the
# stateful guard, template check, agent schedules, delete with final snapshots, and
# recovering the database from its newest snapshot.
set -u
if [ -z "${CIHA_TEST_ENDPOINT:-}" ]; then
	echo "SKIP: CIHA_TEST_ENDPOINT is not set: run through tests/run, which starts moto server" >&2
	exit 77
fi
ciha="${CIHA_BUILDDIR:-.}/cli/ciha"
templates="${CIHA_SRCDIR:-.}/examples/templates"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "not ok $1" >&2; [ -f "$work/err" ] && sed 's/^/    /' "$work/err" >&2; }
check() { local name=$1; shift; if "$@"; then ok; else fail "$name"; fi; }

export HOME="$work" AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
export AWS_EC2_METADATA_DISABLED=true CIHA_POLL_INTERVAL_MS=50
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=AKIDSTACKCLI AWS_SECRET_ACCESS_KEY='stack/Secret+Key0123456789abcdefghijklmno'
E=(--region us-east-1 --endpoint-url "$CIHA_TEST_ENDPOINT")
env="s$$"            # the templates' Env: unique per run (moto is shared)
pre="cli-$$"         # stack name prefix

run() { "$ciha" "${E[@]}" "$@" >"$work/out" 2>"$work/err"; rc=$?; }
# JSON field of the last output: json EXPR (python, d = the document)
json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$work/out" "$1"; }
py_ok() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$work/out" "$1"; }
one_line_error() { [ "$(wc -l <"$work/err")" -eq 1 ] && grep -q '^ciha: error: ' "$work/err"; }
# Physical id of a stack's resource. (moto leaves stacks made through change sets without
# Outputs, so the stacks are wired from their resources here; outputs are tested apart.)
res() { "$ciha" "${E[@]}" --json stack status "$1" |
	python3 -c 'import json,sys; print([r["physical_id"] for r in json.load(sys.stdin)["resources"] if r["logical_id"] == sys.argv[1]][0])' "$2"; }

# ---- the environment, stack by stack ----------------------------------------------
run stack deploy "$pre-network" --template "$templates/network.yaml" --param Env="$env" --tag team=ci
check network-exit test "$rc" -eq 0
check network-changes grep -Eq '^  Add +MasterSecurityGroup +AWS::EC2::SecurityGroup' "$work/out"
check network-created grep -q "^$pre-network: create CREATE_COMPLETE\$" "$work/out"
check network-events-on-stderr grep -Eq "^[0-9T:-]+Z +$pre-network +AWS::CloudFormation::Stack +CREATE_COMPLETE" "$work/err"
subnets="$(res "$pre-network" SubnetA),$(res "$pre-network" SubnetB)"
zone_id=$(res "$pre-network" Zone)
sg() { res "$pre-network" "$1SecurityGroup"; }
run call ec2 DescribeSecurityGroups GroupId.1="$(sg Database)"
check database-only-from-master py_ok "[(p['fromPort'], [g['groupId'] for g in p['groups']]) for p in d['securityGroupInfo'][0]['ipPermissions']] == [('5432', ['$(sg Master)'])]"
run call ec2 DescribeSecurityGroups GroupId.1="$(sg Master)"
check master-only-from-agents-and-elb py_ok "sorted((p['fromPort'], sorted(g['groupId'] for g in p['groups'])) for p in d['securityGroupInfo'][0]['ipPermissions']) == sorted([('443', sorted(['$(sg Agents)', '$(sg LoadBalancer)'])), ('8085', sorted(['$(sg Agents)', '$(sg LoadBalancer)']))])"

db_params=(--param Env="$env" --param SubnetIds="$subnets" --param DatabaseSecurityGroup="$(sg Database)")
run stack deploy "$pre-database" --template "$templates/database.yaml" "${db_params[@]}"
check database-exit test "$rc" -eq 0
check database-instance test "$(res "$pre-database" Database)" = "$env-db"

run stack deploy "$pre-master" --template "$templates/master.yaml" --capability CAPABILITY_IAM --param Env="$env" \
	--param SubnetId="${subnets%,*}" --param MasterSecurityGroup="$(sg Master)" --param ZoneId="$zone_id"
check master-exit test "$rc" -eq 0
run call ec2 DescribeVolumes VolumeId.1="$(res "$pre-master" DataVolume)"
check master-data-volume-attached py_ok "d['volumeSet'][0]['attachmentSet'][0]['instanceId'] == '$(res "$pre-master" Instance)'"

run stack deploy "$pre-agents" --template "$templates/agents.yaml" --param Env="$env" --param SubnetIds="$subnets" \
	--param AgentsSecurityGroup="$(sg Agents)" --param MasterName=master.ci.internal
check agents-exit test "$rc" -eq 0
group=$(res "$pre-agents" Group)
run call autoscaling DescribeAutoScalingGroups "AutoScalingGroupNames:=[\"$group\"]"
check agents-running py_ok "len(d['AutoScalingGroups'][0]['Instances']) == 2"

run stack deploy "$pre-nexus" --template "$templates/nexus.yaml" --param Env="$env" --param SubnetIds="$subnets" \
	--param NexusSecurityGroup="$(sg Nexus)" --param LoadBalancerSecurityGroup="$(sg LoadBalancer)" --param ZoneId="$zone_id"
check nexus-exit test "$rc" -eq 0
run call elb DescribeInstanceHealth LoadBalancerName="$(res "$pre-nexus" LoadBalancer)"
check nexus-behind-elb py_ok "[i['State'] for i in d['InstanceStates']] == ['InService']"

run --json stack list
check list-all-five py_ok "sorted(s['status'] for s in d if s['name'].startswith('$pre-')) == ['CREATE_COMPLETE'] * 5"

# ---- status, outputs, events ------------------------------------------------------------
run stack status "$pre-network"
check status-text grep -q '^status      CREATE_COMPLETE$' "$work/out"
run --json stack status "$pre-database"
check status-json py_ok "d['status'] == 'CREATE_COMPLETE' and d['parameters']['Env'] == '$env' and d['protection'] is False"
# outputs of a stack made by CreateStack (moto gives change-set stacks none)
run call cloudformation CreateStack StackName="$pre-outputs" TemplateBody='{"Parameters": {"Env": {"Type": "String"}},
	"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Outputs": {"TopicArn": {"Value": {"Ref": "Topic"}},
	"EnvName": {"Value": {"Ref": "Env"}}}}' 'Parameters:=[{"ParameterKey": "Env", "ParameterValue": "'"$env"'"}]'
run stack outputs "$pre-outputs"
check outputs-text grep -Eq "^EnvName +$env\$" "$work/out"
check outputs-text-arn grep -Eq '^TopicArn +arn:aws:sns:us-east-1:' "$work/out"
run --json stack outputs "$pre-outputs"
check outputs-json py_ok "d['EnvName'] == '$env' and d['TopicArn'].startswith('arn:aws:sns:')"
run stack delete "$pre-outputs"
run stack events "$pre-network"
check events-stdout grep -Eq "$pre-network +AWS::CloudFormation::Stack +CREATE_COMPLETE" "$work/out"
run --json stack events "$pre-network" --max 1
check events-json-max py_ok "len(d) == 1 and d[0]['status'] == 'CREATE_COMPLETE'"
run stack events "$pre-network" --follow
check events-follow-settled test "$rc" -eq 0
check events-follow-status grep -q "^$pre-network: CREATE_COMPLETE\$" "$work/err"

# ---- redeploys: no changes, review only, the stateful guard ----------------------------
run stack deploy "$pre-network" --template "$templates/network.yaml" --param Env="$env" --tag team=ci
check no-change-exit test "$rc" -eq 0
check no-change-message grep -q "^$pre-network: no changes\$" "$work/out"

# (moto lists the changes of template edits only, not of new parameter values)
sed 's/Value: ci-database$/Value: ci-database-reviewed/' "$templates/database.yaml" >"$work/retagged.yaml"
run stack deploy "$pre-database" --template "$work/retagged.yaml" "${db_params[@]}" --no-execute
check review-exit test "$rc" -eq 0
check review-shows-change grep -Eq '^  Modify +Database +AWS::RDS::DBInstance' "$work/out"
check review-not-executed grep -q "ready for review, not executed" "$work/out"
run call cloudformation GetTemplate StackName="$pre-database"
check review-left-stack-alone py_ok "'ci-database-reviewed' not in d['TemplateBody']"
run --json stack deploy "$pre-database" --template "$work/retagged.yaml" "${db_params[@]}" --no-execute
check review-json py_ok "d['executed'] is False and d['action'] == 'update' and [c['logical_id'] for c in d['changes']] == ['Database']"

sed '/^  Database:/,/^Outputs:/{/^Outputs:/!d}' "$templates/database.yaml" | sed '/^Outputs:/,$d' >"$work/no-db.yaml"
printf 'Outputs:\n  SubnetGroupName:\n    Value: !Ref SubnetGroup\n' >>"$work/no-db.yaml"
run stack deploy "$pre-database" --template "$work/no-db.yaml" "${db_params[@]}"
check guard-refuses test "$rc" -eq 1
check guard-marks-danger grep -Eq '^! Remove +Database +AWS::RDS::DBInstance' "$work/out"
check guard-one-line one_line_error
run call rds DescribeDBInstances DBInstanceIdentifier="$env-db"
check guard-kept-database test "$rc" -eq 0

# ---- template check ---------------------------------------------------------------------
sed -e '/DeletionPolicy: Snapshot/d' -e '/UpdateReplacePolicy: Snapshot/d' "$templates/database.yaml" >"$work/unsafe.yaml"
run stack check --template "$work/unsafe.yaml"
check check-flags-exit test "$rc" -eq 1
check check-flags-database grep -q 'Database (AWS::RDS::DBInstance)' "$work/out"
run --json stack check --template "$work/unsafe.yaml"
check check-json py_ok "[p['logical_id'] for p in d] == ['Database']"
for t in network database master agents nexus; do
	run stack check --template "$templates/$t.yaml"
	check "check-clean-$t" test "$rc" -eq 0
done

# ---- stack policy ----------------------------------------------------------------------
run stack policy "$pre-database" --generate
check policy-generate-exit test "$rc" -eq 0
run --json stack policy "$pre-database"
check policy-denies-db-replace py_ok "any(s['Effect'] == 'Deny' for s in d['Statement'])"

run stack diagnose "$pre-network"
check diagnose-healthy grep -q '^problem     none$' "$work/out"

# ---- agents: schedules and scaling ----------------------------------------------------------
run stack schedule "$group" --stop '0 20 * * 1-5' --start '30 6 * * MON-FRI' --tz Europe/Berlin --day-size 3 --max-size 6
check schedule-set test "$rc" -eq 0
run --json stack schedule "$group" --list
check schedule-list-ours py_ok "{a['name']: (a['recurrence'], a['time_zone'], a['desired_capacity'], a['max_size']) for a in d if a['managed']} == {'ciha-stop': ('0 20 * * 1-5', 'Europe/Berlin', 0, 0), 'ciha-start': ('30 6 * * MON-FRI', 'Europe/Berlin', 3, 6)}"
check schedule-list-template-actions py_ok "sum(1 for a in d if not a['managed']) == 2"
run stack schedule "$group" --list
check schedule-list-text grep -Eq '^ciha-start +30 6 \* \* MON-FRI +Europe/Berlin +min=3 desired=3 max=6$' "$work/out"
run stack schedule "$group" --stop '0 25 * * 1-5' --start '0 7 * * 1-5'
check schedule-bad-cron test "$rc" -eq 1
check schedule-bad-cron-msg grep -q "bad hour field '25'" "$work/err"
check schedule-bad-cron-one-line one_line_error
run stack schedule "$group" --stop '0 20 * * 1-5'
check schedule-needs-start test "$rc" -eq 2
run stack schedule "$group" --remove
check schedule-remove test "$rc" -eq 0
run --json stack schedule "$group" --list
check schedule-removed-ours-only py_ok "len(d) == 2 and not any(a['managed'] for a in d)"
run stack schedule agents-nobody-made --list
check schedule-missing-group test "$rc" -eq 1
check schedule-missing-group-msg grep -q "Auto Scaling group 'agents-nobody-made' does not exist" "$work/err"

run stack scale "$group" 9
check scale-exit test "$rc" -eq 0
run call autoscaling DescribeAutoScalingGroups "AutoScalingGroupNames:=[\"$group\"]"
check scale-widened py_ok "[(g['DesiredCapacity'], g['MaxSize'], len(g['Instances'])) for g in d['AutoScalingGroups']] == [('9', '9', 9)]"
run stack scale "$group" lots
check scale-usage test "$rc" -eq 2

# ---- delete with final snapshots, then recover the database --------------------------------
run stack delete "$pre-database" --final-snapshots
check delete-exit test "$rc" -eq 0
check delete-message grep -q "^$pre-database: deleted\$" "$work/out"
run call rds DescribeDBSnapshots DBInstanceIdentifier="$env-db"
check delete-final-snapshot py_ok "len(d['DBSnapshots']) >= 1 and all(s['SnapshotType'] == 'manual' for s in d['DBSnapshots'])"
snapshot=$(json "sorted(d['DBSnapshots'], key=lambda s: s['SnapshotCreateTime'])[-1]['DBSnapshotIdentifier']")
run call rds DescribeDBInstances DBInstanceIdentifier="$env-db"
check delete-db-gone test "$rc" -eq 1
run stack status "$pre-database"
check deleted-status-exit test "$rc" -eq 1
check deleted-status-one-line one_line_error

run stack recover "$pre-database" --template "$templates/database.yaml" "${db_params[@]}" \
	--snapshot-param DBSnapshotIdentifier="rds:$env-db"
check recover-exit test "$rc" -eq 0
check recover-created grep -q "^$pre-database: create CREATE_COMPLETE\$" "$work/out"
run --json stack status "$pre-database"
check recover-from-newest py_ok "d['parameters']['DBSnapshotIdentifier'] == '$snapshot'"
run call rds DescribeDBInstances DBInstanceIdentifier="$env-db"
check recover-db-back test "$rc" -eq 0

# ---- exit codes and one-line errors -------------------------------------------------------
run stack status "$pre-nothing"
check missing-stack-exit test "$rc" -eq 1
check missing-stack-one-line one_line_error
run stack deploy "$pre-x"
check deploy-needs-template test "$rc" -eq 2
run stack deploy "$pre-x" --template "$work/does-not-exist.yaml"
check deploy-missing-file test "$rc" -eq 1
check deploy-missing-file-msg grep -q 'does-not-exist.yaml' "$work/err"
run stack deploy "$pre-x" --template "$templates/network.yaml" --param NoEquals
check deploy-bad-param test "$rc" -eq 2
run stack recover "$pre-database" --template "$templates/database.yaml"
check recover-needs-snapshot-param test "$rc" -eq 2
run stack recover "$pre-database" --template "$templates/database.yaml" --snapshot-param DBSnapshotIdentifier=s3:x
check recover-bad-kind test "$rc" -eq 2
run stack protect "$pre-network" maybe
check protect-usage test "$rc" -eq 2
run stack frobnicate
check unknown-verb test "$rc" -eq 2
run stack
check no-verb test "$rc" -eq 2
run stack --help
check help-exit test "$rc" -eq 0
check help-lists-recover grep -q 'ciha stack recover NAME' "$work/out"

# ---- tear down (the network last) ------------------------------------------------------------
for s in nexus agents master database network; do
	run stack delete "$pre-$s"
	check "delete-$s" test "$rc" -eq 0
done

echo "stack_cli.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
