"""IndexRanges: the hidden rows and columns of a sheet, as merged ranges."""

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from excel_cleaner.sheet_facts import IndexRanges

_RANGES = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=8)


@given(_RANGES, st.integers(-2, 70))
def test_an_index_is_in_the_ranges_exactly_when_one_given_range_holds_it(
    ranges: list[tuple[int, int]], index: int
) -> None:
    merged = IndexRanges.of(ranges)
    assert (index in merged) == any(first <= index <= last for first, last in ranges)


@given(_RANGES)
def test_merged_ranges_are_sorted_disjoint_and_count_each_index_once(
    ranges: list[tuple[int, int]],
) -> None:
    merged = IndexRanges.of(ranges).ranges
    assert all(a[1] + 1 < b[0] for a, b in pairwise(merged))
    covered = {i for first, last in ranges for i in range(first, last + 1)}
    assert IndexRanges.of(ranges).count() == len(covered)


def test_a_million_rows_in_one_range_cost_one_pair() -> None:
    hidden = IndexRanges.of([(5, 1_000_004)])
    assert (hidden.ranges, 1_000_004 in hidden, 4 in hidden) == (((5, 1_000_004),), True, False)
