import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from datalake_contracts.file_tracker_item import FILE_ID_LENGTH
from file_tracker.service import event_time_iso, file_id

buckets = st.from_regex(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", fullmatch=True)
keys = st.text(min_size=1, max_size=200)
tokens = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._",
    min_size=1,
    max_size=40,
)
optional_tokens = st.none() | tokens
# The sequencer and etag of the full-load object in events/file_tracker/sqs_batch.json.
SAMPLE_SEQUENCER = "0062F4A7B3C1D2E3F4"
SAMPLE_ETAG = "b1946ac92492d2347c6235b4d2611184"


@given(buckets, keys, optional_tokens, optional_tokens, optional_tokens)
def test_same_object_event_gives_the_same_id(
    bucket: str, key: str, version: str | None, sequencer: str | None, etag: str | None
) -> None:
    # Given one object event / When its id is computed twice (a redelivery)
    first = file_id(bucket, key, version, sequencer, etag)
    second = file_id(bucket, key, version, sequencer, etag)
    # Then both ids are equal, 32 lowercase hex characters
    assert first == second
    assert len(first) == FILE_ID_LENGTH
    assert set(first) <= set("0123456789abcdef")


@given(
    bucket=buckets,
    key=keys,
    version=tokens,
    other_version=tokens,
    sequencer=tokens,
    etag=tokens,
)
def test_new_version_of_a_key_gives_a_new_id(
    *, bucket: str, key: str, version: str, other_version: str, sequencer: str, etag: str
) -> None:
    # Given two versions of the same key in a versioned bucket
    assume(version != other_version and "null" not in (version, other_version))
    # When their ids are computed
    # Then they differ
    assert file_id(bucket, key, version, sequencer, etag) != file_id(
        bucket, key, other_version, sequencer, etag
    )


@given(buckets, keys, tokens, tokens, tokens)
def test_overwrite_in_unversioned_bucket_gives_a_new_id(
    bucket: str, key: str, sequencer: str, other_sequencer: str, etag: str
) -> None:
    # Given two writes of the same key without version ids (only the sequencer changes)
    assume(sequencer != other_sequencer)
    # When their ids are computed / Then they differ, even with the same content (etag)
    assert file_id(bucket, key, None, sequencer, etag) != file_id(
        bucket, key, None, other_sequencer, etag
    )


@given(buckets, keys, tokens, tokens)
def test_version_id_decides_over_sequencer_and_etag(
    bucket: str, key: str, version: str, sequencer: str
) -> None:
    # Given the same object version reported with or without sequencer and etag
    assume(version != "null")
    # When their ids are computed / Then only the version id counts
    assert file_id(bucket, key, version, sequencer, "etag-1") == file_id(
        bucket, key, version, None, None
    )


@given(buckets, keys, tokens, tokens)
def test_suspended_versioning_null_version_falls_back_to_the_sequencer(
    bucket: str, key: str, sequencer: str, other_sequencer: str
) -> None:
    # Given two overwrites while versioning is suspended (both report version id "null")
    assume(sequencer != other_sequencer)
    # When their ids are computed / Then the sequencer tells them apart
    assert file_id(bucket, key, "null", sequencer, None) != file_id(
        bucket, key, "null", other_sequencer, None
    )


@given(buckets, keys, keys, optional_tokens)
def test_different_keys_give_different_ids(
    bucket: str, key: str, other_key: str, version: str | None
) -> None:
    # Given two keys in one bucket with the same version token
    assume(key != other_key)
    # When their ids are computed / Then they differ
    assert file_id(bucket, key, version, None, None) != file_id(
        bucket, other_key, version, None, None
    )


def test_encoding_is_unambiguous_across_field_boundaries() -> None:
    # Given inputs whose plain concatenations are equal
    # When their ids are computed
    ids = {
        file_id("ab", "c/d", None, None, None),
        file_id("ab", "c", "/d", None, None),
        file_id("ab", "c/d", None, "x", None),
        file_id("ab", "c/d", "x", None, None),
    }
    # Then they all differ (field boundaries and the discriminator kind are encoded)
    assert len(ids) == 4


def test_event_time_is_fixed_width_utc() -> None:
    # Given an aware time in another zone and a naive time
    aware = datetime(2026, 11, 22, 11, 15, 0, 999000, tzinfo=timezone(timedelta(hours=1)))
    naive = datetime(2026, 11, 22, 10, 15, 0)
    # When rendered / Then both are second-precision UTC with a "Z"
    assert event_time_iso(aware) == "2026-11-22T10:15:00Z"
    assert event_time_iso(naive) == "2026-11-22T10:15:00Z"
    assert event_time_iso(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2026-01-02T03:04:05Z"


def test_file_id_of_the_sample_full_load_file_never_changes() -> None:
    # Given the full-load object of events/file_tracker/sqs_batch.json (first record)
    bucket = "datalake-staging-example"
    key = "sales/orders/LOAD00000001.parquet"
    version_id = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    sequencer = "0062F4A7B3C1D2E3F4"
    etag = "b1946ac92492d2347c6235b4d2611184"
    # When its id is computed
    computed = file_id(bucket, key, version_id, sequencer, etag)
    # Then it is exactly the id every deployed tracker gave it. Changing this value means a new
    # encoding: after a deploy every file already tracked would be tracked (and merged) again.
    assert computed == "2f266a90c13ed4d084df4aeb48b1ccc8"


@pytest.mark.parametrize(
    ("version_id", "sequencer", "etag", "expected"),
    [
        (None, SAMPLE_SEQUENCER, SAMPLE_ETAG, "a358cfd18346d2bc32c601afbcda54a5"),
        ("null", SAMPLE_SEQUENCER, None, "a358cfd18346d2bc32c601afbcda54a5"),
        (None, None, SAMPLE_ETAG, "b9b9b9674fb36875cd983eba9a587121"),
        (None, None, None, "100ae73f9ff7f165d200f330decbb1a9"),
    ],
    ids=["sequencer", "suspended-versioning-sequencer", "etag-only", "no-discriminator"],
)
def test_file_id_without_a_version_never_changes(
    version_id: str | None, sequencer: str | None, etag: str | None, expected: str
) -> None:
    # Given the sample full-load key reported without a usable version id
    bucket, key = "datalake-staging-example", "sales/orders/LOAD00000001.parquet"
    # When its id is computed
    computed = file_id(bucket, key, version_id, sequencer, etag)
    # Then it is the id deployed trackers gave it (changing it re-tracks every such file)
    assert computed == expected


@pytest.fixture
def machine_zone_five_and_a_half_hours_ahead(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The process's local zone set to UTC+05:30 (a POSIX TZ string: no tz database needed)."""
    monkeypatch.setenv("TZ", "IST-5:30")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("machine_zone_five_and_a_half_hours_ahead")
def test_naive_event_time_is_taken_as_utc_whatever_the_machine_zone() -> None:
    # Given a machine whose local zone is not UTC, and a naive time
    naive = datetime(2026, 11, 22, 10, 15, 0)
    # When rendered / Then it is read as UTC, not as local time
    assert event_time_iso(naive) == "2026-11-22T10:15:00Z"


@pytest.mark.usefixtures("machine_zone_five_and_a_half_hours_ahead")
def test_aware_event_time_is_rendered_in_utc_whatever_the_machine_zone() -> None:
    # Given a machine whose local zone is not UTC, and a time one hour ahead of UTC
    aware = datetime(2026, 11, 22, 11, 15, 0, tzinfo=timezone(timedelta(hours=1)))
    # When rendered / Then it is converted to UTC, not to the local zone
    assert event_time_iso(aware) == "2026-11-22T10:15:00Z"
