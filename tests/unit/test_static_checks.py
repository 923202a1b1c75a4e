"""scripts/static_checks.py: which findings count as explained, and the pins of its venv."""

from typing import Any

from pins import pins
from static_checks import (
    TEMPLATE_LEVEL,
    Finding,
    Ignores,
    cfn_lint_ignores,
    classify_cfn_lint,
    classify_checkov,
    report,
    stale_ignores,
)
from template_support import ROOT


def _cfn_lint_match(rule: str, *path: str) -> dict[str, Any]:
    return {
        "Rule": {"Id": rule, "ShortDescription": f"title of {rule}"},
        "Location": {"Path": list(path)},
        "Message": "message",
    }


def _checkov_check(check_id: str, resource: str, comment: str | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"result": "SKIPPED" if comment else "FAILED"}
    if comment:
        result["suppress_comment"] = comment
    return {
        "check_id": check_id,
        "check_name": f"title of {check_id}",
        "resource": resource,
        "check_result": result,
    }


def _pins(path: str) -> dict[str, str]:
    return pins(ROOT / path)


def test_ignores_are_read_from_resources_and_the_template_with_their_reasons() -> None:
    # Given a template ignoring WS1004 on a function (with a reason) and ES7000 everywhere (without)
    template = {
        "Metadata": {"cfn-lint": {"config": {"ignore_checks": ["ES7000"]}}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Metadata": {
                    "cfn-lint": {
                        "config": {"ignore_checks": ["WS1004"]},
                        "ignore_reasons": {"WS1004": "  LoggingConfig names the group.  "},
                    }
                },
            },
            "Queue": {"Type": "AWS::SQS::Queue"},
        },
    }

    # When the ignores are collected
    ignores = cfn_lint_ignores(template)

    # Then each is keyed where it applies, the reason trimmed and a missing one None
    assert ignores.resources == {("WS1004", "Fn"): "LoggingConfig names the group."}
    assert ignores.template == {"ES7000": None}
    assert ignores.rule_ids() == ["ES7000", "WS1004"]


def test_a_resource_ignore_with_a_reason_explains_its_finding() -> None:
    # Given WS1004 ignored on Fn with a reason
    ignores = Ignores({}, {("WS1004", "Fn"): "LoggingConfig names the group."})

    # When cfn-lint reports WS1004 on Fn and on Other
    findings = classify_cfn_lint(
        [
            _cfn_lint_match("WS1004", "Resources", "Fn"),
            _cfn_lint_match("WS1004", "Resources", "Other"),
        ],
        ignores,
    )

    # Then only Fn's finding is explained
    assert [(f.resource, f.explained) for f in findings] == [("Fn", True), ("Other", False)]


def test_a_resource_ignore_without_a_reason_is_skipped_but_unexplained() -> None:
    # Given ES6000 ignored on a queue with no reason
    ignores = Ignores({}, {("ES6000", "Queue"): None})

    # When cfn-lint reports ES6000 on it
    [finding] = classify_cfn_lint([_cfn_lint_match("ES6000", "Resources", "Queue")], ignores)

    # Then it is skipped yet still unexplained
    assert finding.skipped
    assert not finding.explained


def test_a_template_ignore_matches_rule_ids_by_prefix_as_cfn_lint_does() -> None:
    # Given every ES7 rule ignored on the template, with a reason
    ignores = Ignores({"ES7": "email copies only"}, {})

    # When cfn-lint reports ES7000 on a subscription and E3012 on the template's Outputs
    findings = classify_cfn_lint(
        [_cfn_lint_match("ES7000", "Resources", "Sub"), _cfn_lint_match("E3012", "Outputs", "X")],
        ignores,
    )

    # Then ES7000 carries the template's reason and E3012 (outside Resources) stays unexplained
    assert [(f.check, f.resource, f.reason) for f in findings] == [
        ("ES7000", "Sub", "email copies only"),
        ("E3012", TEMPLATE_LEVEL, None),
    ]
    assert [f.explained for f in findings] == [True, False]


def test_an_ignore_that_hides_nothing_is_stale() -> None:
    # Given ignores on Fn (WS1004) and the template (ES7), and a finding only for the first
    ignores = Ignores({"ES7": "reason"}, {("WS1004", "Fn"): "reason", ("ES6000", "Q"): "reason"})
    findings = classify_cfn_lint([_cfn_lint_match("WS1004", "Resources", "Fn")], ignores)

    # When stale ignores are looked for
    stale = stale_ignores(findings, ignores)

    # Then the two ignores with nothing to hide are named
    assert stale == ["cfn-lint ES6000 on Q", "cfn-lint ES7 on the template"]


def test_checkov_skips_count_as_explained_only_with_a_comment() -> None:
    # Given a checkov report: one failure, one skip with a comment, one with checkov's default
    checkov_report = {
        "summary": {"parsing_errors": 0},
        "results": {
            "failed_checks": [_checkov_check("CKV_AWS_117", "AWS::Serverless::Function.Fn")],
            "skipped_checks": [
                _checkov_check("CKV_AWS_27", "AWS::SQS::Queue.Queue", "SSE-SQS encrypts it."),
                _checkov_check("CKV_AWS_158", "AWS::Logs::LogGroup.Logs", "No comment provided"),
            ],
        },
    }

    # When the report is classified (checkov prints a list of reports for several frameworks)
    findings = classify_checkov([checkov_report])

    # Then the logical ids are kept and only the commented skip is explained
    assert [(f.check, f.resource, f.skipped, f.explained) for f in findings] == [
        ("CKV_AWS_117", "Fn", False, False),
        ("CKV_AWS_27", "Queue", True, True),
        ("CKV_AWS_158", "Logs", True, False),
    ]


def test_a_template_checkov_could_not_parse_is_a_finding() -> None:
    # Given a checkov report with a parsing error and no results
    checkov_report = {"summary": {"parsing_errors": 1}, "results": {}}

    # When it is classified
    findings = classify_checkov(checkov_report)

    # Then the parse failure is reported, unexplained
    assert [(f.check, f.explained) for f in findings] == [("parsing", False)]


def test_the_summary_counts_findings_and_unexplained_ones_stale_ignores_included() -> None:
    # Given one explained and one unexplained finding of a check, and one stale ignore
    findings = [
        Finding("checkov", "CKV_AWS_21", "versioning", "CleanBucket", True, "derived data"),
        Finding("checkov", "CKV_AWS_21", "versioning", "LakeBucket", False, None),
    ]
    timing = {"cfn-lint": "4.0 s CPU", "checkov": "6.0 s CPU"}

    # When the report is written
    lines, unexplained = report(findings, ["cfn-lint ES6000 on Q"], timing, verbose=False)

    # Then the check is grouped with its unexplained resource, and the last line sums it all up
    assert lines[0] == "checkov CKV_AWS_21 versioning: 1 skipped with a reason, 1 unexplained"
    assert lines[1] == "    UNEXPLAINED LakeBucket: not skipped"
    assert unexplained == 2
    assert lines[-1] == (
        "static checks: 2 failed (2 unexplained): cfn-lint 0 (4.0 s CPU), checkov 2 (6.0 s CPU)"
    )


def test_the_static_checks_lint_with_the_cfn_lint_sam_validate_uses() -> None:
    # Given the pins of the dev venv (sam validate --lint) and of the static-check venv
    dev, static, wanted = (
        _pins("constraints.txt"),
        _pins("constraints-static.txt"),
        _pins("requirements-static.txt"),
    )

    # Then both run the same cfn-lint, and every requirement is installed at its locked version
    assert dev["cfn-lint"] == static["cfn-lint"]
    assert {name: static.get(name) for name in wanted} == wanted
