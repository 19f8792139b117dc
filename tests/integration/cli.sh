#!/usr/bin/env bash
# cli.sh: the ciha command as a shell user runs it, against moto (CIHA_TEST_ENDPOINT).
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

export HOME="$work" AWS_CONFIG_FILE="$work/config" AWS_SHARED_CREDENTIALS_FILE="$work/credentials"
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=AKIDCLITEST AWS_SECRET_ACCESS_KEY='cli/Secret+Key0123456789abcdefghijklmnop'
E=(--region us-east-1 --endpoint-url "$CIHA_TEST_ENDPOINT")

# whoami, text and JSON
"$ciha" "${E[@]}" whoami >"$work/out" 2>"$work/err"; rc=$?
check whoami-exit test $rc -eq 0
check whoami-account grep -q '^account   123456789012$' "$work/out"
check whoami-provider grep -q '^provider  env$' "$work/out"
check whoami-endpoint grep -q "^endpoint  $CIHA_TEST_ENDPOINT\$" "$work/out"
"$ciha" "${E[@]}" --json whoami >"$work/out" 2>"$work/err"
check whoami-json python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["account"]=="123456789012" and d["provider"]=="env", d' "$work/out"

# call with Name=Value and Name:=JSON, output is JSON
"$ciha" "${E[@]}" call sns CreateTopic Name=cli-topic-$$ >"$work/out" 2>"$work/err"
check call-create-topic python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["TopicArn"].endswith(":cli-topic-'$$'"), d' "$work/out"
"$ciha" "${E[@]}" call ec2 CreateVolume AvailabilityZone=us-east-1a Size:=4 \
	'TagSpecification:=[{"ResourceType":"volume","Tag":[{"Key":"Backup","Value":"cli-'$$'"}]}]' >"$work/out" 2>"$work/err"
check call-json-params grep -q '"volumeId": "vol-' "$work/out"
"$ciha" "${E[@]}" call ec2 DescribeVolumes Filter.1.Name=tag:Backup Filter.1.Value.1=cli-$$ >"$work/out" 2>"$work/err"
check call-dotted-params python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["volumeSet"])==1, d' "$work/out"

# --all follows pages
for i in 1 2 3; do "$ciha" "${E[@]}" call autoscaling CreateLaunchConfiguration LaunchConfigurationName=cli-lc-$$-$i ImageId=ami-1 InstanceType=t3.micro >/dev/null 2>&1; done
"$ciha" "${E[@]}" call autoscaling DescribeLaunchConfigurations MaxRecords=1 --all >"$work/out" 2>"$work/err"
check call-all python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); n=[x for x in d["LaunchConfigurations"] if x["LaunchConfigurationName"].startswith("cli-lc-'$$'")]; assert len(n)==3 and "NextToken" not in d, d' "$work/out"

# errors: one line, AWS code and request id, exit 1
"$ciha" "${E[@]}" call cloudformation DescribeStacks StackName=cli-missing >"$work/out" 2>"$work/err"; rc=$?
check error-exit test $rc -eq 1
check error-one-line test "$(wc -l <"$work/err")" -eq 1
check error-format grep -Eq '^ciha: error: .*ValidationError.*cli-missing.*request id [A-Za-z0-9-]+' "$work/err"

# usage errors exit 2
"$ciha" frobnicate >"$work/out" 2>"$work/err"; rc=$?
check usage-unknown-command test $rc -eq 2
"$ciha" "${E[@]}" call sns >"$work/out" 2>"$work/err"; rc=$?
check usage-call-args test $rc -eq 2
"$ciha" "${E[@]}" call sns ListTopics NoEquals >"$work/out" 2>"$work/err"; rc=$?
check usage-bad-param test $rc -eq 2
"$ciha" "${E[@]}" call s3 ListBuckets >"$work/out" 2>"$work/err"; rc=$?
check unknown-service test $rc -eq 1
check unknown-service-msg grep -q "unknown service 's3'" "$work/err"

# no region: one clear message naming what was tried
"$ciha" --endpoint-url "$CIHA_TEST_ENDPOINT" whoami >"$work/out" 2>"$work/err"; rc=$?
check no-region-exit test $rc -eq 1
check no-region-msg grep -q 'AWS_REGION, AWS_DEFAULT_REGION' "$work/err"

# --verbose traces HTTP on stderr without the secret or the signature
export AWS_SESSION_TOKEN='FQoGZXIvYXdzECLITOKENSECRETVALUE0123456789'
"$ciha" "${E[@]}" --verbose call sts GetCallerIdentity >"$work/out" 2>"$work/err"
check verbose-traces grep -qi 'POST' "$work/err"
check verbose-no-secret bash -c "! grep -qF \"$AWS_SECRET_ACCESS_KEY\" '$work/err'"
check verbose-no-token bash -c "! grep -qF \"$AWS_SESSION_TOKEN\" '$work/err'"
check verbose-no-signature bash -c "! grep -Eq 'Signature=[0-9a-f]{64}' '$work/err'"
unset AWS_SESSION_TOKEN

# profiles: --profile picks keys and region from the shared files
cat >"$work/credentials" <<EOT
[ci]
aws_access_key_id = AKIDPROFILE
aws_secret_access_key = profile-secret
EOT
chmod 600 "$work/credentials"
printf '[profile ci]\nregion = eu-west-1\n' >"$work/config"
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
"$ciha" --endpoint-url "$CIHA_TEST_ENDPOINT" --profile ci whoami >"$work/out" 2>"$work/err"
check profile-provider grep -q '^provider  profile$' "$work/out"
check profile-region grep -q '^region    eu-west-1$' "$work/out"

echo "cli.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
