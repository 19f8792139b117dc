#!/bin/sh
# awscli_rotate.sh: the cron + aws-cli way of keeping the newest KEEP libciha
# snapshots per volume tagged Backup=daily: one `aws` process per call.
#   awscli_rotate.sh ENDPOINT_URL [MAX_VOLUMES] [KEEP] [POLICY]
# MAX_VOLUMES limits the run to the first volumes (the CLI is too slow for all 200).
set -eu
endpoint=$1
max_volumes=${2:-200}
keep=${3:-7}
policy=${4:-bench}
aws_ec2() { aws --endpoint-url "$endpoint" --output text ec2 "$@"; }

volumes=$(aws_ec2 describe-volumes --filters Name=tag:Backup,Values=daily --query 'Volumes[].VolumeId' |
	tr '\t' '\n' | head -n "$max_volumes")
for volume in $volumes; do
	expired=$(aws_ec2 describe-snapshots --owner-ids self \
		--filters "Name=volume-id,Values=$volume" Name=tag:ciha:managed-by,Values=libciha \
		"Name=tag:ciha:policy,Values=$policy" Name=status,Values=completed \
		--query "sort_by(Snapshots,&StartTime)[:-$keep].SnapshotId")
	for snapshot in $expired; do
		aws_ec2 delete-snapshot --snapshot-id "$snapshot"
	done
done
