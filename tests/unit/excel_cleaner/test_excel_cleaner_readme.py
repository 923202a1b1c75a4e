"""README's Excel section names every quarantine reason and every spec field the rules use."""

from pathlib import Path

from excel_cleaner.rejection import RejectReason
from excel_cleaner.specs import CleaningSpec

README = Path(__file__).resolve().parents[3] / "README.md"
SECTION = "## Excel cleaning: what you get back"


def excel_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    return text[start:end]


def test_every_quarantine_reason_is_explained_in_the_readme() -> None:
    # Given the reason codes a "failed" message can carry / Then each is in the README's table
    missing = [
        reason.value for reason in RejectReason if f"`{reason.value}`" not in excel_section()
    ]
    assert missing == []


def test_the_spec_fields_the_readme_rules_name_exist() -> None:
    # Given the README's rules naming spec fields / Then each is a CleaningSpec field
    named = {"date_order", "drop_hidden_rows", "drop_hidden_columns", "header_row"}
    assert all(f"`{field}" in excel_section() for field in named)
    assert named <= set(CleaningSpec.model_fields)
