"""The real-workbook corpus: files made by other software (corpus/workbooks/, see its README),
each cleaned to exactly its golden outcome and CSVs (corpus/golden/<file name>/).

``UPDATE_GOLDEN=1`` writes the goldens from the current behaviour instead of comparing (the
tests still pass): review the diff of corpus/golden/ before committing it.
"""

import json
import os
import re
import shutil
from functools import cache
from pathlib import Path
from typing import Any, Final

import pytest

from excel_cleaner.rejection import Limits, WorkbookRejectedError
from excel_cleaner.specs import CleaningSpec
from excel_cleaner.workbook import clean_workbook

CORPUS: Final = Path(__file__).parent / "corpus"
WORKBOOKS: Final = CORPUS / "workbooks"
GOLDEN: Final = CORPUS / "golden"
SPECS: Final = CORPUS / "specs.json"
README: Final = CORPUS / "README.md"
OUTCOME: Final = "outcome.json"
MAX_WORKBOOK_BYTES: Final = 64 * 1024
UPDATING: Final = os.environ.get("UPDATE_GOLDEN") == "1"
# A workbook's row in the README's table: | `sales_report.xlsx` | ... |
README_ROW: Final = re.compile(r"^\| `(?P<name>[^`/]+)` \|", re.MULTILINE)

NAMES: Final = sorted(path.name for path in WORKBOOKS.iterdir() if path.is_file())

type Outcome = dict[str, Any]
type Csvs = dict[str, bytes]


def _specs() -> dict[str, dict[str, Any]]:
    if not SPECS.is_file():
        return {}
    specs: dict[str, dict[str, Any]] = json.loads(SPECS.read_text(encoding="utf-8"))
    return specs


def _spec(name: str) -> CleaningSpec | None:
    """The file's spec from specs.json (CleaningSpec fields; the prefix is implied)."""
    fields = _specs().get(name)
    return None if fields is None else CleaningSpec.model_validate({"prefix": "", **fields})


@cache
def _cleaned(name: str) -> tuple[Outcome, Csvs]:
    """What the cleaner makes of the file now: the outcome and the CSVs by file name."""
    data = (WORKBOOKS / name).read_bytes()
    try:
        workbook = clean_workbook(data, Limits(), _spec(name))
    except WorkbookRejectedError as error:
        return {"rejected": str(error.reason)}, {}
    outcome = {
        "format": workbook.format,
        "tables": [
            {
                "file": f"{table.file_name}.csv",
                "sheet": table.sheet.sheet,
                "columns": list(table.sheet.columns),
                "rows": table.sheet.rows,
                "header_row": table.sheet.header_row,
                "footer_rows": table.sheet.footer_rows,
                "text_date_columns": list(table.sheet.text_date_columns),
                "ambiguous_date_columns": list(table.sheet.ambiguous_date_columns),
                "hidden_rows_dropped": table.sheet.hidden_rows_dropped,
                "hidden_columns_dropped": table.sheet.hidden_columns_dropped,
            }
            for table in workbook.tables
        ],
        "skipped": [[skipped.sheet, skipped.reason] for skipped in workbook.skipped],
    }
    return outcome, {f"{table.file_name}.csv": table.sheet.csv for table in workbook.tables}


def _write_golden(name: str, outcome: Outcome, csvs: Csvs) -> None:
    directory = GOLDEN / name
    shutil.rmtree(directory, ignore_errors=True)  # no stale CSV of a table that went away
    directory.mkdir(parents=True)
    text = json.dumps(outcome, indent=2, ensure_ascii=False)
    (directory / OUTCOME).write_text(f"{text}\n", encoding="utf-8")
    for file_name, csv in csvs.items():
        (directory / file_name).write_bytes(csv)


def _cleaning(name: str) -> tuple[Outcome, Csvs]:
    """The workbook's cleaning now; with UPDATE_GOLDEN=1 it also becomes the golden."""
    outcome, csvs = _cleaned(name)
    if UPDATING:
        _write_golden(name, outcome, csvs)
    return outcome, csvs


@pytest.mark.parametrize("name", NAMES)
def test_workbook_cleans_to_its_golden_outcome(name: str) -> None:
    # Given a real workbook (and its spec, if specs.json names one)
    # When cleaned
    outcome, _csvs = _cleaning(name)
    # Then the format, the tables with their counts, the skipped sheets (or the rejection
    # reason) are the golden outcome.json's
    expected = json.loads((GOLDEN / name / OUTCOME).read_text(encoding="utf-8"))
    assert outcome == expected


@pytest.mark.parametrize("name", NAMES)
def test_workbook_cleans_to_its_golden_csvs(name: str) -> None:
    # Given a real workbook
    # When cleaned
    _outcome, csvs = _cleaning(name)
    # Then it makes the golden's CSV files, byte for byte
    golden = GOLDEN / name
    expected = {p.name: p.read_bytes() for p in golden.iterdir() if p.suffix == ".csv"}
    assert sorted(csvs) == sorted(expected)
    for file_name, csv in csvs.items():
        assert csv == expected[file_name], file_name


def test_no_corpus_workbook_is_over_64_kb() -> None:
    # Given the corpus / Then every file stays small enough for the unit tier and the repository
    sizes = {name: (WORKBOOKS / name).stat().st_size for name in NAMES}
    assert {name: size for name, size in sizes.items() if size > MAX_WORKBOOK_BYTES} == {}


def test_the_workbooks_are_exactly_those_the_readme_describes() -> None:
    # Given the README's table of workbooks
    documented = README_ROW.findall(README.read_text(encoding="utf-8"))
    # Then every file is described, once, and every described file exists
    assert sorted(documented) == NAMES


def test_every_golden_belongs_to_a_workbook() -> None:
    # Given the golden folders / Then none is left over from a workbook that was removed
    goldens = sorted(path.name for path in GOLDEN.iterdir() if path.is_dir())
    assert goldens == NAMES


def test_every_spec_names_a_corpus_workbook() -> None:
    # Given specs.json / Then each key is a workbook's file name and its fields a valid spec
    specs = _specs()
    assert sorted(set(specs) - set(NAMES)) == []
    assert all(_spec(name) is not None for name in specs)
