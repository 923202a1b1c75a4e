"""The commands the README promises: `make invoke` and `make demo` (via python -m dev)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dev.__main__ import main

ROOT = Path(__file__).resolve().parents[2]


def test_invoke_runs_the_deployed_function_with_a_sample_event(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the sample SQS batch of the file tracker
    event = ROOT / "events" / "file_tracker" / "sqs_batch.json"

    # When it is invoked locally by logical id
    exit_code = main(["invoke", "FileTrackerFunction", str(event)])

    # Then the function succeeds for every record
    assert exit_code == 0
    assert json.loads(capsys.readouterr().out) == {"batchItemFailures": []}


def test_invoke_reports_the_malformed_record_as_a_batch_item_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a batch where one record is not an EventBridge S3 event
    event = ROOT / "events" / "file_tracker" / "malformed_record.json"
    records = json.loads(event.read_text())["Records"]

    # When it is invoked locally
    exit_code = main(["invoke", "FileTrackerFunction", str(event)])

    # Then exactly that record is reported for redelivery
    assert exit_code == 0
    failures = json.loads(capsys.readouterr().out)["batchItemFailures"]
    assert failures == [{"itemIdentifier": records[1]["messageId"]}]


def test_invoke_with_a_config_plans_the_cadence(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the planner's sample tick and the example pipeline config
    event = ROOT / "events" / "batch_planner" / "hourly_tick.json"
    config = ROOT / "config" / "pipeline.yaml"

    # When the planner is invoked locally after the config is loaded
    exit_code = main(["invoke", "BatchPlannerFunction", str(event), "--config", str(config)])

    # Then it plans the hourly cadence: nothing has landed, so no batches
    assert exit_code == 0
    plan = json.loads(capsys.readouterr().out)
    assert (plan["cadence"], plan["batch_count"], plan["batches"]) == ("hourly", 0, [])


def test_demo_prints_what_happened_and_the_tracked_files(tmp_path: Path) -> None:
    # Given a fresh process, as `make demo` starts one
    # When the demo runs
    result = subprocess.run(
        [sys.executable, "-m", "dev", "demo", "--workdir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # Then it succeeds and reports routing, invocations, items and the tracker contents
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "rule StagingObjectCreatedRule → FileTrackerQueue" in out
    assert "FileTrackerFunction ← queue FileTrackerQueue" in out
    assert "sales/orders/2026/11/23/20261123-101500123.csv" in out
    assert "DuplicatesSkipped" in out
    items_line = next(line for line in out.splitlines() if "items written" in line)
    assert items_line.split()[-1] == "9"
    # ...and the batch runs merged the tables into the lake kept in the workdir
    # (one run per cadence schedule the config loader made, 15min included)
    assert "one schedule per cadence of the config (hourly, daily, 15min)" in out
    assert all(f"  {cadence}-" in out for cadence in ("hourly", "daily", "15min"))
    merged = [line.split() for line in out.splitlines() if line.startswith("  sales.orders ")]
    assert ["sales.orders", "hourly", "succeeded", "4", "4", "1", "1", "yes"] in merged
    assert (tmp_path / "lake.duckdb").exists()
    # ...and, last, drew every dashboard visual with data in a preview page it names
    assert (tmp_path / "dashboards.html").is_file()
    assert str(tmp_path / "dashboards.html") in out
    assert "no rows" not in out
