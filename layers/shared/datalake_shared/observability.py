"""One Logger, Tracer and Metrics per function process.

Powertools reads POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE from the environment the
template sets, so every function gets correctly labelled telemetry without code of its own.
Building them is cheap and needs no AWS access, so module scope is fine here.
"""

import os
from collections.abc import Mapping

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger()
# Only what the functions call out through: the AWS SDK and http.client (Slack). The default
# patches every library X-Ray knows, trying to import each one at every cold start.
tracer = Tracer(patch_modules=["botocore", "httplib"])
metrics = Metrics()

# Every metric carries the stage (template Globals set STAGE), so dev and prod never mix.
_stage = os.environ.get("STAGE")
if _stage:
    metrics.set_default_dimensions(stage=_stage)


def add_counts(counts: Mapping[str, int], *, zeros: bool = False) -> None:
    """Adds each count as a Count metric; a zero only with ``zeros`` (a dashboard that charts a
    rate needs its zeros, a count of rare failures does not)."""
    for name, value in counts.items():
        if value or zeros:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
