"""sqlglot (about 60 ms of a cold start) loads on the first SQL to classify, never before: a
fresh process shows what a cold Lambda environment imports."""

import subprocess
import sys
from pathlib import Path

from redshift_audit_payloads import activity_line

ROOT = Path(__file__).resolve().parents[3]
PATHS = [str(ROOT / "functions" / "redshift_audit"), str(ROOT / "layers" / "shared")]


def fresh_process(code: str) -> str:
    """Runs ``code`` after the handler module is imported; returns what it prints."""
    script = f"import sys; sys.path[:0] = {PATHS!r}; import redshift_audit.handler\n{code}"
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={"POWERTOOLS_SERVICE_NAME": "redshift_audit", "AWS_DEFAULT_REGION": "us-east-1"},
    )
    return done.stdout.strip()


AUDITOR = """
from redshift_audit.service import LogEvent, LogSource, RedshiftAuditor
auditor = RedshiftAuditor(None, None, None, None, post_time_needed_s=1, ignore_users={"rdsdb"})
source = LogSource("123456789012", "group", "stream", "cluster")
"""


def test_importing_the_handler_does_not_load_the_sql_parser() -> None:
    # Given a fresh process / When the handler module is imported / Then sqlglot is not loaded
    assert fresh_process("print('sqlglot' in sys.modules)") == "False"


def test_activity_of_ignored_users_only_never_loads_the_sql_parser() -> None:
    # Given a log event holding only rdsdb's activity (ignored by default)
    line = activity_line("create temp table volt_tt_1 as select 1;", user="rdsdb")
    # When its sensitive records are looked for
    output = fresh_process(
        AUDITOR
        + f"print(auditor.sensitive_records(source, LogEvent('1', {line!r}))[0])\n"
        + "print('sqlglot' in sys.modules)"
    )
    # Then there are none, and the parser was never imported
    assert output.splitlines() == ["[]", "False"]


def test_the_first_statement_to_classify_loads_the_parser_and_is_classified() -> None:
    # Given an event with a user's DROP TABLE
    line = activity_line("drop table sales.orders;")
    # When its records are looked for / Then the parser loads and classifies it as DDL
    output = fresh_process(
        AUDITOR
        + f"[r] = auditor.sensitive_records(source, LogEvent('1', {line!r}))[0]\n"
        + "print(r.category, r.statement_type); print('sqlglot' in sys.modules)"
    )
    assert output.splitlines() == ["DDL DROP TABLE", "True"]
