#!/usr/bin/env bash
# snapshot_cli.sh: `ciha snapshot` as a cron user runs it, against moto (CIHA_TEST_ENDPOINT).
set -u
if [ -z "${CIHA_TEST_ENDPOINT:-}" ]; then
	echo "SKIP: CIHA_TEST_ENDPOINT is not set: run through tests/run, which starts moto server" >&2
	exit 77
fi
ciha="${CIHA_BUILDDIR:-.}/cli/ciha"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "not ok $1" >&2; [ -f "$work/err" ] && sed 's/^/    /' "$work/err" >&2; }
check() { local name=$1; shift; if "$@"; then ok; else fail "$name"; fi; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $1" "$work/out"; }

export HOME="$work" AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
export AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_SESSION_TOKEN AWS_RETRY_MODE
export AWS_ACCESS_KEY_ID=AKIDCLITEST AWS_SECRET_ACCESS_KEY='cli/Secret+Key0123456789abcdefghijklmnop'
E=(--region us-east-1 --endpoint-url "$CIHA_TEST_ENDPOINT")
run="c$$"
policy="cli-$run"
snap() { "$ciha" "${E[@]}" snapshot "$@" >"$work/out" 2>"$work/err"; }
count() { grep -c "^$1 " "$work/out"; }

# what cron backs up: a tagged volume and a tagged DB
"$ciha" "${E[@]}" call ec2 CreateVolume AvailabilityZone=us-east-1a Size:=2 \
	'TagSpecification:=[{"ResourceType":"volume","Tag":[{"Key":"Backup","Value":"daily"},{"Key":"Run","Value":"'$run'"}]}]' \
	>"$work/out" 2>"$work/err"
vol=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["volumeId"])' "$work/out")
db="db-$run"
"$ciha" "${E[@]}" call rds CreateDBInstance DBInstanceIdentifier="$db" Engine=postgres DBInstanceClass=db.t3.micro \
	AllocatedStorage:=5 'Tags:=[{"Key":"Backup","Value":"daily"},{"Key":"Run","Value":"'$run'"}]' >/dev/null 2>"$work/err"
check setup test -n "$vol"
T=(--tag Backup=daily --tag Run="$run" --policy "$policy")

# take by tag: both targets, exit 0; the same again is a cron-safe skip
snap take "${T[@]}" --keep 3 --snapshot-tag Team=ci; rc=$?
check take-exit test $rc -eq 0
check take-creates test "$(count create)" -eq 2
check take-volume grep -q "^create  *$vol  *snap-" "$work/out"
check take-db grep -q "^create  *$db  *ciha-" "$work/out"
check take-summary grep -q '^2 items, 0 failed$' "$work/out"
snap take "${T[@]}" --keep 3; rc=$?
check retake-exit test $rc -eq 0
check retake-skips test "$(count skip)" -eq 2
"$ciha" "${E[@]}" call ec2 DescribeSnapshots Filter.1.Name=volume-id Filter.1.Value.1="$vol" >"$work/out" 2>"$work/err"
check take-tags json 's=d["snapshotSet"]; assert len(s)==1, s; t={x["key"]:x["value"] for x in s[0]["tagSet"]}; assert t["ciha:managed-by"]=="libciha" and t["ciha:policy"]=="'$policy'" and t["ciha:source"]=="'$vol'" and t["Team"]=="ci", t'

# a history: with a zero interval every take makes a new one (a second apart: RDS ids carry the second)
for i in 1 2; do
	sleep 1
	snap take "${T[@]}" --keep 3 --interval-hours 0
done
check history-take test "$(count create)" -eq 2
snap list --volume "$vol" --db "$db" --json
check list-json json 'i=[x for x in d["items"] if x["action"]=="list"]; assert len([x for x in i if x["target"]=="'$vol'"])==3 and len([x for x in i if x["target"]=="'$db'"])>=3, d'

# run --dry-run --json: the plan, nothing changes
sleep 1
snap run "${T[@]}" --keep 2 --interval-hours 0 --wait --dry-run --json; rc=$?
check dry-run-exit test $rc -eq 0
check dry-run-plan json 'i=d["items"]; assert d["dry_run"] is True; assert sum(1 for x in i if x["action"]=="delete" and x["outcome"]!="ok")==4, i; assert sum(1 for x in i if x["action"]=="create")==2; assert all(x["reason"] for x in i)'
"$ciha" "${E[@]}" call ec2 DescribeSnapshots Filter.1.Name=volume-id Filter.1.Value.1="$vol" >"$work/out" 2>"$work/err"
check dry-run-changes-nothing json 'assert len(d["snapshotSet"])==3, d'

# run --keep 2 for real: a new one each, the two oldest of each deleted
CIHA_POLL_INTERVAL_MS=10 snap run "${T[@]}" --keep 2 --interval-hours 0 --wait --json; rc=$?
check run-exit test $rc -eq 0
check run-report json 'i=d["items"]; assert d["failures"]==0; assert sum(1 for x in i if x["action"]=="delete" and x["outcome"]=="ok")==4, i'
"$ciha" "${E[@]}" call ec2 DescribeSnapshots Filter.1.Name=volume-id Filter.1.Value.1="$vol" >"$work/out" 2>"$work/err"
check run-kept-two json 'assert len(d["snapshotSet"])==2, d'

# --policy-file: keep 1, rotate only
printf '{"name": "%s", "keep": 1, "interval_hours": 0}\n' "$policy" >"$work/policy.json"
snap rotate --volume "$vol" --db "$db" --policy-file "$work/policy.json"; rc=$?
check policy-file-exit test $rc -eq 0
check policy-file-deletes test "$(count delete)" -eq 2
printf '{"name": "%s", "keep": "many"}\n' "$policy" >"$work/bad.json"
snap rotate --volume "$vol" --policy-file "$work/bad.json"; rc=$?
check policy-file-bad-exit test $rc -eq 1
check policy-file-bad-names grep -q 'bad.json.*\$\.keep' "$work/err"

# restore: a new volume from the newest snapshot; a new DB from the newest manual snapshot
snap restore --volume "$vol" --az us-east-1b; rc=$?
check restore-volume-exit test $rc -eq 0
check restore-volume-id grep -Eq '^vol-[0-9a-f]+$' "$work/out"
snap restore --db "$db" --new-db "$db-restored" --json; rc=$?
check restore-db-exit test $rc -eq 0
check restore-db-json json 'assert d["db_instance_id"]=="'$db-restored'", d'

# exit 1 with a failed item: a pre hook that fails; one line on stderr
sleep 1
snap take --volume "$vol" --policy "$policy" --keep 3 --interval-hours 0 --pre-hook false --post-hook "touch '$work/post'"; rc=$?
check failed-item-exit test $rc -eq 1
check failed-item-report grep -q '^1 items, 1 failed$' "$work/out"
check failed-item-one-line test "$(wc -l <"$work/err")" -eq 1
check failed-item-message grep -q "^ciha: error: 1 of the run's items failed; first: create $vol: pre hook for $vol failed (exit status 1)\$" "$work/err"
check post-hook-ran test -f "$work/post"

# usage errors: exit 2, one line
snap take --volume "$vol" --keep lots; rc=$?
check bad-keep-exit test $rc -eq 2
check bad-keep-one-line test "$(wc -l <"$work/err")" -eq 1
check bad-keep-message grep -q "^ciha: error: --keep expects a non-negative integer, got 'lots'" "$work/err"
snap take --volume "$vol" --keep 3 --frobnicate; rc=$?
check unknown-option-exit test $rc -eq 2
check unknown-option-one-line test "$(wc -l <"$work/err")" -eq 1
snap frobnicate --volume "$vol"; rc=$?
check unknown-verb-exit test $rc -eq 2
snap restore --volume "$vol"; rc=$?
check restore-usage-exit test $rc -eq 2
snap take --tag Backup --keep 3; rc=$?
check bad-tag-exit test $rc -eq 2
snap --help; rc=$?
check help-exit test $rc -eq 0
check help-text grep -q 'exit status: 0 all fine, 1 an item failed' "$work/out"

echo "snapshot_cli.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
