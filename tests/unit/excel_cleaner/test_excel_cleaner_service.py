"""ExcelCleaner over fakes: output keys, manifest, stale sheets, redelivery, failures."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from eventbridge_fake import RecordingPublisher
from excel_cleaner_books import (
    SALES_REPORT_CSV,
    headcount_ods,
    password_protected_xlsx,
    regions_xlsx,
    sales_report_xlsx,
    xlsx,
)
from excel_cleaner_fakes import (
    CLEAN_BUCKET,
    FIXED_NOW,
    RAW_BUCKET,
    FakeStore,
    FakeTopic,
    make_cleaner,
)
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from excel_cleaner.models import MalformedNotice, UploadedObject
from excel_cleaner.rejection import Limits
from excel_cleaner.service import (
    CleanerConfig,
    CleanResult,
    ExcelCleaner,
    Outcome,
    compare_sequencers,
    key_stem,
)
from excel_cleaner.specs import CleaningSpec

KEY = "uploads/finance/Q3 sales.xlsx"
FOLDER = "clean/uploads/finance/Q3 sales/"


def upload(
    store: FakeStore,
    body: bytes,
    key: str = KEY,
    sequencer: str | None = "0062F4A7B3C1D2E3F4",
    **fields: Any,
) -> UploadedObject:
    store.add(key, body)
    return UploadedObject(
        bucket=RAW_BUCKET,
        key=key,
        size=len(body),
        etag="e-event",
        version_id="v-event",
        sequencer=sequencer,
        **fields,
    )


def one_sheet(name: str) -> Callable[[Workbook], None]:
    def build(book: Workbook) -> None:
        sheet = book.active
        assert isinstance(sheet, Worksheet)
        sheet.title = name
        sheet.append(["id", "value"])
        sheet.append([1, "x"])

    return build


# ------------------------------------------------------------------------------ cleaned


def test_each_sheet_is_written_to_a_key_derived_from_the_source(
    cleaner: ExcelCleaner, store: FakeStore
) -> None:
    # Given a two-table workbook uploaded / When cleaned
    cleaner.handle(upload(store, regions_xlsx()))
    # Then one CSV per sheet sits under the source key without its extension, plus the manifest
    assert store.listing() == [
        f"{FOLDER}_manifest.json",
        f"{FOLDER}donnees_2024.csv",
        f"{FOLDER}summary.csv",
    ]
    assert store.objects[(CLEAN_BUCKET, f"{FOLDER}summary.csv")].content_type == (
        "text/csv; charset=utf-8"
    )


def test_cleaned_message_reports_every_output_with_its_counts(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    cleaner.handle(upload(store, sales_report_xlsx()))
    [(outcome, subject, message)] = topic.messages
    assert (outcome, subject) == ("cleaned", f"Workbook cleaned: {KEY} (1 sheet)")
    assert message["outputs"] == [
        {
            "key": f"{FOLDER}q3_sales.csv",
            "sheet": "Q3 Sales",
            "rows": 4,
            "columns": 8,
            "header_row": 6,
            "footer_rows_dropped": 2,
            "error_cells": 1,
            "invalid_values": 0,
            "text_date_columns": [],
            "ambiguous_date_columns": [],
        }
    ]
    assert store.text(f"{FOLDER}q3_sales.csv") == SALES_REPORT_CSV


def test_cleaned_message_names_the_version_read(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    # Given the store holds version v1 / Then the message reports what was read, not the event
    cleaner.handle(upload(store, sales_report_xlsx()))
    source = topic.only()["source"]
    assert (source["bucket"], source["key"], source["version_id"], source["etag"]) == (
        RAW_BUCKET,
        KEY,
        "v1",
        "e-read",
    )


def test_cleaned_message_lists_skipped_sheets(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    cleaner.handle(upload(store, regions_xlsx()))
    assert {s["sheet"] for s in topic.only()["skipped_sheets"]} == {"Empty", "Read me", "Lookup"}


def test_workbook_cleaned_event_is_published(
    cleaner: ExcelCleaner, store: FakeStore, events: RecordingPublisher
) -> None:
    cleaner.handle(upload(store, headcount_ods(), key="hr/team.ods"))
    [(detail_type, detail, resources)] = events.published
    assert (detail_type, detail["format"], len(detail["outputs"])) == ("Workbook Cleaned", "ods", 1)
    assert resources == [f"arn:aws:s3:::{RAW_BUCKET}/hr/team.ods"]


def test_manifest_records_the_source_and_the_columns(
    cleaner: ExcelCleaner, store: FakeStore
) -> None:
    cleaner.handle(upload(store, sales_report_xlsx()))
    manifest = json.loads(store.text(f"{FOLDER}_manifest.json") or "")
    assert manifest["source"]["sequencer"] == "0062F4A7B3C1D2E3F4"
    assert manifest["cleaned_at"] == FIXED_NOW
    assert manifest["outputs"][0]["column_names"][:2] == ["order_id", "customer_name"]


def test_manifest_is_written_after_the_csvs(cleaner: ExcelCleaner, store: FakeStore) -> None:
    cleaner.handle(upload(store, regions_xlsx()))
    assert store.puts[-1] == f"{FOLDER}_manifest.json"


def test_reupload_overwrites_the_same_keys(cleaner: ExcelCleaner, store: FakeStore) -> None:
    # Given a workbook cleaned, then uploaded again (a new upload: a later sequencer)
    cleaner.handle(upload(store, regions_xlsx()))
    keys = store.listing()
    cleaner.handle(upload(store, regions_xlsx(), sequencer="0062F4A7B3C1D2E3F5"))
    # Then the same keys hold the output, nothing is duplicated
    assert store.listing() == keys


def test_sheets_gone_from_a_reupload_are_removed(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    # Given a two-table workbook cleaned
    cleaner.handle(upload(store, regions_xlsx()))
    # When the key is uploaded again with only one sheet, named differently
    cleaner.handle(upload(store, xlsx(one_sheet("Totals")), sequencer="0062F4A7B3C1D2E3F5"))
    # Then the folder holds only the new sheet's CSV, and the message says what went
    assert store.listing() == [f"{FOLDER}_manifest.json", f"{FOLDER}totals.csv"]
    assert topic.messages[-1][2]["removed_keys"] == [
        f"{FOLDER}donnees_2024.csv",
        f"{FOLDER}summary.csv",
    ]


def test_stale_removal_never_touches_keys_outside_the_folder(
    cleaner: ExcelCleaner, store: FakeStore
) -> None:
    # Given a manifest that (tampered with) lists keys elsewhere in the clean bucket
    manifest = {"outputs": [{"key": "clean/other/x.csv"}, {"key": f"{FOLDER}sub/y.csv"}]}
    store.add(f"{FOLDER}_manifest.json", json.dumps(manifest).encode(), bucket=CLEAN_BUCKET)
    # When the key is cleaned / Then nothing is deleted
    cleaner.handle(upload(store, sales_report_xlsx()))
    assert store.deleted == []


def test_keys_with_other_extensions_share_the_folder(
    cleaner: ExcelCleaner, store: FakeStore
) -> None:
    # Given report.xls re-saved and uploaded as report.xlsx: the same dataset
    assert key_stem("a/report.xls") == key_stem("a/report.xlsx") == "a/report"
    assert cleaner.output_folder("a/report.XLSX") == "clean/a/report/"


# ------------------------------------------------------------------------------ redelivery


def test_redelivered_event_is_skipped_without_reading_or_writing(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    # Given an upload cleaned / When the same event is delivered again
    obj = upload(store, sales_report_xlsx())
    cleaner.handle(obj)
    reads, puts = len(store.reads), len(store.puts)
    result = cleaner.handle(obj)
    # Then it is a duplicate: no read, no write, no second message (no second SPICE ingestion)
    assert (result.outcome, result.note) == (
        Outcome.DUPLICATE,
        "already cleaned (redelivered event)",
    )
    assert (len(store.reads), len(store.puts), len(topic.messages)) == (reads, puts, 1)


def test_late_event_of_an_older_upload_is_skipped(cleaner: ExcelCleaner, store: FakeStore) -> None:
    cleaner.handle(upload(store, sales_report_xlsx(), sequencer="0062F4A7B3C1D2E3F9"))
    result = cleaner.handle(upload(store, sales_report_xlsx(), sequencer="0062F4A7B3C1D2E3F4"))
    assert (result.outcome, result.note) == (
        Outcome.DUPLICATE,
        "a newer upload of this key was already cleaned",
    )


@pytest.mark.parametrize(
    ("first", "second", "order"),
    [("0A", "0B", -1), ("00FF", "FF", 0), ("100", "FF", 1), ("0062f4", "0062F4", 0)],
)
def test_sequencers_compare_as_padded_hex(first: str, second: str, order: int) -> None:
    assert compare_sequencers(first, second) == order


def test_events_without_a_sequencer_are_always_cleaned(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    obj = upload(store, sales_report_xlsx(), sequencer=None)
    cleaner.handle(obj)
    cleaner.handle(obj)
    assert topic.outcomes() == ["cleaned", "cleaned"]


def test_failed_publish_leaves_no_manifest_so_the_retry_cleans_again(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    # Given SNS failing once / When the upload is handled, then retried
    obj = upload(store, sales_report_xlsx())
    topic.outages = 1
    with pytest.raises(ClientError):
        cleaner.handle(obj)
    assert store.text(f"{FOLDER}_manifest.json") is None
    result = cleaner.handle(obj)
    # Then the retry cleans and publishes (at least once)
    assert (result.outcome, topic.outcomes()) == (Outcome.CLEANED, ["cleaned"])


# ------------------------------------------------------------------------------ failures


def test_failure_keeps_the_csvs_of_the_last_good_upload(
    cleaner: ExcelCleaner, store: FakeStore
) -> None:
    cleaner.handle(upload(store, sales_report_xlsx()))
    cleaner.handle(upload(store, password_protected_xlsx(), sequencer="0062F4A7B3C1D2E3F5"))
    assert store.text(f"{FOLDER}q3_sales.csv") == SALES_REPORT_CSV


def test_quarantine_copies_the_version_that_was_read(
    cleaner: ExcelCleaner, store: FakeStore
) -> None:
    copies: list[str | None] = []
    original = store.copy

    def recording_copy(*args: Any, **kwargs: Any) -> None:
        copies.append(kwargs["source_version"])
        original(*args, **kwargs)

    store.copy = recording_copy  # type: ignore[method-assign]
    cleaner.handle(upload(store, password_protected_xlsx()))
    assert copies == ["v1"]


def test_object_announced_too_large_is_quarantined_without_being_read(
    store: FakeStore, topic: FakeTopic, events: RecordingPublisher
) -> None:
    cleaner = make_cleaner(store, topic, events, limits=Limits(max_object_bytes=100))
    result = cleaner.handle(upload(store, sales_report_xlsx()))
    assert (result.outcome, topic.only()["reason"], store.reads) == (
        Outcome.FAILED,
        "too_large",
        [],
    )
    assert (CLEAN_BUCKET, f"quarantine/{KEY}") in store.objects


def test_object_grown_past_the_limit_since_the_event_is_too_large(
    store: FakeStore, topic: FakeTopic, events: RecordingPublisher
) -> None:
    # Given an event announcing 50 bytes for what is now a larger object
    cleaner = make_cleaner(store, topic, events, limits=Limits(max_object_bytes=100))
    store.add(KEY, sales_report_xlsx())
    cleaner.handle(UploadedObject(RAW_BUCKET, KEY, size=50, sequencer="01"))
    assert topic.only()["reason"] == "too_large"


def test_aws_errors_are_raised_for_a_retry(cleaner: ExcelCleaner, store: FakeStore) -> None:
    store.outages["PutObject"] = 1
    with pytest.raises(ClientError):
        cleaner.handle(upload(store, sales_report_xlsx()))


def test_eventbridge_trouble_does_not_lose_the_work(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic, events: RecordingPublisher
) -> None:
    # Given EventBridge failing / When an upload is cleaned
    events.failing = True
    result = cleaner.handle(upload(store, sales_report_xlsx()))
    # Then the CSV, the message and the manifest are there, and the trouble is reported
    assert result.outcome is Outcome.CLEANED
    assert topic.outcomes() == ["cleaned"]
    assert store.text(f"{FOLDER}_manifest.json") is not None
    assert result.event_error is not None
    assert result.event_error.startswith("ClientError")


def test_subject_is_ascii_and_short_for_any_key(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    key = "uploads/" + "Données très longues\n" * 10 + ".xlsx"
    cleaner.handle(upload(store, password_protected_xlsx(), key=key))
    [(_, subject, _)] = topic.messages
    assert subject.isascii()
    assert subject.isprintable()
    assert len(subject) < 100


def test_malformed_notification_is_reported_failed_without_quarantine(
    cleaner: ExcelCleaner, topic: FakeTopic, events: RecordingPublisher
) -> None:
    cleaner.report_malformed(MalformedNotice("m-1", "SNS Message is not JSON"))
    message = topic.only()
    assert (message["reason"], message["quarantine"], message["sns_message_id"]) == (
        "malformed_notification",
        None,
        "m-1",
    )
    assert events.types() == ["Workbook Failed"]


# ------------------------------------------------------------------------------ ignored


@pytest.mark.parametrize(
    ("obj", "note"),
    [
        (UploadedObject(RAW_BUCKET, "uploads/", 0), "folder marker"),
        (
            UploadedObject(RAW_BUCKET, KEY, 10, event_name="ObjectRemoved:Delete"),
            "not an object creation (ObjectRemoved:Delete)",
        ),
        (
            UploadedObject(CLEAN_BUCKET, f"quarantine/{KEY}", 10),
            "the cleaner's own output or quarantine",
        ),
        (
            UploadedObject(CLEAN_BUCKET, f"{FOLDER}x.csv", 10),
            "the cleaner's own output or quarantine",
        ),
        (UploadedObject(RAW_BUCKET, "gone.xlsx", 10), "deleted before it could be read"),
    ],
)
def test_objects_that_are_not_uploads_to_clean_are_ignored(
    obj: UploadedObject, note: str, cleaner: ExcelCleaner, topic: FakeTopic
) -> None:
    result: CleanResult = cleaner.handle(obj)
    assert (result.outcome, result.note, topic.messages) == (Outcome.IGNORED, note, [])


# ------------------------------------------------------------------------------ specs


def test_longest_matching_spec_prefix_applies(
    store: FakeStore, topic: FakeTopic, events: RecordingPublisher
) -> None:
    specs = [
        CleaningSpec(prefix="uploads/", sheet="Nope"),
        CleaningSpec(prefix="uploads/finance/", sheet="Summary", renames={"Region": "area"}),
    ]
    cleaner = make_cleaner(store, topic, events, specs=specs)
    cleaner.handle(upload(store, regions_xlsx()))
    message = topic.only()
    assert message["cleaning_spec"] == "uploads/finance/"
    assert (store.text(f"{FOLDER}summary.csv") or "").startswith("area,q1_jan")


def test_event_without_a_size_is_judged_by_what_is_read(
    cleaner: ExcelCleaner, store: FakeStore, topic: FakeTopic
) -> None:
    # Given notifications that leave the size out, for a workbook and for an empty object
    store.add(KEY, sales_report_xlsx())
    store.add("uploads/empty.xlsx", b"")
    cleaner.handle(UploadedObject(RAW_BUCKET, KEY, size=None, sequencer="01"))
    cleaner.handle(UploadedObject(RAW_BUCKET, "uploads/empty.xlsx", size=None, sequencer="02"))
    # Then the workbook is cleaned and the empty object fails as empty, after being read
    assert topic.outcomes() == ["cleaned", "failed"]
    assert topic.messages[1][2]["reason"] == "empty_file"
    assert topic.messages[1][2]["source"]["size"] == 0


def test_quarantine_can_live_in_another_bucket(
    store: FakeStore, topic: FakeTopic, events: RecordingPublisher
) -> None:
    # Given the quarantine configured in the raw bucket / When a bad file is handled
    cleaner = ExcelCleaner(
        CleanerConfig(clean_bucket=CLEAN_BUCKET, quarantine_bucket=RAW_BUCKET),
        store,
        topic,
        events,
    )
    cleaner.handle(upload(store, password_protected_xlsx()))
    # Then the copy is beside the raw file, and a notification of that copy would be ignored
    assert (RAW_BUCKET, f"quarantine/{KEY}") in store.objects
    assert topic.only()["quarantine"] == {"bucket": RAW_BUCKET, "key": f"quarantine/{KEY}"}
    copy_created = UploadedObject(RAW_BUCKET, f"quarantine/{KEY}", 10)
    assert cleaner.handle(copy_created).note == "the cleaner's own output or quarantine"


def test_keys_outside_the_upload_prefix_are_ignored(
    store: FakeStore, topic: FakeTopic, events: RecordingPublisher
) -> None:
    config = CleanerConfig(clean_bucket=CLEAN_BUCKET, clean_prefix="", upload_prefix="incoming/")
    cleaner = ExcelCleaner(config, store, topic, events)
    result = cleaner.handle(upload(store, sales_report_xlsx(), key="elsewhere/a.xlsx"))
    assert (result.outcome, result.note) == (
        Outcome.IGNORED,
        "outside the upload prefix 'incoming/'",
    )


def test_csvs_can_mirror_the_raw_keys(
    store: FakeStore, topic: FakeTopic, events: RecordingPublisher
) -> None:
    # Given no clean prefix: the CSVs sit under the raw key's own path in the clean bucket
    config = CleanerConfig(clean_bucket=CLEAN_BUCKET, clean_prefix="", upload_prefix="incoming/")
    cleaner = ExcelCleaner(config, store, topic, events)
    cleaner.handle(upload(store, sales_report_xlsx(), key="incoming/sales/q3.xlsx"))
    assert topic.only()["outputs"][0]["key"] == "incoming/sales/q3/q3_sales.csv"
