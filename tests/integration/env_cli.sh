#!/usr/bin/env bash
# env_cli.sh: `ciha env plan|apply|audit|drill` as a shell user runs them against moto
# (CIHA_TEST_ENDPOINT) with tests/tools/pdreceiver.py as the PagerDuty endpoint: the seed
# environment renamed for this run, usage and spec errors, exit statuses, an audit that
# fails loudly once the database is opened to the world, and a drill that cleans up.
set -u
if [ -z "${CIHA_TEST_ENDPOINT:-}" ]; then
	echo "SKIP: CIHA_TEST_ENDPOINT is not set: run through tests/run, which starts moto server" >&2
	exit 77
fi
ciha="${CIHA_BUILDDIR:-.}/cli/ciha"
src="${CIHA_SRCDIR:-.}"
work=$(mktemp -d)
pd_pid=
trap '[ -n "$pd_pid" ] && kill "$pd_pid" 2>/dev/null; rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "not ok $1" >&2; [ -f "$work/err" ] && sed 's/^/    /' "$work/err" | tail -5 >&2; }
check() { local name=$1; shift; if "$@"; then ok; else fail "$name"; fi; }

export HOME="$work" AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
export AWS_EC2_METADATA_DISABLED=true CIHA_POLL_INTERVAL_MS=50
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=AKIDENVCLI AWS_SECRET_ACCESS_KEY='env/Secret+Key0123456789abcdefghijklmno'
E=(--region us-east-1 --endpoint-url "$CIHA_TEST_ENDPOINT")
name="c$$"

run() { "$ciha" "${E[@]}" "$@" >"$work/out" 2>"$work/err"; rc=$?; }
py_ok() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$work/out" "$1"; }
one_line_error() { [ "$(wc -l <"$work/err")" -ge 1 ] && [ "$(grep -c '^ciha: error: ' "$work/err")" -eq 1 ]; }

# the PagerDuty stand-in
python3 "$src/tests/tools/pdreceiver.py" --max-seconds 120 >"$work/pd.out" 2>/dev/null &
pd_pid=$!
for _ in $(seq 1 50); do grep -q '^PORT' "$work/pd.out" 2>/dev/null && break; sleep 0.1; done
pd_url="http://127.0.0.1:$(sed -n 's/^PORT //p' "$work/pd.out")/integration/0123456789abcdef0123456789abcdef/enqueue"

# the seed environment under this run's name; moto cannot switch termination protection on
sed -e "s/\"name\": \"ci\",/\"name\": \"$name\",/" -e "s#\"\\.\\./templates/#\"$src/examples/templates/#" \
	-e 's/"protect": true/"protect": false/' "$src/examples/env/ci.json" >"$work/env.json"

# ---- usage and spec errors ------------------------------------------------------------------
run env
check no-verb test "$rc" -eq 2
run env frobnicate "$work/env.json"
check unknown-verb test "$rc" -eq 2
run env plan
check plan-needs-file test "$rc" -eq 2
run env --help
check help grep -q 'ciha env plan|apply|audit|drill FILE' "$work/out"
run env plan "$work/missing.json"
check missing-file-exit test "$rc" -eq 1
check missing-file-named grep -q "missing.json: cannot read the environment spec" "$work/err"
sed 's#"template": "[^"]*network.yaml"#"template": 42#' "$work/env.json" >"$work/bad.json"
run env plan "$work/bad.json"
check bad-spec-exit test "$rc" -eq 1
check bad-spec-path grep -q 'bad.json: $.stacks\[0\].template: expected a string naming a template file' "$work/err"
check bad-spec-one-line one_line_error

# ---- plan, apply, apply again ------------------------------------------------------------------
run env plan "$work/env.json" --pagerduty-url "$pd_url"
check plan-exit test "$rc" -eq 0
check plan-creates test "$(grep -c '^  create  *'"$name"'-' "$work/out")" -eq 6   # five stacks and the topic
check plan-progress grep -q "^plan: stack $name-network: create" "$work/err"
run env apply "$work/env.json" --pagerduty-url "$pd_url"
check apply-exit test "$rc" -eq 0
check apply-progress grep -q "^apply: $name: " "$work/err"
check apply-alarms test "$(grep -c "^  create  *$name-" "$work/out")" -ge 12   # 5 stacks + 7 alarms
run --json env apply "$work/env.json" --pagerduty-url "$pd_url"
check reapply-exit test "$rc" -eq 0
check reapply-no-changes py_ok "d['changes'] == 0 and d['ok'] and all(s['action'] == 'unchanged' for s in d['stacks'])"
check reapply-key-hidden sh -c "! grep -q 0123456789abcdef0123456789abcdef '$work/out' '$work/err'"

# ---- audit ----------------------------------------------------------------------------------------
run env audit "$work/env.json" --pagerduty-url "$pd_url"
check audit-exit test "$rc" -eq 0
check audit-summary grep -q '^[0-9]* passed, 0 failed$' "$work/out"
run --json env audit "$work/env.json" --pagerduty-url "$pd_url"
sg=$(python3 -c 'import json,sys; print([c["evidence"].split(":")[0] for c in json.load(open(sys.argv[1]))["checks"] if c["check"] == "no-public-ingress" and c["subject"] == "database"][0])' "$work/out")
run call ec2 AuthorizeSecurityGroupIngress GroupId="$sg" IpPermissions.1.IpProtocol=tcp IpPermissions.1.FromPort=5432 \
	IpPermissions.1.ToPort=5432 IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0/0
check open-database test "$rc" -eq 0
run env audit "$work/env.json" --pagerduty-url "$pd_url"
check broken-audit-exit test "$rc" -eq 1
check broken-audit-names-database grep -q '^FAIL  no-public-ingress  *database .*tcp 5432 from 0.0.0.0/0' "$work/out"
check broken-audit-error grep -q "^ciha: error: audit of $name: 2 of [0-9]* checks failed: security-group-chain database; no-public-ingress database" "$work/err"

# ---- drill --------------------------------------------------------------------------------------------
run env drill "$work/env.json"
check drill-exit test "$rc" -eq 0
check drill-three-restores test "$(grep -c 'cleanup deleted$' "$work/out")" -eq 3
check drill-summary grep -q '^recovery time [0-9.]* s, recovery point age [0-9]* s, metrics published$' "$work/out"
run --json env drill "$work/env.json" --keep
check drill-keep py_ok "d['ok'] and all(r['cleanup'] == 'kept' for r in d['resources'])"
db=$(python3 -c 'import json,sys; print([r["scratch"] for r in json.load(open(sys.argv[1]))["resources"] if r["kind"] == "db"][0])' "$work/out")
run call rds DescribeDBInstances DBInstanceIdentifier="$db"
check drill-kept-db-exists test "$rc" -eq 0
run call rds DeleteDBInstance DBInstanceIdentifier="$db" SkipFinalSnapshot=true

echo "env_cli.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
