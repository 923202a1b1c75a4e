"""Bad uploads through the handler: quarantined, reported "failed" with the reason, the raw
object untouched, and the invocation succeeds (Lambda does not retry what cannot succeed)."""

from functools import cache
from typing import Any

import pytest
from eventbridge_fake import RecordingPublisher
from excel_cleaner_books import (
    CSV_TEXT,
    compound_file,
    corrupt_zip,
    password_protected_xlsx,
    sales_report_xlsx,
    zip_bomb,
)
from excel_cleaner_fakes import CLEAN_BUCKET, RAW_BUCKET, FakeStore, FakeTopic, app, uploaded
from lambda_support import FakeLambdaContext

from excel_cleaner.service import ExcelCleaner


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return zip_bomb()


@cache
def bad_inputs(bomb: bytes) -> dict[str, tuple[str, bytes, str]]:
    """name -> (key, content, expected reason); built once per bomb."""
    return {
        "corrupt zip": ("uploads/broken.xlsx", corrupt_zip(sales_report_xlsx()), "corrupt"),
        "password-protected": ("uploads/secret.xlsx", password_protected_xlsx(), "encrypted"),
        "csv renamed .xlsx": ("uploads/export.xlsx", CSV_TEXT.encode(), "not_a_workbook"),
        "zip bomb": ("uploads/bomb.xlsx", bomb, "zip_bomb"),
        "0-byte upload": ("uploads/empty.xlsx", b"", "empty_file"),
        "truncated zip": ("uploads/cut.xlsx", sales_report_xlsx()[:2000], "corrupt"),
        "word document renamed .xls": (
            "uploads/letter.xls",
            compound_file(["WordDocument", "1Table"]),
            "not_a_workbook",
        ),
        "not a spreadsheet type": ("uploads/notes.txt", b"hello", "unsupported_type"),
    }


CASES = list(bad_inputs(b"").keys())


def handle(case: str, bomb: bytes, cleaner: ExcelCleaner, store: FakeStore) -> dict[str, Any]:
    key, body, _ = bad_inputs(bomb)[case]
    store.add(key, body)
    response: dict[str, Any] = app.lambda_handler(
        uploaded(key, len(body)), FakeLambdaContext(), cleaner=cleaner
    )
    return response


@pytest.mark.parametrize("case", CASES)
def test_bad_upload_is_reported_failed_with_its_reason(
    case: str, bomb: bytes, cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    # Given a bad upload / When its notification is handled (and the handler returns normally)
    response = handle(case, bomb, cleaner, store)
    # Then one "failed" message names the reason, and so does the response
    key, _, reason = bad_inputs(bomb)[case]
    [(outcome, subject, message)] = topic.messages
    assert (outcome, message["reason"], message["source"]["key"]) == ("failed", reason, key)
    assert subject == f"Workbook failed: {key} ({reason})"
    assert message["message"]
    assert response["results"] == [
        {"outcome": "failed", "bucket": RAW_BUCKET, "key": key, "reason": reason}
    ]


@pytest.mark.parametrize("case", CASES)
def test_bad_upload_is_copied_to_quarantine_and_the_raw_object_stays(
    case: str, bomb: bytes, cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    # Given a bad upload / When handled
    handle(case, bomb, cleaner, store)
    key, body, reason = bad_inputs(bomb)[case]
    # Then the raw object is where it was, unchanged, and a copy is in quarantine with the reason
    assert store.objects[(RAW_BUCKET, key)].body == body
    quarantined = store.objects[(CLEAN_BUCKET, f"quarantine/{key}")]
    assert quarantined.body == body
    assert quarantined.metadata["quarantine-reason"] == reason
    assert topic.only()["quarantine"] == {"bucket": CLEAN_BUCKET, "key": f"quarantine/{key}"}


@pytest.mark.parametrize("case", CASES)
def test_bad_upload_writes_no_csv_and_no_manifest(
    case: str, bomb: bytes, cleaner: ExcelCleaner, store: FakeStore
) -> None:
    handle(case, bomb, cleaner, store)
    assert [k for k in store.listing() if k.startswith("clean/")] == []


@pytest.mark.parametrize("case", CASES)
def test_bad_upload_publishes_workbook_failed(
    case: str, bomb: bytes, cleaner: ExcelCleaner, store: FakeStore, events: RecordingPublisher
) -> None:
    handle(case, bomb, cleaner, store)
    key, _, reason = bad_inputs(bomb)[case]
    [(detail_type, detail, resources)] = events.published
    assert (detail_type, detail["reason"]) == ("Workbook Failed", reason)
    assert resources == [f"arn:aws:s3:::{RAW_BUCKET}/{key}"]


def test_redelivered_bad_upload_is_reported_again_without_raising(
    bomb: bytes, cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    # Given a password-protected upload handled once / When the same event comes again
    handle("password-protected", bomb, cleaner, store)
    handle("password-protected", bomb, cleaner, store)
    # Then each delivery ends in a "failed" message, never in an exception Lambda would retry
    assert topic.outcomes() == ["failed", "failed"]


def test_zip_bomb_is_refused_before_anything_inflates_it(
    bomb: bytes, cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    # Given a 20 MiB sheet compressed ~1000x / When handled
    handle("zip bomb", bomb, cleaner, store)
    # Then the message gives the ratio found and the limit
    assert "times its size" in topic.only()["message"]
    assert len(bomb) < 100_000


def test_csv_renamed_xlsx_is_recognised_as_text(
    bomb: bytes, cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    handle("csv renamed .xlsx", bomb, cleaner, store)
    assert "a CSV file renamed?" in topic.only()["message"]


def test_password_protected_message_tells_what_to_do(
    bomb: bytes, cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    handle("password-protected", bomb, cleaner, store)
    assert "save it without a password" in topic.only()["message"]
