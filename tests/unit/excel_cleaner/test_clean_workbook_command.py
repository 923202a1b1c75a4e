"""`make clean-workbook`: a local workbook cleaned as the function cleans an upload — the same
CSV bytes, the same quarantine reasons — with no AWS."""

import io
from pathlib import Path

import pytest
from eventbridge_fake import RecordingPublisher
from excel_cleaner_books import password_protected_xlsx, xlsx
from excel_cleaner_fakes import CLEAN_BUCKET, RAW_BUCKET, FakeStore, FakeTopic, make_cleaner
from openpyxl import Workbook

from dev.clean_workbook import clean_local_workbook, cleaning_spec, print_outcome
from excel_cleaner.models import UploadedObject


def _orders(book: Workbook) -> None:
    sheet = book.create_sheet("Orders")
    sheet.append(["Quarterly orders"])
    sheet.append([])
    sheet.append(["Order ID", "Amount (€)", "Shipped"])
    sheet.append([1, 10.5, "yes"])
    sheet.append([2, 7, "no"])


def test_a_workbook_is_written_as_the_function_writes_it(tmp_path: Path) -> None:
    # Given a workbook with a title above its header
    workbook = tmp_path / "q3 orders.xlsx"
    workbook.write_bytes(xlsx(_orders))
    # When cleaned locally
    result, target = clean_local_workbook(workbook, None, tmp_path / "cleaned")
    # Then one CSV per sheet lands in cleaned/<name>/, byte for byte what the function writes
    [csv_file] = sorted(target.iterdir())
    store = FakeStore()
    store.add("q3 orders.xlsx", workbook.read_bytes())
    cleaner = make_cleaner(store, FakeTopic(), RecordingPublisher())
    cloud = cleaner.handle(UploadedObject(RAW_BUCKET, "q3 orders.xlsx", workbook.stat().st_size))
    [cloud_output] = cloud.message["outputs"] if cloud.message else []
    assert csv_file.read_bytes() == store.objects[(CLEAN_BUCKET, cloud_output["key"])].body
    assert result.message is not None
    assert result.message["outputs"][0]["rows"] == 2


def test_the_outcome_names_each_sheet_and_where_it_went(tmp_path: Path) -> None:
    workbook = tmp_path / "orders.xlsx"
    workbook.write_bytes(xlsx(_orders))
    out = io.StringIO()

    status = print_outcome(*clean_local_workbook(workbook, None, tmp_path), out)

    assert status == 0
    assert out.getvalue().startswith("'Orders': 2 rows x 3 columns (header row 3) -> ")


def test_a_rejected_workbook_prints_its_quarantine_reason(tmp_path: Path) -> None:
    # Given a password-protected workbook / When cleaned locally
    workbook = tmp_path / "secret.xlsx"
    workbook.write_bytes(password_protected_xlsx())
    out = io.StringIO()
    status = print_outcome(*clean_local_workbook(workbook, None, tmp_path), out)
    # Then the reason the function would quarantine it for is printed, and nothing is written
    assert status == 1
    assert out.getvalue().startswith("quarantined: encrypted: ")
    assert not (tmp_path / "secret").exists()


def test_a_spec_applies_to_the_local_file_whatever_its_prefix(tmp_path: Path) -> None:
    # Given a spec naming the header row and a rename, without a prefix
    spec = cleaning_spec('{"header_row": 3, "renames": {"order_id": "id"}}')
    workbook = tmp_path / "orders.xlsx"
    workbook.write_bytes(xlsx(_orders))
    # When cleaned with it / Then the rename is in the CSV's header
    _result, target = clean_local_workbook(workbook, spec, tmp_path)
    [csv_file] = target.iterdir()
    assert csv_file.read_text(encoding="utf-8-sig").splitlines()[0].startswith("id,")


def test_a_spec_that_is_not_one_is_refused_by_its_fields() -> None:
    with pytest.raises(ValueError, match="header_row"):
        cleaning_spec('{"header_row": -1}')
