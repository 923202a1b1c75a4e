"""bounded_key: keys derived from other keys stay within S3's 1,024 bytes (moto takes longer)."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from s3_key_strategies import key_characters

from datalake_shared.s3_keys import (
    MAX_KEY_BYTES,
    KeyTooLongError,
    bounded_key,
    check_prefix,
    utf8_length,
)

key_text = st.text(key_characters, max_size=1100)
heads = st.text(key_characters, max_size=200)
tails = st.sampled_from(["", "/", ".csv", ".json", ".xlsx", "/_manifest.json"])
# Names past the limit on their own: any beginning, then any short text repeated 1,030 times.
long_names = st.builds(
    lambda start, unit: start + unit * 1030,
    st.text(key_characters, max_size=100),
    st.text(key_characters, min_size=1, max_size=4),
)


def utf8(key: str) -> int:
    return len(key.encode("utf-8"))


@given(heads, key_text, tails)
def test_any_derived_key_fits_s3(head: str, name: str, tail: str) -> None:
    # Given any head, name (up to 1,100 characters of any script) and tail
    # When bounded / Then the key has at most 1,024 bytes of UTF-8
    assert utf8(bounded_key(head, name, tail)) <= MAX_KEY_BYTES


@given(heads, key_text, tails)
def test_a_key_that_fits_is_kept_as_it_is(head: str, name: str, tail: str) -> None:
    # Given parts that fit together
    assume(utf8(head + name + tail) <= MAX_KEY_BYTES)
    # When bounded / Then the key is the parts joined: the layout of ordinary keys is unchanged
    assert bounded_key(head, name, tail) == head + name + tail


@given(heads, long_names, tails)
def test_a_shortened_key_keeps_head_tail_and_the_names_beginning(
    head: str, name: str, tail: str
) -> None:
    # Given parts too long together
    # When bounded
    key = bounded_key(head, name, tail)
    # Then head and tail are whole, and what is between begins with the name (never a cut
    # character) followed by "-" and 32 hex digits
    assert key.startswith(head)
    assert key.endswith(tail)
    middle = key[len(head) : len(key) - len(tail)]
    readable, mark, digest = middle[:-33], middle[-33], middle[-32:]
    assert name.startswith(readable)
    assert (mark, len(digest), set(digest) <= set("0123456789abcdef")) == ("-", 32, True)


@given(key_text, tails)
def test_the_same_name_always_gives_the_same_key(name: str, tail: str) -> None:
    # Given one name bounded twice / Then both keys are the same
    assert bounded_key("clean/", name, tail) == bounded_key("clean/", name, tail)


@given(st.text(key_characters, min_size=1, max_size=50))
def test_long_names_differing_only_at_the_end_stay_distinct(ending: str) -> None:
    # Given two names sharing their first 1,100 characters, differing only in their ending
    common = "ü" * 1100
    assume(ending != "x")
    # When bounded / Then their keys differ
    assert bounded_key("clean/", common + ending, "/") != bounded_key("clean/", common + "x", "/")


def test_a_name_of_four_byte_characters_is_cut_between_characters() -> None:
    # Given 300 emoji (1,200 bytes) under an 8-byte head and a 5-byte extension
    key = bounded_key("uploads/", "😀" * 300, ".xlsx")
    # Then the readable part is whole emoji and the key uses the room it has
    assert key.startswith("uploads/" + "😀" * 244 + "-")
    assert utf8(key) == 8 + 244 * 4 + 33 + 5 == 1022


def test_head_and_tail_leaving_no_room_are_refused() -> None:
    # Given a head of 1,000 bytes / When a long name is bounded under it / Then it is refused
    with pytest.raises(KeyTooLongError):
        bounded_key("p" * 1000, "n" * 100, ".csv")


def test_a_prefix_over_half_a_key_is_refused_by_settings() -> None:
    # Given a 513-byte prefix (171 three-byte characters) / When checked / Then it is refused
    with pytest.raises(ValueError, match="513 bytes"):
        check_prefix("€" * 171)
    assert check_prefix("€" * 170) == "€" * 170
    assert utf8_length("€" * 170) == 510
