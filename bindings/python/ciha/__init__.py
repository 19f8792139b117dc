"""libciha for Python: AWS calls, snapshots, stacks, alarms and PagerDuty for CI high availability.

    import ciha
    with ciha.Client(region="eu-west-1") as client:
        print(client.whoami().arn)
        for page in client.paginate("ec2", "DescribeVolumes"):
            ...
"""
from . import ciha_native as _native
from ._errors import *  # noqa: F401,F403 (the generated exception classes)
from ._errors import Error
from .client import Client, Identity
from .snapshots import SnapshotPolicy, Report, ReportItem, SnapshotEvent
from .stacks import Stack, Deployment, StackEvent, Change
from .alarms import AlarmSet, Plan, PlanItem, PagerDuty
from ._util import Record

__version__ = _native.ciha_version()

if _native.ciha_global_init(_native.CIHA_GLOBAL_DEFAULT) is None:
    import atexit
    atexit.register(_native.ciha_global_cleanup)

__all__ = ["Client", "Identity", "SnapshotPolicy", "Report", "ReportItem", "SnapshotEvent", "Stack",
           "Deployment", "StackEvent", "Change", "AlarmSet", "Plan", "PlanItem", "PagerDuty", "Record",
           "__version__"] + list(_errors.__all__)
