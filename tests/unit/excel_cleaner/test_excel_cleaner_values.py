"""Cell values as CSV text and header text as column names, with properties over wide inputs."""

import csv
import io
import math
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from excel_cleaner.names import IDENTIFIER, column_names, sheet_file_names, snake_case, unique_names
from excel_cleaner.sheet import SheetOverrides, clean_sheet
from excel_cleaner.sheet.data_rows import TOTAL_WORDS
from excel_cleaner.values import format_cell, format_duration, format_float

PROPERTY = settings(max_examples=150, deadline=None)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1 + 0.2, "0.3"),
        (1.0, "1"),
        (-0.0, "0"),
        (0.25, "0.25"),
        (1250.5, "1250.5"),
        (1.1 * 3, "3.3"),
        (123456789012345.67, "123456789012346"),
        (1e15, "1e+15"),
        (999999999999999.0, "999999999999999"),
        (1e16, "1e+16"),
        (1e-7, "1e-07"),
        (-2.675, "-2.675"),
        (math.inf, ""),
        (math.nan, ""),
    ],
)
def test_floats_are_written_without_binary_noise(value: float, text: str) -> None:
    assert format_float(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("  padded\t", "padded"),
        ("line one\nline two", "line one\nline two"),
        ("#DIV/0!", ""),
        (" #N/A ", ""),
        ("#hashtag", "#hashtag"),
        (True, "true"),
        (False, "false"),
        (7, "7"),
        (date(2026, 2, 28), "2026-02-28"),
        (datetime(2026, 2, 28, 13, 5, 9), "2026-02-28T13:05:09"),
        (datetime(2026, 2, 28, 13, 5, 9, 120000), "2026-02-28T13:05:09.120"),
        (time(7, 30), "07:30:00"),
        (timedelta(hours=36, minutes=30), "PT36H30M"),
        ("", ""),
    ],
)
def test_cells_are_written_as_iso_text_numbers_and_trimmed_text(value: object, text: str) -> None:
    assert format_cell(value) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(seconds=90.5), "PT1M30.500S"),
        (timedelta(days=2), "PT48H"),
        (-timedelta(hours=5), "-PT5H"),
    ],
)
def test_durations_are_iso_8601_in_hours(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("  Order ID ", "order_id"),
        ("OrderID", "order_id"),
        ("customerName", "customer_name"),
        ("HTTPServer", "http_server"),
        ("Amount (€)", "amount"),
        ("Discount %", "discount_pct"),
        ("Order #", "order_num"),
        ("R&D", "r_and_d"),
        ("Größe", "grosse"),
        ("Café crème", "cafe_creme"),
        ("Łódź", "lodz"),
        ("2024", "col_2024"),
        ("数量", ""),
        ("Amount\n(EUR)", "amount_eur"),
        ("   ", ""),
    ],
)
def test_headers_become_ascii_snake_case(header: str, name: str) -> None:
    assert snake_case(header) == name


def test_blank_and_non_latin_headers_are_named_by_their_spreadsheet_column() -> None:
    assert column_names(["Name", "", "数量"], [1, 4, 7]) == ["name", "column_4", "column_7"]


def test_duplicates_get_numbered_without_taking_another_columns_name() -> None:
    # Given "a" twice and a column already called "a_2" / Then the second "a" skips to "a_3"
    assert unique_names(["a", "a", "a_2", "a"]) == ["a", "a_3", "a_2", "a_4"]


def test_sheet_file_names_are_unique_snake_case() -> None:
    assert sheet_file_names(["Sales 2024", "sales-2024", "数据", "Q3"]) == [
        "sales_2024",
        "sales_2024_2",
        "sheet_3",
        "q3",
    ]


# ------------------------------------------------------------------------------ properties

finite_floats = st.floats(allow_nan=False, allow_infinity=False)


@PROPERTY
@given(finite_floats)
def test_every_float_reads_back_as_itself_rounded_to_15_digits(value: float) -> None:
    text = format_float(value)
    assert float(text) == float(f"{value:.15g}")
    assert not text.endswith(".0")


@settings(max_examples=60, deadline=None)
@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-1e9, max_value=1e9))
def test_numbers_typed_with_up_to_15_digits_round_trip_exactly(typed: object) -> None:
    # Given a number as someone types it (at most 4 decimals, 14 digits in all)
    value = float(str(typed))
    # Then the CSV text reads back as the very same double
    assert float(format_float(value)) == value


@PROPERTY
@given(st.integers(min_value=-(10**15) + 1, max_value=10**15 - 1))
def test_whole_numbers_are_written_as_integers(number: int) -> None:
    assert format_float(float(number)) == str(number)


@PROPERTY
@given(st.text())
def test_text_is_trimmed_and_otherwise_kept(text: str) -> None:
    written = format_cell(text)
    assert written == written.strip()
    assert written in ("", text.strip())


@PROPERTY
@given(st.text())
def test_snake_case_names_are_identifiers_and_stable(text: str) -> None:
    name = snake_case(text)
    assert name == "" or IDENTIFIER.match(name)
    assert snake_case(name) == name


@PROPERTY
@given(st.lists(st.sampled_from(["a", "a_2", "b", "b_2", "b_3", "c"]), max_size=12))
def test_unique_names_are_unique_and_keep_first_occurrences(names: list[str]) -> None:
    result = unique_names(names)
    assert len(set(result)) == len(result) == len(names)
    for name in set(names):
        assert result[names.index(name)] == name


cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1
).filter(
    lambda text: (
        bool(text.strip())
        and not text.strip().startswith("#")
        and text.strip().casefold().rstrip(":").strip() not in TOTAL_WORDS
    )
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(cell_text, min_size=3, max_size=3), min_size=1, max_size=8))
def test_text_tables_survive_the_csv_round_trip(rows: list[list[str]]) -> None:
    # Given a table of text (quotes, commas, newlines, unicode...) under a known header
    table: list[list[object]] = [["a", "b", "c"], *rows]
    sheet = clean_sheet(
        "t",
        lambda: table,
        width=3,
        overrides=SheetOverrides(header_row=1),  # type: ignore[arg-type,return-value]
    )
    assert sheet is not None
    # When the CSV is read back / Then it holds the trimmed values, row for row
    parsed = list(csv.reader(io.StringIO(sheet.csv.decode("utf-8"), newline="")))
    assert parsed == [["a", "b", "c"], *[[value.strip() for value in row] for row in rows]]
