"""Makes the code laid out for SAM importable in tests, as Lambda would see it.

Lambda puts a function's CodeUri and its layers' python/ folders on sys.path; we do the same
with every function folder (their module names are unique across functions, a unit test keeps
it so) and the shared layer. Tests never talk to real AWS: fake credentials and a region are
set before anything imports boto3.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent

for function_dir in sorted((ROOT / "functions").iterdir()):
    if function_dir.is_dir():
        sys.path.insert(0, str(function_dir))
sys.path.insert(0, str(ROOT / "layers" / "shared"))
sys.path.insert(0, str(ROOT))

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
