#!/usr/bin/env bash
# secrets.sh: a realistic `ciha --verbose` (TRACE) session against moto with a known
# secret key, session token, PagerDuty routing key and a PagerDuty integration URL
# subscribed to a topic: none of them may appear in any stdout, stderr or JSON
# output, at any log level. Also: ciha writes no core file and does not switch
# core dumps on (it calls neither setrlimit nor prctl).
set -u
if [ -z "${CIHA_TEST_ENDPOINT:-}" ]; then
	echo "SKIP: CIHA_TEST_ENDPOINT is not set: run through tests/run, which starts moto server" >&2
	exit 77
fi
ciha="${CIHA_BUILDDIR:-.}/cli/ciha"
src="${CIHA_SRCDIR:-.}"
work=$(mktemp -d); [ -n "${KEEP:-}" ] && echo "work: $work"
receiver_pid=""
cleanup() {
	if [ -n "$receiver_pid" ]; then kill "$receiver_pid" 2>/dev/null; wait "$receiver_pid" 2>/dev/null; fi
	[ -n "${KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
passed=0 failed=0
check() { local name=$1; shift; if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "not ok $name" >&2; fi; }

SECRET='Secr3t/Key+For0CihaTraceTest0123456789ab'
TOKEN='FwoGZXIvYXdzECihaSessionToken0123456789abcdefTRACEzz'
ROUTING='CihaRoutingKey0123456789abcdefgh'      # 32 characters, like a PagerDuty key
INTEGRATION='CihaIntegrationKey0123456789abcd'
export HOME="$work" AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
export AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_RETRY_MODE
unset CIHA_PAGERDUTY_URL CIHA_PAGERDUTY_ROUTING_KEY
export AWS_ACCESS_KEY_ID=AKIDSECRETSTEST AWS_SECRET_ACCESS_KEY="$SECRET" AWS_SESSION_TOKEN="$TOKEN"
run="s$$"
n=0
# Every command's stdout and stderr are kept as out.N / err.N.
cli() {
	n=$((n + 1))
	(cd "$work" && "$ciha" --verbose --region us-east-1 --endpoint-url "$CIHA_TEST_ENDPOINT" "$@") \
		>"$work/out.$n" 2>"$work/err.$n"
	echo $? >"$work/rc.$n"
}
rc() { cat "$work/rc.$n"; }

# ---- the PagerDuty stand-in ----------------------------------------------------------------------
python3 "$src/tests/tools/pdreceiver.py" --max-seconds 300 >"$work/receiver" 2>&1 &
receiver_pid=$!
for _ in $(seq 1 100); do grep -q '^PID ' "$work/receiver" && break; sleep 0.1; done
port=$(sed -n 's/^PORT //p' "$work/receiver")
if [ -z "$port" ]; then
	echo "secrets.sh: tests/tools/pdreceiver.py did not start" >&2
	exit 1
fi
base="http://127.0.0.1:$port"
printf '%s\n' "$ROUTING" >"$work/routing-key"
chmod 600 "$work/routing-key"

# ---- the session ---------------------------------------------------------------------------------
cli whoami --json
check whoami test "$(rc)" -eq 0
cli call ec2 CreateVolume AvailabilityZone=us-east-1a Size=8
vol=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["volumeId"])' "$work/out.$n" 2>/dev/null)
check create-volume test -n "$vol"
cli snapshot take --volume "$vol" --policy "$run" --keep 2 --json
check snapshot-take test "$(rc)" -eq 0
cli snapshot run --volume "$vol" --policy "$run" --keep 1 --interval-hours 0 --json
check snapshot-run test "$(rc)" -eq 0
cat >"$work/stack.yaml" <<'YAML'
Resources:
  Topic:
    Type: AWS::SNS::Topic
YAML
cli stack deploy "ciha-secrets-$run" --template "$work/stack.yaml" --json
check stack-deploy test "$(rc)" -eq 0
cli alarm topic "ciha-secrets-$run"
topic=$(cat "$work/out.$n")
check alarm-topic test "$(rc)" -eq 0
cli alarm subscribe "$topic" "$base/integration/$INTEGRATION/enqueue" --allow-http --json
check alarm-subscribe test "$(rc)" -eq 0
cat >"$work/alarms.json" <<JSON
{"prefix": "ciha-secrets-$run-", "topic_arn": "$topic", "alarms": [
  {"name": "host", "preset": "status-check-failed", "instance_id": "i-0123456789abcdef0"}]}
JSON
cli alarm apply "$work/alarms.json" --json
check alarm-apply test "$(rc)" -eq 0
cli alarm drill "$work/alarms.json" --endpoint "$base/integration/$INTEGRATION/enqueue" --allow-http --json
check alarm-drill test "$(rc)" -eq 0
cli call sns ListSubscriptionsByTopic TopicArn="$topic"
check list-subscriptions test "$(rc)" -eq 0
# `ciha call` prints the raw answer the user asked for, endpoint URL and all: its
# stdout is the one output not searched (its TRACE on stderr is).
raw_answer="$work/out.$n"
cli pagerduty trigger --summary "secrets test" --routing-key-file "$work/routing-key" --pagerduty-url "$base/v2/enqueue"
check pagerduty-trigger test "$(rc)" -eq 0
CIHA_PAGERDUTY_ROUTING_KEY="$ROUTING" cli pagerduty trigger --summary "key from the environment" \
	--pagerduty-url "$base/v2/enqueue"
check pagerduty-trigger-env test "$(rc)" -eq 0
cli pagerduty trigger --summary "on the command line" --routing-key "$ROUTING" --pagerduty-url "$base/v2/enqueue"
check pagerduty-argv-refused test "$(rc)" -eq 2
cli call ec2 DeleteVolume VolumeId=vol-doesnotexist0000
check failing-call test "$(rc)" -eq 1
cli call sts GetCallerIdentity --json
check sts test "$(rc)" -eq 0

# ---- what the session wrote ----------------------------------------------------------------------
outputs=("$work"/err.*)
for f in "$work"/out.*; do
	[ "$f" = "$raw_answer" ] || outputs+=("$f")
done
check trace-was-on grep -q '^' "$work/err.1"
check token-was-sent grep -qi 'x-amz-security-token' "$work"/err.*
for name in SECRET TOKEN ROUTING INTEGRATION; do
	value="${!name}"
	hits=$(cat "${outputs[@]}" | grep -c -F -- "$value")
	check "no-$name-in-output ($hits lines)" test "$hits" -eq 0
	# Half of a secret is a leak too.
	hits=$(cat "${outputs[@]}" | grep -c -F -- "${value:0:16}")
	check "no-half-$name-in-output ($hits lines)" test "$hits" -eq 0
done
echo "secrets.sh: $n commands, $(cat "${outputs[@]}" | wc -l) lines of output searched for 4 secrets"

# ---- core dumps ----------------------------------------------------------------------------------
cores=$(find "$work" -maxdepth 1 -name 'core*' | wc -l)
check no-core-files test "$cores" -eq 0
if command -v nm >/dev/null; then
	lib=$(ldd "$ciha" 2>/dev/null | sed -n 's/.*libciha[^ ]* => \([^ ]*\).*/\1/p')
	[ -z "$lib" ] && lib="${CIHA_BUILDDIR:-.}/libciha/.libs/libciha.so"
	check no-core-switches sh -c "! nm -D --undefined-only '$lib' '$ciha' 2>/dev/null | grep -Eq ' (setrlimit|prctl)(@|\$)'"
fi
# Wiping secrets from memory (ciha__free_secret) is not observable from here: skipped.

echo "secrets: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
