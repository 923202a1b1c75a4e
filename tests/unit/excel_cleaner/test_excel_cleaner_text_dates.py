"""Dates typed as text: read per column, written as ISO dates when the column fixes their
meaning, left as text and reported when it does not."""

from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from excel_cleaner.sheet import CleanedSheet, SheetOverrides, clean_sheet
from excel_cleaner.sheet.text_dates import parse_text_date
from excel_cleaner.specs import ColumnType, DateOrder

type Grid = list[list[object]]


def clean(rows: Grid, overrides: SheetOverrides | None = None) -> CleanedSheet:
    width = max(len(row) for row in rows)
    padded = [[*row, *([""] * (width - len(row)))] for row in rows]
    sheet = clean_sheet("sheet", lambda: padded, width, overrides=overrides)  # type: ignore[arg-type,return-value]
    assert sheet is not None
    return sheet


def column(sheet: CleanedSheet, position: int = 1) -> list[str]:
    return [line.split(",")[position] for line in sheet.csv.decode().splitlines()[1:]]


def test_day_first_column_is_fixed_by_a_day_above_twelve() -> None:
    # Given a column of day-first dates, one of whose days is 31
    sheet = clean([["id", "shipped"], [1, "05/01/2025"], [2, "31/12/2025"]])
    # Then every value reads day-first, including 05/01 (5 January)
    assert column(sheet) == ["2025-01-05", "2025-12-31"]
    assert sheet.text_date_columns == ("shipped",)


def test_month_first_column_is_fixed_by_a_second_number_above_twelve() -> None:
    sheet = clean([["id", "shipped"], [1, "05/01/2025"], [2, "12/31/2025"]])
    assert column(sheet) == ["2025-05-01", "2025-12-31"]


def test_iso_and_month_name_texts_need_no_order() -> None:
    # Given ISO text, day-month-name and month-name-day forms in one column
    rows: Grid = [["id", "day"], [1, "2025-12-31"], [2, "1 Feb 2025"], [3, "March 4, 2025"]]
    # Then each is the one date it names
    assert column(clean(rows)) == ["2025-12-31", "2025-02-01", "2025-03-04"]


def test_ambiguous_column_stays_text_and_is_reported() -> None:
    # Given a column whose values are at most 12 in both places
    sheet = clean([["id", "due"], [1, "01/02/2025"], [2, "03/04/2025"]])
    # Then it is written as typed, and named as ambiguous
    assert column(sheet) == ["01/02/2025", "03/04/2025"]
    assert (sheet.text_date_columns, sheet.ambiguous_date_columns) == ((), ("due",))


def test_spec_date_order_settles_an_ambiguous_column() -> None:
    rows: Grid = [["id", "due"], [1, "01/02/2025"], [2, "03/04/2025"]]
    sheet = clean(rows, SheetOverrides(date_order=DateOrder.MDY))
    assert column(sheet) == ["2025-01-02", "2025-03-04"]


def test_column_needing_both_orders_stays_text_even_with_a_spec_order() -> None:
    # Given 31/12/2025 (day-first only) and 12/31/2025 (month-first only) in one column
    rows: Grid = [["id", "due"], [1, "31/12/2025"], [2, "12/31/2025"]]
    sheet = clean(rows, SheetOverrides(date_order=DateOrder.DMY))
    # Then neither order fits every value: text, reported
    assert column(sheet) == ["31/12/2025", "12/31/2025"]
    assert sheet.ambiguous_date_columns == ("due",)


def test_one_text_that_is_no_date_keeps_the_column_as_text() -> None:
    sheet = clean([["id", "due"], [1, "31/12/2025"], [2, "soon"]])
    assert column(sheet) == ["31/12/2025", "soon"]
    assert sheet.text_date_columns == sheet.ambiguous_date_columns == ()


def test_a_number_in_the_column_keeps_it_as_text() -> None:
    sheet = clean([["id", "code"], [1, "31/12/2025"], [2, 45000.0]])
    assert column(sheet) == ["31/12/2025", "45000"]


def test_text_dates_among_date_cells_become_dates_like_them() -> None:
    # Given date cells, and one date someone typed as text
    rows: Grid = [["id", "day"], [1, date(2025, 1, 5)], [2, "31/12/2025"]]
    # Then the column is dates throughout
    assert column(clean(rows)) == ["2025-01-05", "2025-12-31"]


def test_a_time_makes_the_whole_column_date_times() -> None:
    rows: Grid = [["id", "at"], [1, "2025-12-31 14:30"], [2, "2025-01-05"]]
    assert column(clean(rows)) == ["2025-12-31T14:30:00", "2025-01-05T00:00:00"]


def test_text_dates_among_date_time_cells_are_written_as_date_times() -> None:
    rows: Grid = [["id", "at"], [1, datetime(2025, 1, 5, 8, 0)], [2, "31/12/2025"]]
    assert column(clean(rows)) == ["2025-01-05T08:00:00", "2025-12-31T00:00:00"]


def test_two_digit_years_and_impossible_dates_are_not_dates() -> None:
    assert parse_text_date("31/12/25") is None
    assert parse_text_date("31/02/2025") is None
    assert parse_text_date("2025-13-01") is None
    assert parse_text_date("Foo 31, 2025") is None


def test_spec_type_on_the_column_decides_instead() -> None:
    # Given a spec typing the column as string
    rows: Grid = [["id", "ref"], [1, "31/12/2025"], [2, "05/01/2025"]]
    sheet = clean(rows, SheetOverrides(types={"ref": "string"}))  # type: ignore[dict-item]
    # Then the text is kept as the spec says
    assert column(sheet) == ["31/12/2025", "05/01/2025"]


_DATES = st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 12, 31))


@given(st.lists(_DATES, min_size=1, max_size=20), st.sampled_from(["/", "-", "."]))
def test_day_first_texts_round_trip_when_a_day_fixes_the_order(
    days: list[date], separator: str
) -> None:
    # Given any dates written day-first, with one day past the 12th among them
    anchor = date(2024, 3, 25)
    values = [*days, anchor]
    rows: Grid = [["id", "day"]]
    rows += [[n, d.strftime(f"%d{separator}%m{separator}%Y")] for n, d in enumerate(values)]
    # Then every one reads back as the date it was
    assert column(clean(rows)) == [d.isoformat() for d in values]


@given(st.lists(_DATES, min_size=1, max_size=20))
def test_month_first_texts_round_trip_when_a_day_fixes_the_order(days: list[date]) -> None:
    values = [date(2024, 3, 25), *days]
    rows: Grid = [["id", "day"], *([n, d.strftime("%m/%d/%Y")] for n, d in enumerate(values))]
    assert column(clean(rows)) == [d.isoformat() for d in values]


@given(st.text(max_size=40))
def test_any_text_parses_to_a_date_or_to_nothing(text: str) -> None:
    parsed = parse_text_date(text)
    assert parsed is None or parsed.fixed or parsed.dmy or parsed.mdy


def test_spec_date_type_reads_text_dates_in_the_spec_order() -> None:
    # Given an ambiguous text-date column, a spec order and a spec type date for it
    rows: Grid = [["id", "due"], [1, "01/02/2025"], [2, "03/04/2025"]]
    overrides = SheetOverrides(date_order=DateOrder.MDY, types={"due": ColumnType.DATE})
    sheet = clean(rows, overrides)
    # Then the values are dates, none counted invalid
    assert (column(sheet), sheet.invalid_values) == (["2025-01-02", "2025-03-04"], 0)
