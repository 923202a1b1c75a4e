"""Keys derived from upload keys (CSVs, manifest, quarantine) stay within S3's 1,024 bytes.

The fake store refuses longer keys as S3 does (moto takes them).
"""

import warnings

import pytest
from eventbridge_fake import RecordingPublisher
from excel_cleaner_books import xlsx
from excel_cleaner_fakes import (
    CLEAN_BUCKET,
    RAW_BUCKET,
    FakeStore,
    FakeTopic,
    app,
    make_cleaner,
    uploaded,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader
from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet
from s3_key_strategies import key_characters

from datalake_shared.event_publisher import EntryTooLargeError
from datalake_shared.s3_keys import utf8_prefix
from excel_cleaner.models import UploadedObject
from excel_cleaner.names import sheet_file_names
from excel_cleaner.service import ExcelCleaner, Outcome, key_stem

MAX = 1024
EXTENSIONS = (".xlsx", ".XLSM", ".xls", ".ods")

any_text = st.text(key_characters, max_size=60)
# Upload keys of any script and length up to S3's limit, long ones often: a beginning, then a
# short text repeated, cut to what S3 allows, then a workbook extension.
upload_keys = st.builds(
    lambda start, unit, times, extension: (
        utf8_prefix(start + unit * times, MAX - len(extension)) + extension
    ),
    any_text,
    st.text(key_characters, min_size=1, max_size=3),
    st.integers(min_value=0, max_value=1100),
    st.sampled_from(EXTENSIONS),
)
sheet_names = st.lists(any_text.map(lambda t: t * 8), min_size=1, max_size=5)


def utf8(key: str) -> int:
    return len(key.encode("utf-8"))


def cleaner_of() -> ExcelCleaner:
    return make_cleaner(FakeStore(), FakeTopic(), RecordingPublisher())


def upload_of(store: FakeStore, key: str, body: bytes) -> UploadedObject:
    store.add(key, body)
    return UploadedObject(
        bucket=RAW_BUCKET, key=key, size=len(body), version_id="v1", sequencer="0062F4A7B3C1D2E3F4"
    )


def table(title: str) -> bytes:
    def build(book: Workbook) -> None:
        sheet = book.active
        assert isinstance(sheet, Worksheet)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns past 31 characters; calamine reads
            sheet.title = title
        sheet.append(["id", "value"])
        sheet.append([1, "x"])

    return xlsx(build)


# ------------------------------------------------------------------------------ properties


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(upload_keys, sheet_names)
def test_every_derived_key_fits_s3(key: str, names: list[str]) -> None:
    # Given any upload key up to 1,024 bytes and any sheet names
    cleaner = cleaner_of()
    folder = cleaner.output_folder(key)
    # When its output, manifest and quarantine keys are made / Then S3 takes each of them
    derived = [cleaner.csv_key(folder, name) for name in sheet_file_names(names)]
    derived += [cleaner.manifest_key(key), cleaner.quarantine_key(key)]
    assert max(utf8(derived_key) for derived_key in derived) <= MAX


@given(upload_keys)
def test_the_same_upload_always_gives_the_same_keys(key: str) -> None:
    # Given one upload key seen by two cleaners (two invocations) / Then the keys are the same
    first, second = cleaner_of(), cleaner_of()
    assert (first.output_folder(key), first.quarantine_key(key)) == (
        second.output_folder(key),
        second.quarantine_key(key),
    )


@given(st.sampled_from(EXTENSIONS), st.text(min_size=1, max_size=20), st.text(max_size=20))
def test_long_uploads_differing_near_the_end_get_distinct_keys(
    extension: str, one: str, other: str
) -> None:
    # Given two 1,000-byte-plus upload keys that differ only in their last characters
    common = "uploads/" + "ä" * 490
    if one == other:
        return
    first, second = common + one + extension, common + other + extension
    if max(utf8(first), utf8(second)) > MAX:
        return
    cleaner = cleaner_of()
    # When their keys are made / Then their folders and quarantine keys differ
    assert cleaner.output_folder(first) != cleaner.output_folder(second)
    assert cleaner.quarantine_key(first) != cleaner.quarantine_key(second)


@given(upload_keys)
def test_ordinary_keys_keep_their_layout(key: str) -> None:
    # Given an upload whose folder leaves 128 bytes for the names under it
    stem = key_stem(key)
    if utf8(f"clean/{stem}/") > MAX - 128:
        return
    cleaner = cleaner_of()
    # When its keys are made / Then they are the layout they always were
    assert cleaner.output_folder(key) == f"clean/{stem}/"
    assert cleaner.manifest_key(key) == f"clean/{stem}/_manifest.json"
    assert cleaner.csv_key(f"clean/{stem}/", "orders") == f"clean/{stem}/orders.csv"
    assert cleaner.quarantine_key(key) == f"quarantine/{key}"


# ------------------------------------------------------------------------------ end to end


def test_workbook_with_a_key_near_the_limit_is_cleaned_under_keys_s3_takes(
    store: FakeStore, cleaner: ExcelCleaner
) -> None:
    # Given a 1,019-byte upload key and a sheet with a 202-character name
    key = "uploads/" + "é" * 503 + ".xlsx"
    assert utf8(key) == 1019
    # When cleaned
    result = cleaner.handle(upload_of(store, key, table("Quarterly " + "revenue " * 24)))
    # Then the CSV and the manifest are written under keys of at most 1,024 bytes, in one
    # folder that keeps the readable beginning of the upload's key
    assert result.outcome is Outcome.CLEANED
    manifest, csv = store.listing(CLEAN_BUCKET)
    assert (utf8(manifest) <= MAX, utf8(csv) <= MAX) == (True, True)
    assert manifest.startswith("clean/uploads/" + "é" * 300)
    assert manifest.endswith("/_manifest.json")
    assert (csv.endswith(".csv"), csv.rsplit("/", 1)[0]) == (True, manifest.rsplit("/", 1)[0])


def test_redelivered_upload_with_a_long_key_finds_its_manifest(
    store: FakeStore, cleaner: ExcelCleaner, topic: FakeTopic
) -> None:
    # Given a workbook with a key near the limit, cleaned once
    key = "uploads/" + "é" * 503 + ".xlsx"
    obj = upload_of(store, key, table("orders"))
    cleaner.handle(obj)
    # When its event is delivered again / Then the shortened manifest is found: nothing redone
    assert cleaner.handle(obj).outcome is Outcome.DUPLICATE
    assert topic.outcomes() == ["cleaned"]


def test_unreadable_file_with_a_long_key_is_quarantined_under_a_key_s3_takes(
    store: FakeStore, cleaner: ExcelCleaner, topic: FakeTopic
) -> None:
    # Given a 1,019-byte key whose content is no workbook
    key = "uploads/" + "é" * 503 + ".xlsx"
    # When handled
    result = cleaner.handle(upload_of(store, key, b"not,a,workbook\n"))
    # Then it is quarantined under a key of at most 1,024 bytes that keeps its extension
    assert result.outcome is Outcome.FAILED
    quarantine = topic.only()["quarantine"]
    assert utf8(quarantine["key"]) <= MAX
    assert quarantine["key"].startswith("quarantine/uploads/")
    assert quarantine["key"].endswith(".xlsx")
    assert store.listing(CLEAN_BUCKET) == [quarantine["key"]]


# ------------------------------------------------------------------------------ EventBridge


def test_event_too_large_for_eventbridge_fails_the_record_before_the_manifest(
    store: FakeStore, cleaner: ExcelCleaner, events: RecordingPublisher
) -> None:
    # Given EventBridge refusing the event as too large (it can never be put)
    events.too_large = True
    # When a workbook is cleaned / Then the error is raised for Lambda to retry, then OnFailure
    with pytest.raises(EntryTooLargeError):
        cleaner.handle(upload_of(store, "uploads/orders.xlsx", table("orders")))
    # ...and no manifest marks it done, so the retry cleans and announces it again
    assert store.text("clean/uploads/orders/_manifest.json") is None


def test_event_too_large_fails_the_invocation_with_an_error_and_a_metric(
    store: FakeStore,
    cleaner: ExcelCleaner,
    events: RecordingPublisher,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given EventBridge refusing the event as too large
    events.too_large = True
    store.add("uploads/orders.xlsx", table("orders"))
    # When the upload's notification is handled / Then the invocation fails (retry, OnFailure)
    with pytest.raises(app.TransientFailureError):
        app.lambda_handler(
            uploaded("uploads/orders.xlsx", 100), FakeLambdaContext(), cleaner=cleaner
        )
    # ...with an error naming the object and a metric
    [error] = [r for r in logs.records() if r["level"] == "ERROR"]
    assert ("too large" in error["message"], error["object_key"]) == (True, "uploads/orders.xlsx")
    assert emitted_metrics.totals()["EventsTooLarge"] == 1
