#!/usr/bin/env bash
# alarm_cli.sh: `ciha alarm`, `ciha probe` and `ciha pagerduty` as an operator and cron run them,
# against moto (CIHA_TEST_ENDPOINT) and tests/tools/pdreceiver.py standing in for PagerDuty.
set -u
if [ -z "${CIHA_TEST_ENDPOINT:-}" ]; then
	echo "SKIP: CIHA_TEST_ENDPOINT is not set: run through tests/run, which starts moto server" >&2
	exit 77
fi
ciha="${CIHA_BUILDDIR:-.}/cli/ciha"
src="${CIHA_SRCDIR:-.}"
work=$(mktemp -d)
receiver_pid=""
cleanup() {
	if [ -n "$receiver_pid" ]; then kill "$receiver_pid" 2>/dev/null; wait "$receiver_pid" 2>/dev/null; fi
	rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "not ok $1" >&2; [ -f "$work/err" ] && sed 's/^/    /' "$work/err" >&2; }
check() { local name=$1; shift; if "$@"; then ok; else fail "$name"; fi; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$work/out"; }
no_key() { ! grep -q "$KEY" "$work/out" "$work/err"; }

export HOME="$work" AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
export AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_SESSION_TOKEN AWS_RETRY_MODE
unset CIHA_PAGERDUTY_URL CIHA_PAGERDUTY_ROUTING_KEY
export AWS_ACCESS_KEY_ID=AKIDCLITEST AWS_SECRET_ACCESS_KEY='cli/Secret+Key0123456789abcdefghijklmnop'
E=(--region us-east-1 --endpoint-url "$CIHA_TEST_ENDPOINT")
run="a$$"
KEY="CliIntegrationKey0123456789abcde"   # 32 characters: a PagerDuty integration / routing key
cli() { "$ciha" "${E[@]}" "$@" >"$work/out" 2>"$work/err"; }
pd() { "$ciha" pagerduty "$@" >"$work/out" 2>"$work/err"; }

# ---- the PagerDuty stand-in ----------------------------------------------------------------------
python3 "$src/tests/tools/pdreceiver.py" --max-seconds 300 >"$work/receiver" 2>&1 &
receiver_pid=$!
for _ in $(seq 1 100); do grep -q '^PID ' "$work/receiver" && break; sleep 0.1; done
port=$(sed -n 's/^PORT //p' "$work/receiver")
if [ -z "$port" ]; then
	echo "alarm_cli.sh: tests/tools/pdreceiver.py did not start (python3? CIHA_SRCDIR=$src)" >&2
	exit 1
fi
base="http://127.0.0.1:$port"
integration="$base/integration/$KEY/enqueue"
incidents() { curl -sf "$base/__pd/incidents" >"$work/out"; }

# ---- topic and subscription ---------------------------------------------------------------------
cli alarm topic "ciha-pages-$run"; rc=$?
topic=$(cat "$work/out")
check topic-exit test $rc -eq 0
check topic-arn grep -q "^arn:aws:sns:us-east-1:[0-9]*:ciha-pages-$run\$" "$work/out"
cli alarm topic "ciha-pages-$run"
check topic-idempotent test "$(cat "$work/out")" = "$topic"
cli alarm subscribe "$topic" "$integration"; rc=$?
check subscribe-http-refused test $rc -eq 1
check subscribe-refusal-keyless no_key
cli alarm subscribe "$topic" "$integration" --allow-http; rc=$?
check subscribe-exit test $rc -eq 0
check subscribe-confirmed grep -q "^arn:aws:sns:.*:ciha-pages-$run:[^ ]* confirmed\$" "$work/out"
check subscribe-keyless no_key
cli alarm subscribe "$topic" "$integration" --allow-http --json
check subscribe-once json 'assert d["confirmed"] is True and d["subscription_arn"].startswith("'"$topic"':"), d'
cli call sns ListSubscriptionsByTopic TopicArn="$topic"
check subscribe-one-subscription json 'assert len(d["Subscriptions"])==1, d'

# ---- alarms as desired state --------------------------------------------------------------------
prefix="cli-$run-"
vol_json=$("$ciha" "${E[@]}" call ec2 CreateVolume AvailabilityZone=us-east-1a Size:=1)
vol=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["volumeId"])' "$vol_json")
cat >"$work/alarms.json" <<EOF
{"prefix": "$prefix", "topic_arn": "$topic", "alarms": [
  {"name": "nexus-elb", "preset": "elb-no-healthy-host", "load_balancer": "nexus"},
  {"name": "artifacts-mounted", "preset": "volume-not-mounted", "host": "agent-$run", "mount_point": "/srv/artifacts"},
  {"name": "backup-age", "preset": "snapshot-too-old", "target": "$vol", "max_age_s": 93600},
  {"name": "db-disk", "namespace": "AWS/RDS", "metric": "FreeStorageSpace", "dimensions": {"DBInstanceIdentifier": "db1"},
   "statistic": "Minimum", "comparison": "LessThanThreshold", "threshold": 1073741824, "period": 300, "periods": 1,
   "datapoints": 1, "missing_data": "breaching"}
]}
EOF
cli alarm apply "$work/alarms.json" --dry-run; rc=$?
check plan-exit test $rc -eq 0
check plan-creates test "$(grep -c '^create .*\[planned\]$' "$work/out")" -eq 4
check plan-summary grep -q '^4 alarms, 4 changes planned, 0 failed$' "$work/out"
cli alarm list --prefix "$prefix"
check plan-changed-nothing grep -q '^0 alarms$' "$work/out"
cli alarm apply "$work/alarms.json"; rc=$?
check apply-exit test $rc -eq 0
check apply-summary grep -q '^4 alarms, 4 changes, 0 failed$' "$work/out"
cli alarm apply "$work/alarms.json" --json; rc=$?
check reapply-exit test $rc -eq 0
check reapply-unchanged json 'assert d["dry_run"] is False and [x["action"] for x in d["items"]]==["unchanged"]*4, d'
cli alarm list --prefix "$prefix" --json
check list-wired json 'assert len(d)==4; assert all(a["alarm_actions"]==["'"$topic"'"] and a["ok_actions"]==["'"$topic"'"] and a["managed"] for a in d), d'
check list-missing-data json 'm={a["name"]:a["missing_data"] for a in d}; assert m["'"$prefix"'artifacts-mounted"]=="breaching" and m["'"$prefix"'backup-age"]=="breaching", m'
cli alarm list --prefix "$prefix"
check list-text grep -q "^${prefix}nexus-elb .* ALARM->1 OK->1 managed\$" "$work/out"
sed 's/"threshold": 1073741824/"threshold": 2147483648/' "$work/alarms.json" >"$work/changed.json"
cli alarm apply "$work/changed.json" --dry-run
check plan-update grep -q "^update  *${prefix}db-disk  (Threshold: 1073741824 -> 2147483648" "$work/out"
printf '{"prefix": "%s", "alarms": [{"name": "x", "preset": "no-such-preset"}]}\n' "$prefix" >"$work/bad.json"
cli alarm apply "$work/bad.json"; rc=$?
check bad-file-exit test $rc -eq 1
check bad-file-names-path grep -q 'bad.json' "$work/err"

# ---- the fire drill: SNS -> the integration URL -> an incident that opens and resolves ------------
cli alarm drill "$work/alarms.json" --endpoint "$integration"; rc=$?
check drill-needs-https test $rc -eq 2
cli alarm drill "$work/alarms.json" --endpoint "$integration" --allow-http --resolve-after-ms 50; rc=$?
check drill-exit test $rc -eq 0
check drill-steps-ok test "$(grep -c '^FAIL' "$work/out")" -eq 0
check drill-subscription-step grep -q '^ok   subscription' "$work/out"
check drill-keyless no_key
incidents
check drill-paged-and-resolved json 'i=[v for v in d.values() if v["via"]=="cloudwatch"]; assert len(i)==1 and i[0]["events"]==["trigger","resolve"] and i[0]["status"]=="resolved" and i[0]["routing_key"]=="'"$KEY"'", d'
cli alarm drill "$work/alarms.json" --endpoint "$base/integration/OtherKey0123456789abcdefghijklmn/enqueue" --allow-http --json; rc=$?
check drill-unsubscribed-exit test $rc -eq 1
check drill-unsubscribed-step json 's=[x for x in d if x["step"]=="subscription"]; assert s and s[0]["ok"] is False, d'

# ---- probes -------------------------------------------------------------------------------------
cat >"$work/mountinfo" <<'EOF'
22 1 259:1 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p1 rw
30 22 259:2 / /srv/artifacts rw,noatime shared:5 - xfs /dev/nvme1n1 rw
31 22 0:40 / /srv/ci\040cache rw - ext4 /dev/nvme2n1 rw
EOF
P=(--mountinfo "$work/mountinfo" --host "agent-$run")
cli probe mounts /srv/artifacts "/srv/ci cache" "${P[@]}"; rc=$?
check mounts-exit test $rc -eq 0
check mounts-text grep -q '^ok  */srv/artifacts  *mounted from /dev/nvme1n1 (xfs)$' "$work/out"
check mounts-published grep -q "^host agent-$run, published to CloudWatch\$" "$work/out"
cli call cloudwatch ListMetrics Namespace=CIHA MetricName=VolumeMounted 'Dimensions:=[{"Name":"Host","Value":"agent-'$run'"}]'
check mounts-metrics json 'm=sorted(x["Value"] for m in d["Metrics"] for x in m["Dimensions"] if x["Name"]=="MountPoint"); assert m==["/srv/artifacts","/srv/ci cache"], d'
cli probe mounts /srv/artifacts /srv/missing --expect /srv/artifacts=/dev/nvme9n1 "${P[@]}" --no-publish; rc=$?
check mounts-missing-exit test $rc -eq 1
check mounts-missing-line grep -q '^MISSING /srv/missing  *not a mount point: it lies on /' "$work/out"
check mounts-wrong-device grep -q '^MISSING /srv/artifacts  *mounted from /dev/nvme1n1 (xfs), expected /dev/nvme9n1$' "$work/out"
check mounts-one-line-error test "$(wc -l <"$work/err")" -eq 1
check mounts-error grep -q '^ciha: error: 2 of 2 mount points not as expected' "$work/err"
cli probe mounts /srv/artifacts --expect /srv/artifacts=xfs "${P[@]}" --no-publish --json; rc=$?
check mounts-json-exit test $rc -eq 0
check mounts-json json 'm=d["mounts"][0]; assert d["published"] is False and m["ok"] and m["expected"]=="xfs", d'
cli probe mounts /srv/artifacts --expect /other=xfs "${P[@]}"; rc=$?
check mounts-stray-expect test $rc -eq 2
cli probe mounts "${P[@]}"; rc=$?
check mounts-no-path test $rc -eq 2
cli probe mounts relative/path "${P[@]}"; rc=$?
check mounts-relative test $rc -eq 1

cli call ec2 CreateSnapshot VolumeId="$vol"
cli probe snapshot-age "$vol"; rc=$?
check age-exit test $rc -eq 0
check age-text grep -Eq "^$vol: newest completed snapshot is [0-9]+ s old \(published to CloudWatch\)\$" "$work/out"
cli probe snapshot-age "$vol" --no-publish --json
check age-json json 'assert d["target"]=="'"$vol"'" and 0 <= d["age_seconds"] < 600 and d["published"] is False, d'
cli call cloudwatch ListMetrics Namespace=CIHA MetricName=SnapshotAgeSeconds 'Dimensions:=[{"Name":"Target","Value":"'$vol'"}]'
check age-metric json 'assert len(d["Metrics"])==1, d'
bare=$("$ciha" "${E[@]}" call ec2 CreateVolume AvailabilityZone=us-east-1a Size:=1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["volumeId"])')
cli probe snapshot-age "$bare"; rc=$?
check age-none-exit test $rc -eq 1
check age-none-error grep -q "^ciha: error: $bare has no completed snapshot\$" "$work/err"

# ---- pagerduty ----------------------------------------------------------------------------------
printf '%s\n' "$KEY" >"$work/key"
chmod 600 "$work/key"
PD=(--routing-key-file "$work/key" --pagerduty-url "$base/v2/enqueue")
pd trigger --dedup-key "cli-$run" --summary "Nexus has no healthy host" --severity critical --source nexus \
	--details '{"zone": "us-east-1a"}' "${PD[@]}"; rc=$?
check trigger-exit test $rc -eq 0
check trigger-dedup test "$(cat "$work/out")" = "cli-$run"
incidents
check trigger-incident json 'i=d["cli-'$run'"]; assert i["status"]=="triggered" and i["severity"]=="critical" and i["custom_details"]=={"zone":"us-east-1a"} and i["routing_key"]=="'"$KEY"'", i'
CIHA_PAGERDUTY_ROUTING_KEY="$KEY" CIHA_PAGERDUTY_URL="$base/v2/enqueue" pd ack --dedup-key "cli-$run"; rc=$?
check ack-env-exit test $rc -eq 0
check ack-text grep -q "^acknowledged cli-$run\$" "$work/out"
pd resolve --dedup-key "cli-$run" "${PD[@]}" --json; rc=$?
check resolve-exit test $rc -eq 0
check resolve-json json 'assert d=={"action":"resolve","dedup_key":"cli-'$run'"}, d'
incidents
check resolved-incident json 'assert d["cli-'$run'"]["status"]=="resolved" and d["cli-'$run'"]["events"]==["trigger","acknowledge","resolve"], d'
pd trigger --summary "no dedup key" "${PD[@]}"
check trigger-generated-key grep -Eq '^[0-9a-f]{32}$' "$work/out"
pd trigger --summary s --routing-key "$KEY" --pagerduty-url "$base/v2/enqueue"; rc=$?
check inline-key-refused test $rc -eq 2
check inline-key-reason grep -q 'visible to every user' "$work/err"
check inline-key-not-echoed no_key
pd trigger --summary s --pagerduty-url "$base/v2/enqueue"; rc=$?
check no-key-usage test $rc -eq 2
printf 'short-key\n' >"$work/short"
pd trigger --summary s --routing-key-file "$work/short" --pagerduty-url "$base/v2/enqueue"; rc=$?
check refused-exit test $rc -eq 1
check refused-message grep -q "^ciha: error: PagerDuty refused the trigger event: Event object is invalid: Length of 'routing_key' is incorrect" "$work/err"
pd resolve "${PD[@]}"; rc=$?
check resolve-needs-dedup test $rc -eq 2
pd trigger --summary s --severity urgent "${PD[@]}"; rc=$?
check bad-severity-exit test $rc -eq 1
"$ciha" --verbose pagerduty trigger --summary traced --dedup-key "traced-$run" "${PD[@]}" >"$work/out" 2>"$work/err"; rc=$?
check verbose-exit test $rc -eq 0
check verbose-traces grep -q 'TRACE http: > POST /v2/enqueue' "$work/err"
check verbose-keyless no_key
pd frobnicate; rc=$?
check unknown-verb test $rc -eq 2
pd --help; rc=$?
check help-exit test $rc -eq 0
check help-says-why grep -q 'never taken on the command line' "$work/out"
cli alarm --help; rc=$?
check alarm-help test $rc -eq 0
cli probe --help; rc=$?
check probe-help test $rc -eq 0

echo "alarm_cli.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
