"""make static-checks: cfn-lint (with the cfn-lint-serverless rules) and checkov on template.yaml.

Every finding must be skipped in the template's Metadata with a one-line reason, or the run
fails. The two tools skip differently:

- checkov: `Metadata: checkov: skip: [{id: CKV_AWS_117, comment: <reason>}]` on the resource
  (AWS::Serverless::* resources included). A skip without a comment counts as unexplained.
- cfn-lint: `Metadata: cfn-lint: config: ignore_checks: [WS1004]` on a resource or on the
  template, with the reason beside it in `Metadata: cfn-lint: ignore_reasons: {WS1004: <reason>}`
  (cfn-lint has no reason field; `ignore_reasons` sits outside `config`, which cfn-lint
  validates). cfn-lint hides ignored findings, so they are asked for back with
  `--mandatory-checks`: each is then shown skipped with its reason, and an ignore that hides
  nothing is reported as stale.

The tools run in their own venv (checkov's pins conflict with the dev venv's), both at once.

Usage: python scripts/static_checks.py --bin .venv-static/bin [--template template.yaml] [-v]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_LEVEL = "(template)"
# What checkov reports as the comment of a skip that has none.
_CHECKOV_NO_COMMENT = "No comment provided"


@dataclass(frozen=True)
class Finding:
    tool: str
    check: str
    title: str
    resource: str
    skipped: bool
    reason: str | None  # why the template skips it (None: no reason given)

    @property
    def explained(self) -> bool:
        return self.skipped and bool(self.reason and self.reason.strip())


@dataclass(frozen=True)
class Ignores:
    """cfn-lint ignores declared in the template, each with its reason (None: no reason)."""

    template: Mapping[str, str | None]
    resources: Mapping[tuple[str, str], str | None]  # (rule id, logical id) -> reason

    def rule_ids(self) -> list[str]:
        return sorted(set(self.template) | {rule for rule, _ in self.resources})


@dataclass(frozen=True)
class ToolRun:
    output: Any
    wall_s: float
    cpu_s: float


def _cfn_lint_metadata(metadata: Any) -> dict[str, str | None]:
    if not isinstance(metadata, dict) or not isinstance(metadata.get("cfn-lint"), dict):
        return {}
    block = metadata["cfn-lint"]
    config = block.get("config") if isinstance(block.get("config"), dict) else {}
    reasons = block.get("ignore_reasons") if isinstance(block.get("ignore_reasons"), dict) else {}
    checks = config.get("ignore_checks", [])
    return {str(rule): _reason(reasons.get(rule)) for rule in checks}


def _reason(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def cfn_lint_ignores(template: Mapping[str, Any]) -> Ignores:
    per_resource: dict[tuple[str, str], str | None] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if isinstance(resource, dict):
            for rule, reason in _cfn_lint_metadata(resource.get("Metadata")).items():
                per_resource[(rule, logical_id)] = reason
    return Ignores(_cfn_lint_metadata(template.get("Metadata")), per_resource)


def classify_cfn_lint(matches: Iterable[Mapping[str, Any]], ignores: Ignores) -> list[Finding]:
    findings = []
    for match in matches:
        rule = match["Rule"]["Id"]
        path = match["Location"]["Path"] or []
        resource = path[1] if len(path) >= 2 and path[0] == "Resources" else TEMPLATE_LEVEL
        skipped, reason = (rule, resource) in ignores.resources, None
        if skipped:
            reason = ignores.resources[(rule, resource)]
        else:
            # Template-level ignore_checks match by prefix, as cfn-lint's do (W ignores W1001).
            for prefix, template_reason in ignores.template.items():
                if rule.startswith(prefix):
                    skipped, reason = True, template_reason
                    break
        title = match["Rule"].get("ShortDescription") or match.get("Message", "")
        findings.append(Finding("cfn-lint", rule, title, resource, skipped, reason))
    return findings


def stale_ignores(findings: Iterable[Finding], ignores: Ignores) -> list[str]:
    """Declared ignores that hide nothing: they mislead a reader and would hide a regression."""
    seen = {(f.check, f.resource) for f in findings if f.tool == "cfn-lint"}
    rules = {check for check, _ in seen}
    stale = [
        f"cfn-lint {rule} on {resource}"
        for rule, resource in sorted(ignores.resources)
        if (rule, resource) not in seen
    ]
    stale += [
        f"cfn-lint {prefix} on the template"
        for prefix in sorted(ignores.template)
        if not any(rule.startswith(prefix) for rule in rules)
    ]
    return stale


def classify_checkov(report: Any) -> list[Finding]:
    """checkov's JSON report (one framework: an object; several: a list of them)."""
    findings = []
    for framework in report if isinstance(report, list) else [report]:
        if framework.get("summary", {}).get("parsing_errors"):
            findings.append(Finding("checkov", "parsing", "template not parsed", "-", False, None))
        results = framework.get("results", {})
        for check in results.get("failed_checks", []):
            findings.append(_checkov_finding(check, skipped=False, reason=None))
        for check in results.get("skipped_checks", []):
            comment = check.get("check_result", {}).get("suppress_comment")
            reason = None if comment == _CHECKOV_NO_COMMENT else _reason(comment)
            findings.append(_checkov_finding(check, skipped=True, reason=reason))
    return findings


def _checkov_finding(check: Mapping[str, Any], *, skipped: bool, reason: str | None) -> Finding:
    # "AWS::S3::Bucket.LakeBucket": the type has no dots, the logical id follows the first one.
    resource = str(check["resource"]).split(".", 1)[-1]
    return Finding("checkov", check["check_id"], check["check_name"], resource, skipped, reason)


def report(
    findings: list[Finding], stale: list[str], timing: Mapping[str, str], *, verbose: bool
) -> tuple[list[str], int]:
    """The lines to print, grouped by check then resource, and the unexplained count."""
    by_check: dict[tuple[str, str, str], list[Finding]] = defaultdict(list)
    for finding in findings:
        by_check[(finding.tool, finding.check, finding.title)].append(finding)
    lines = []
    for (tool, check, title), group in sorted(by_check.items()):
        open_ = sorted((f for f in group if not f.explained), key=lambda f: f.resource)
        skipped = sorted((f for f in group if f.explained), key=lambda f: f.resource)
        counts = [f"{len(skipped)} skipped with a reason"] if skipped else []
        counts += [f"{len(open_)} unexplained"] if open_ else []
        lines.append(f"{tool} {check} {title}: {', '.join(counts)}")
        for finding in open_:
            why = "skipped without a reason" if finding.skipped else "not skipped"
            lines.append(f"    UNEXPLAINED {finding.resource}: {why}")
        if verbose:
            lines += [f"    skipped {f.resource}: {f.reason}" for f in skipped]
    lines += [f"stale ignore (hides nothing, remove it): {entry}" for entry in stale]
    unexplained = sum(not f.explained for f in findings) + len(stale)
    per_tool = ", ".join(
        f"{tool} {sum(f.tool == tool for f in findings)} ({took})" for tool, took in timing.items()
    )
    lines.append(
        f"static checks: {len(findings)} failed ({unexplained} unexplained): {per_tool}"
        + ("" if unexplained else "; every finding is skipped in template.yaml with a reason")
    )
    return lines, unexplained


def _run(command: list[str]) -> ToolRun:
    """Runs one tool; CPU seconds are measured too, as wall time depends on the machine's load."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err)  # noqa: S603 - our venv's tools
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    # Exit codes say "found something"; the JSON on stdout says what. A crash prints no JSON.
    try:
        output = json.loads(stdout)
    except json.JSONDecodeError as error:
        detail = (stderr or stdout).strip()[-2000:]
        raise RuntimeError(f"{command[0]} exited {process.returncode}: {detail}") from error
    return ToolRun(output, wall, usage.ru_utime + usage.ru_stime)


def run_tools(bin_dir: Path, template: Path, ignores: Ignores) -> dict[str, ToolRun]:
    cfn_lint = [str(bin_dir / "cfn-lint"), "-a", "cfn_lint_serverless.rules", "--format", "json"]
    if ignores.rule_ids():
        cfn_lint += ["--mandatory-checks", *ignores.rule_ids()]
    commands = {
        "cfn-lint": [*cfn_lint, "--", str(template)],
        # --skip-download: no calls to the vendor's API (none is reachable offline anyway).
        "checkov": [
            str(bin_dir / "checkov"),
            "--framework",
            "cloudformation",
            "--file",
            str(template),
            "--output",
            "json",
            "--skip-download",
        ],
    }
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        futures = {tool: pool.submit(_run, command) for tool, command in commands.items()}
        return {tool: future.result() for tool, future in futures.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--bin", type=Path, required=True, help="bin/ of the static-check venv")
    parser.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    parser.add_argument("-v", "--verbose", action="store_true", help="list skips and reasons")
    args = parser.parse_args(argv)

    from samcli.yamlhelper import yaml_parse  # noqa: PLC0415 - understands !Ref and friends

    ignores = cfn_lint_ignores(yaml_parse(args.template.read_text()))
    try:
        runs = run_tools(args.bin, args.template, ignores)
    except RuntimeError as error:
        print(f"static checks could not run: {error}", file=sys.stderr)
        return 2
    findings = classify_cfn_lint(runs["cfn-lint"].output, ignores)
    stale = stale_ignores(findings, ignores)
    findings += classify_checkov(runs["checkov"].output)
    timing = {tool: f"{run.cpu_s:.1f} s CPU, {run.wall_s:.1f} s wall" for tool, run in runs.items()}
    lines, unexplained = report(findings, stale, timing, verbose=args.verbose)
    print("\n".join(lines))
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())
