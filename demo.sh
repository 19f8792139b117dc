#!/usr/bin/env bash
# demo.sh: the main job. Sets up a fresh Debian machine, builds libciha and the
# ciha command, starts an embedded moto server on loopback and drives a small
# CI-infrastructure scenario through the ciha command, then stops the server.
set -euo pipefail
top="$(cd "$(dirname "$0")" && pwd)"
cd "$top"

step() { printf '\n==> %s\n' "$*"; }
t0=$SECONDS

step "setting up the machine"
[ "${CIHA_SKIP_SETUP:-0}" = 1 ] || tests/tools/setup-debian.sh

step "building libciha and ciha"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build-demo
(cd build-demo && { [ -f Makefile ] || ../configure -q; } && make -j2 -s >/dev/null)
ciha="$top/build-demo/cli/ciha"

state=$(mktemp -d)
trap 'tests/tools/moto.sh stop "$state" >/dev/null 2>&1 || true; rm -rf "$state"' EXIT
step "starting an embedded moto server"
url=$(tests/tools/moto.sh start "$state")
echo "moto at $url"

# A throwaway identity: the demo never touches a real AWS account.
export HOME="$state" AWS_EC2_METADATA_DISABLED=true
export AWS_ACCESS_KEY_ID=AKIDDEMO AWS_SECRET_ACCESS_KEY=demo-secret-key
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
c() { "$ciha" --region us-east-1 --endpoint-url "$url" "$@"; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d = d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }

step "who am I"
c whoami

step "CI master stack (CloudFormation): data volume and an SNS topic"
cat >"$state/master.json" <<'EOT'
{"Parameters": {"Env": {"Type": "String"}},
 "Resources": {
   "DataVolume": {"Type": "AWS::EC2::Volume", "DeletionPolicy": "Snapshot",
     "Properties": {"AvailabilityZone": "us-east-1a", "Size": 50,
       "Tags": [{"Key": "Backup", "Value": "daily"}, {"Key": "Name", "Value": "bamboo-data"}]}},
   "Alerts": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": {"Fn::Sub": "${Env}-alerts"}}}},
 "Outputs": {"DataVolumeId": {"Value": {"Ref": "DataVolume"}}, "AlertsArn": {"Value": {"Ref": "Alerts"}}}}
EOT
c call cloudformation CreateStack StackName=ci-master "TemplateBody=$(cat "$state/master.json")" \
	'Parameters:=[{"ParameterKey":"Env","ParameterValue":"ci"}]' 'Tags:=[{"Key":"team","Value":"build"}]' | field StackId
c call cloudformation DescribeStacks StackName=ci-master >"$state/stacks.json"
echo "status: $(field Stacks.0.StackStatus <"$state/stacks.json")"
vol=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print([o["OutputValue"] for o in d["Stacks"][0]["Outputs"] if o["OutputKey"]=="DataVolumeId"][0])' "$state/stacks.json")
echo "data volume: $vol"

step "database (RDS) tagged for backup"
c call rds CreateDBInstance DBInstanceIdentifier=ci-db DBInstanceClass=db.t3.micro Engine=postgres \
	AllocatedStorage:=20 MasterUsername=bamboo MasterUserPassword=demo-password-1 \
	'Tags:=[{"Key":"Backup","Value":"daily"}]' | field DBInstance.DBInstanceStatus

step "manual snapshots of everything tagged Backup=daily"
c call ec2 DescribeVolumes 'Filter:=[{"Name":"tag:Backup","Value":["daily"]}]' >"$state/vols.json"
for v in $(python3 -c 'import json,sys; print(" ".join(x["volumeId"] for x in json.load(open(sys.argv[1]))["volumeSet"]))' "$state/vols.json"); do
	snap=$(c call ec2 CreateSnapshot VolumeId="$v" Description="demo backup" \
		'TagSpecification:=[{"ResourceType":"snapshot","Tag":[{"Key":"ciha:managed-by","Value":"libciha"}]}]' | field snapshotId)
	echo "EBS $v -> $snap"
done
c call rds CreateDBSnapshot DBInstanceIdentifier=ci-db DBSnapshotIdentifier=ci-db-demo-1 | field DBSnapshot.Status \
	| sed 's/^/RDS ci-db -> ci-db-demo-1: /'

step "listing what we have (paginated calls)"
n=$(c call ec2 DescribeSnapshots 'Filter:=[{"Name":"tag:ciha:managed-by","Value":["libciha"]}]' --all \
	| python3 -c 'import json,sys; print(len(json.load(sys.stdin)["snapshotSet"]))')
echo "EBS snapshots made by libciha: $n"
c call rds DescribeDBSnapshots 'Filters:=[{"Name":"db-instance-id","Values":["ci-db"]}]' --all \
	| python3 -c 'import json,sys; print("RDS manual snapshots of ci-db:", [s["DBSnapshotIdentifier"] for s in json.load(sys.stdin)["DBSnapshots"]])'

step "an error, as a cron job would see it"
c call cloudformation DescribeStacks StackName=ci-agents || echo "(exit status $?)"

step "done in $((SECONDS - t0)) s"
