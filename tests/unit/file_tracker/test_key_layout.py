import pytest

from file_tracker.service import KeyLayout, KeyParts, is_ignored_object, load_type
from file_tracker.settings import DEFAULT_STAGING_KEY_PATTERN

DEFAULT_LAYOUT = KeyLayout(prefix="", pattern=DEFAULT_STAGING_KEY_PATTERN)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("sales/orders/LOAD00000001.parquet", KeyParts("sales", "orders", "LOAD00000001.parquet")),
        (
            "sales/orders/2026/11/22/20261122-101500123.parquet",
            KeyParts("sales", "orders", "20261122-101500123.parquet"),
        ),
        (
            "crm/customers/20261122-101502456.csv",
            KeyParts("crm", "customers", "20261122-101502456.csv"),
        ),
    ],
)
def test_default_layout_maps_dms_keys_to_schema_table_and_file(
    key: str, expected: KeyParts
) -> None:
    # Given DMS output keys "<schema>/<table>/[date folders/]<file>"
    # When the default layout parses them
    parts = DEFAULT_LAYOUT.parse(key)
    # Then schema and table are the first two segments and the file is the last one
    assert parts == expected


@pytest.mark.parametrize("key", ["readme.txt", "sales/LOAD00000001.parquet", "/orders/file.csv"])
def test_default_layout_rejects_keys_without_schema_and_table(key: str) -> None:
    # Given keys too shallow to name a schema and a table
    # When parsed
    # Then there is no mapping (the caller quarantines them)
    assert DEFAULT_LAYOUT.parse(key) is None


def test_layout_with_prefix_parses_the_key_after_the_prefix() -> None:
    # Given DMS writing under "dms/cdc/"
    layout = KeyLayout(prefix="dms/cdc/", pattern=DEFAULT_STAGING_KEY_PATTERN)
    # When a key under that prefix is parsed
    parts = layout.parse("dms/cdc/sales/orders/20261122-101500123.parquet")
    # Then the prefix is not taken for the schema
    assert parts == KeyParts("sales", "orders", "20261122-101500123.parquet")


def test_layout_with_prefix_rejects_keys_outside_the_prefix() -> None:
    # Given a layout for "dms/cdc/"
    layout = KeyLayout(prefix="dms/cdc/", pattern=DEFAULT_STAGING_KEY_PATTERN)
    # When a key elsewhere in the bucket is parsed
    # Then it does not map, even though it would match the pattern on its own
    assert layout.parse("other/sales/orders/20261122-101500123.parquet") is None


def test_custom_pattern_decides_the_mapping_not_the_slash_count() -> None:
    # Given a layout where the table sits under "<database>/public/<table>/", four levels deep
    layout = KeyLayout(
        prefix="", pattern=r"^(?P<schema>[^/]+)/public/(?P<table>[^/]+)/(?:[^/]+/)*[^/]+$"
    )
    # When a key of that shape is parsed
    parts = layout.parse("erp/public/invoices/year=2026/20261122-101500123.parquet")
    # Then the groups decide schema and table, and the file name defaults to the last segment
    assert parts == KeyParts("erp", "invoices", "20261122-101500123.parquet")


def test_custom_pattern_without_file_name_group_uses_the_last_segment() -> None:
    # Given a pattern that only names schema and table and matches a key's beginning
    layout = KeyLayout(prefix="", pattern=r"(?P<schema>\w+)\.(?P<table>\w+)/")
    # When a key is parsed
    parts = layout.parse("sales.orders/batch-7/LOAD00000002.csv.gz")
    # Then the file name is the key's last segment
    assert parts == KeyParts("sales", "orders", "LOAD00000002.csv.gz")


@pytest.mark.parametrize(
    "file_name",
    ["LOAD00000001.parquet", "LOAD00000001.csv", "LOAD00000012.csv.gz", "LOAD00000001"],
)
def test_dms_full_load_files_are_full(file_name: str) -> None:
    # Given DMS full-load file names / When classified / Then they are full loads
    assert load_type(file_name) == "full"


@pytest.mark.parametrize(
    "file_name",
    [
        "20261122-101500123.parquet",
        "20261122-101502456.csv",
        "LOADER.csv",
        "load00000001.parquet",
        "xLOAD00000001.parquet",
        "LOAD.parquet",
    ],
)
def test_other_files_are_cdc(file_name: str) -> None:
    # Given timestamp-named CDC files and names that merely resemble LOAD files
    # When classified / Then they are CDC
    assert load_type(file_name) == "cdc"


@pytest.mark.parametrize(
    ("key", "size", "ignored"),
    [
        ("sales/orders/", 0, True),
        ("sales/orders/", 10, True),
        ("sales/orders/empty.parquet", 0, True),
        ("sales/orders/LOAD00000001.parquet", 1, False),
    ],
)
def test_folder_markers_and_zero_byte_objects_are_ignored(
    key: str, size: int, ignored: bool
) -> None:
    # Given an object / When checked / Then folder markers and empty objects are ignored
    assert is_ignored_object(key, size) is ignored


# A pattern that lets either group match nothing, so only the emptiness check refuses such keys.
EMPTY_PARTS_LAYOUT = KeyLayout(
    prefix="", pattern=r"^(?P<schema>[^/]*)/(?P<table>[^/]*)/(?P<file_name>[^/]+)$"
)


def test_layout_maps_a_key_whose_pattern_groups_are_both_filled() -> None:
    # Given a pattern whose groups may be empty / When a full key is parsed
    parts = EMPTY_PARTS_LAYOUT.parse("sales/orders/LOAD00000001.parquet")
    # Then it maps like the default layout
    assert parts == KeyParts("sales", "orders", "LOAD00000001.parquet")


def test_key_with_an_empty_schema_part_is_refused() -> None:
    # Given a key whose schema segment is empty but whose table is named
    # When parsed by a pattern that matches it
    parts = EMPTY_PARTS_LAYOUT.parse("/orders/LOAD00000001.parquet")
    # Then there is no mapping: a source table needs a schema
    assert parts is None


def test_key_with_an_empty_table_part_is_refused() -> None:
    # Given a key whose table segment is empty but whose schema is named
    # When parsed by a pattern that matches it
    parts = EMPTY_PARTS_LAYOUT.parse("sales//LOAD00000001.parquet")
    # Then there is no mapping: a source table needs a table
    assert parts is None


def test_pattern_whose_optional_table_group_did_not_take_part_is_refused() -> None:
    # Given a pattern where the table group is optional
    layout = KeyLayout(prefix="", pattern=r"^(?P<schema>[^/]+)/(?:(?P<table>[^/]+)/)?[^/]+$")
    # When a key without the table level is parsed
    # Then there is no mapping
    assert layout.parse("sales/LOAD00000001.parquet") is None


def test_file_name_group_decides_over_the_last_segment() -> None:
    # Given a pattern whose file_name group is not the key's last segment
    layout = KeyLayout(
        prefix="", pattern=r"^(?P<schema>[^/]+)/(?P<table>[^/]+)/(?P<file_name>[^/]+)/"
    )
    # When a key with a trailing part segment is parsed
    parts = layout.parse("sales/orders/LOAD00000001.parquet/part-0")
    # Then the file name is the group's value
    assert parts == KeyParts("sales", "orders", "LOAD00000001.parquet")
