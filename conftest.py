"""Tests never talk to real AWS: fake credentials and a region are set before anything imports
boto3. (What is importable comes from pyproject.toml's pytest ``pythonpath``.)"""

import os

_TEST_ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_METRICS_NAMESPACE": "DatalakeEvents",
    "POWERTOOLS_SERVICE_NAME": "datalake-events-tests",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_DEV": "0",
}
if not os.environ.get("AWS_SAM_STACK_NAME"):
    os.environ.update(_TEST_ENVIRONMENT)
    os.environ.pop("AWS_PROFILE", None)
