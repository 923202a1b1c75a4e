"""The local runtime matches EventBridge rule patterns as EventBridge does, on a small template
of its own: a pattern written as JSON text (as CloudFormation accepts it, built with Fn::Sub
from a parameter) deploys, and its exact, prefix and wildcard filters route only what they
match to the rule's queue target."""

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local_runtime import LocalRuntime

pytestmark = pytest.mark.dynamodb_incidental

TEMPLATE = textwrap.dedent(
    """
    Parameters:
      Others:
        Type: String
        Default: "etl-*"
    Resources:
      Matched:
        Type: AWS::SQS::Queue
      JobRule:
        Type: AWS::Events::Rule
        Properties:
          EventPattern: !Sub >-
            {"source": ["tests.jobs"], "detail": {"jobName": ["own-job",
            {"prefix": "${AWS::StackName}-"}, {"wildcard": "${Others}"},
            {"wildcard": "*-nightly-*"}]}}
          Targets:
            - Id: queue
              Arn: !GetAtt Matched.Arn
    Outputs:
      MatchedUrl:
        Value: !Ref Matched
    """
)


def deploy(root: Path, template: str, parameters: dict[str, str] | None = None) -> LocalRuntime:
    path = root / "template.yaml"
    path.write_text(template)
    return LocalRuntime(path, parameters, stack_name="patterns", workdir=root / ".work")


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LocalRuntime]:
    with deploy(tmp_path, TEMPLATE) as local:
        yield local


def job_names(runtime: LocalRuntime) -> list[str]:
    url = runtime.outputs["MatchedUrl"]
    messages = runtime.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    return sorted(json.loads(m["Body"])["detail"]["jobName"] for m in messages)


def put(runtime: LocalRuntime, *names: str) -> None:
    entries: list[Any] = [
        {"Source": "tests.jobs", "DetailType": "job", "Detail": json.dumps({"jobName": name})}
        for name in names
    ]
    assert runtime.client("events").put_events(Entries=entries)["FailedEntryCount"] == 0
    runtime.settle()


def test_a_json_text_pattern_routes_exact_prefix_and_wildcard_matches_only(
    runtime: LocalRuntime,
) -> None:
    # Given a rule whose pattern is JSON text: "own-job", prefix "patterns-", wildcards "etl-*"
    # (from the parameter) and "*-nightly-*"
    # When jobs matching each, and jobs matching none, change state
    put(
        runtime,
        "own-job",
        "own-job-2",
        "patterns-merge",
        "etl-orders",
        "orders-etl",
        "sales-nightly-load",
        "nightly-load",
    )
    # Then exactly the matching ones reach the target
    assert job_names(runtime) == ["etl-orders", "own-job", "patterns-merge", "sales-nightly-load"]


def test_a_pattern_text_that_is_not_a_json_object_fails_the_deploy(tmp_path: Path) -> None:
    # Given a rule whose pattern text is a JSON list, not an object
    broken = TEMPLATE.replace('{"source"', '[{"source"').replace(
        '"*-nightly-*"}]}}', '"*-nightly-*"}]}}]'
    )
    # When the template is deployed
    # Then the deploy fails naming the rule, as CloudFormation's would
    with pytest.raises(
        ValueError, match=r"EventPattern of patterns-JobRule-.* is not a JSON object"
    ):
        deploy(tmp_path, broken).start()
