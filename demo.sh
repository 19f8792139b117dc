#!/usr/bin/env bash
# demo.sh: the main job. On a fresh Debian machine it installs what is missing,
# builds libciha and ciha, starts an embedded moto server and a local PagerDuty
# receiver on loopback, and runs the seed scenario end to end:
#   apply the CI environment (network, database, Bamboo master, agents with
#   schedules, Nexus behind an ELB), wire alarms -> SNS -> PagerDuty, take and
#   rotate snapshots, audit; then the disaster (the master stack and the
#   database are deleted), recovery of both from snapshots, audit again, a
#   disaster-recovery drill, and a report with the timings.
set -euo pipefail
top="$(cd "$(dirname "$0")" && pwd)"
cd "$top"

t_start=$SECONDS
declare -a timing_names timing_secs
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; t_step=$SECONDS; current="$*"; }
done_step() { timing_names+=("$current"); timing_secs+=($((SECONDS - t_step))); }

step "setting up the machine (Debian packages, moto)"
[ "${CIHA_SKIP_SETUP:-0}" = 1 ] || tests/tools/setup-debian.sh
done_step

step "building libciha and the ciha command"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build-demo
(cd build-demo && { [ -f Makefile ] || ../configure -q --disable-python --disable-ruby; } && make -j2 -s >/dev/null)
ciha="$top/build-demo/cli/ciha"
done_step

state=$(mktemp -d)
pd_pid=
cleanup() {
	[ -n "$pd_pid" ] && kill "$pd_pid" 2>/dev/null || true
	tests/tools/moto.sh stop "$state" >/dev/null 2>&1 || true
	rm -rf "$state"
}
trap cleanup EXIT

step "starting an embedded moto server and a local PagerDuty receiver"
url=$(tests/tools/moto.sh start "$state")
python3 tests/tools/pdreceiver.py --max-seconds 1800 >"$state/pd.out" 2>"$state/pd.log" &
pd_pid=$!
for _ in $(seq 100); do grep -q '^PORT ' "$state/pd.out" 2>/dev/null && break; sleep 0.1; done
pd_port=$(awk '/^PORT /{print $2}' "$state/pd.out")
pd_url="http://127.0.0.1:$pd_port/integration/0123456789abcdef0123456789abcdef/enqueue"
echo "moto at $url, PagerDuty receiver at 127.0.0.1:$pd_port"
done_step

# A throwaway identity on the embedded moto: the demo never touches a real account.
export HOME="$state" AWS_EC2_METADATA_DISABLED=true AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=AKIDDEMO AWS_SECRET_ACCESS_KEY=demo-secret-key
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL
c() { "$ciha" --endpoint-url "$url" "$@"; }
jget() { python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1].split("."): d = d[int(k)] if k.isdigit() else d[k]
print(d)' "$1"; }

# The seed environment, for moto: moto has no UpdateTerminationProtection, so
# stacks are not protected here (the audit checks protection where the spec asks for it).
python3 - "$top/examples/env/ci.json" "$state/ci.json" <<'PY'
import json, os, sys
src, dst = sys.argv[1], sys.argv[2]
spec = json.load(open(src))
base = os.path.dirname(os.path.abspath(src))
for s in spec["stacks"]:
    s["template"] = os.path.normpath(os.path.join(base, s["template"]))
    s["protect"] = False
json.dump(spec, open(dst, "w"), indent=2)
PY
spec="$state/ci.json"

step "who am I"
c whoami
done_step

step "plan: what apply would change"
c env plan "$spec" | tail -n 25
done_step

step "apply: stacks, alarms -> SNS -> PagerDuty, agent schedules, first snapshots"
c env apply "$spec" --pagerduty-url "$pd_url" | tail -n 30
done_step

step "apply again: nothing to change (cron-safe)"
c env apply "$spec" --pagerduty-url "$pd_url" | tail -n 3
done_step

res() { c call cloudformation DescribeStackResource StackName="$1" LogicalResourceId="$2" | jget StackResourceDetail.PhysicalResourceId; }
data_volume=$(res ci-master DataVolume)
db_id=$(res ci-database Database)

step "snapshot rotation: three runs of a keep-2 policy on the master's data volume"
for run in 1 2 3; do
	c snapshot run --volume "$data_volume" --policy demo-rotation --keep 2 --interval-hours 0 | tail -n 1
done
c snapshot list --volume "$data_volume" | tail -n 6
done_step

step "audit: is this CI production-like?"
c env audit "$spec" --pagerduty-url "$pd_url" 2>/dev/null | tail -n 12
done_step

step "the disaster: the master stack and the database are deleted"
c call cloudformation DeleteStack StackName=ci-master >/dev/null
c call cloudformation DeleteStack StackName=ci-database >/dev/null   # takes the RDS instance with it
c stack list | grep -E 'ci-(master|database)' || echo "ci-master and ci-database are gone"
c call rds DescribeDBInstances DBInstanceIdentifier="$db_id" >/dev/null 2>&1 || echo "database $db_id is gone"
done_step

step "recovery: apply the environment with the data taken from the newest snapshots"
python3 - "$spec" "$state/recover.json" "$db_id" "$data_volume" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
for s in spec["stacks"]:
    if s["name"].endswith("-database"):
        s["parameters"]["DBSnapshotIdentifier"] = {"snapshot": "rds:" + sys.argv[3]}
    if s["name"].endswith("-master"):
        s["parameters"]["DataSnapshotId"] = {"snapshot": "ebs:" + sys.argv[4]}
json.dump(spec, open(sys.argv[2], "w"), indent=2)
PY
t_recover=$SECONDS
c env apply "$state/recover.json" --pagerduty-url "$pd_url" | tail -n 12
recovery_s=$((SECONDS - t_recover))
c stack status ci-master | head -n 3
c call rds DescribeDBInstances DBInstanceIdentifier="$db_id" | jget DBInstances.0.DBInstanceStatus | sed "s/^/database $db_id: /"
done_step

step "audit again"
c env audit "$state/recover.json" --pagerduty-url "$pd_url" 2>/dev/null | tail -n 6
done_step

step "disaster-recovery drill: restore into scratch resources, measure RTO and RPO, clean up"
c env drill "$state/recover.json" | tail -n 8
done_step

step "fire drill: a page really reaches PagerDuty through CloudWatch's path, then resolves"
topic_arn=$(c alarm topic ci-alarms)
group=$(res ci-agents Group)
printf '{"prefix": "ci-", "topic_arn": "%s", "alarms": [{"name": "agents-below-min", "preset": "asg-below-min", "group": "%s", "min": 1}]}\n' \
	"$topic_arn" "$group" >"$state/drill-alarms.json"
c alarm drill "$state/drill-alarms.json" --endpoint "$pd_url" --allow-http --resolve-after-ms 500
curl -s "http://127.0.0.1:$pd_port/__pd/incidents" | python3 -c 'import json,sys
for key, inc in json.load(sys.stdin).items():
    print("PagerDuty incident %s: %s (events: %s)" % (key, inc["status"], ", ".join(inc["events"])))'
done_step

printf '\n\033[1m==> report\033[0m\n'
for i in "${!timing_names[@]}"; do printf '  %4ds  %s\n' "${timing_secs[$i]}" "${timing_names[$i]}"; done
printf '  recovery of the master and the database from snapshots: %d s\n' "$recovery_s"
printf '  total: %d s\n' "$((SECONDS - t_start))"
