from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from catalog_type_fixer.hive_types import array_type

# --- a generator of Hive type trees, rendered with their sets as sets or as arrays ----------


@dataclass(frozen=True)
class Primitive:
    text: str


@dataclass(frozen=True)
class Collection:
    keyword: str  # "array", "set" (any case), "uniontype"
    items: tuple["Node", ...]


@dataclass(frozen=True)
class MapOf:
    key: Primitive
    value: "Node"


@dataclass(frozen=True)
class StructOf:
    fields: tuple[tuple[str, "Node", str | None], ...]  # name, type, comment


Node = Primitive | Collection | MapOf | StructOf


def render(node: Node, *, sets_as_arrays: bool) -> str:
    match node:
        case Primitive(text):
            return text
        case Collection(keyword, items):
            rendered = ",".join(render(item, sets_as_arrays=sets_as_arrays) for item in items)
            name = "array" if sets_as_arrays and keyword.lower() == "set" else keyword
            return f"{name}<{rendered}>"
        case MapOf(key, value):
            return f"map<{key.text},{render(value, sets_as_arrays=sets_as_arrays)}>"
        case StructOf(fields):
            parts = []
            for name, field_type, comment in fields:
                part = f"{name}:{render(field_type, sets_as_arrays=sets_as_arrays)}"
                parts.append(part if comment is None else f"{part} COMMENT '{comment}'")
            return f"struct<{','.join(parts)}>"
    raise AssertionError(node)


primitives = st.sampled_from(
    [
        "string",
        "bigint",
        "int",
        "double",
        "boolean",
        "timestamp",
        "binary",
        "decimal(10,2)",
        "varchar(64)",
        "char(3)",
        "date",
        "STRING",
    ]
).map(Primitive)
# Field names that look like keywords, hold "set" or are backtick-quoted with any characters.
plain_names = st.one_of(
    st.sampled_from(
        [
            "set",
            "SET",
            "Set",
            "offset",
            "asset",
            "set_x",
            "sets",
            "array",
            "struct",
            "map",
            "tags",
            "n",
        ]
    ),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True),
)
quoted_names = st.text(min_size=1, max_size=12).map(
    lambda text: "`" + text.replace("`", "``") + "`"
)
comments = st.one_of(
    st.none(),
    st.text(alphabet=st.characters(exclude_characters="'\\"), max_size=15),
    st.sampled_from(["set<string>", "a, b>", "map<k,set<v>>"]),
)
set_keywords = st.sampled_from(["set", "SET", "Set"])


def containers(children: st.SearchStrategy[Node]) -> st.SearchStrategy[Node]:
    return st.one_of(
        st.builds(lambda child: Collection("array", (child,)), children),
        st.builds(lambda keyword, child: Collection(keyword, (child,)), set_keywords, children),
        st.builds(MapOf, primitives, children),
        st.builds(
            StructOf,
            st.lists(
                st.tuples(st.one_of(plain_names, quoted_names), children, comments),
                min_size=1,
                max_size=4,
            ).map(tuple),
        ),
        st.builds(
            lambda items: Collection("uniontype", tuple(items)),
            st.lists(children, min_size=1, max_size=3),
        ),
    )


hive_types = st.recursive(primitives, containers, max_leaves=12)


def without_sets(node: Node) -> Node:
    match node:
        case Collection(keyword, items):
            kept = "array" if keyword.lower() == "set" else keyword
            return Collection(kept, tuple(without_sets(item) for item in items))
        case MapOf(key, value):
            return MapOf(key, without_sets(value))
        case StructOf(fields):
            return StructOf(tuple((n, without_sets(t), c) for n, t, c in fields))
    return node


# --- properties --------------------------------------------------------------------------------


@given(hive_types)
def test_every_set_at_any_depth_becomes_an_array_and_nothing_else_changes(node: Node) -> None:
    # Given a Hive type tree rendered with its sets
    hive_type = render(node, sets_as_arrays=False)
    # When its sets are made arrays
    fixed = array_type(hive_type)
    # Then the result is the same tree rendered with arrays in their place
    assert fixed == render(node, sets_as_arrays=True)


@given(hive_types.map(without_sets))
def test_a_type_without_sets_is_returned_unchanged(node: Node) -> None:
    # Given a type with no set type in it (field names and comments may still say "set")
    hive_type = render(node, sets_as_arrays=False)
    # When fixed / Then it is the same string
    assert array_type(hive_type) == hive_type


@given(st.text(max_size=60))
def test_any_text_is_scanned_without_error_and_fixing_twice_changes_nothing_more(
    text: str,
) -> None:
    # Given any text at all, even one that is no Hive type
    # When fixed twice
    once = array_type(text)
    # Then the second pass finds no set the first one left (and neither raised)
    assert array_type(once) == once


@given(st.text(max_size=60).filter(lambda text: "set" not in text.lower()))
def test_text_without_the_word_set_is_never_changed(text: str) -> None:
    # Given text in which "set" appears nowhere / When fixed / Then it is unchanged
    assert array_type(text) == text


# --- examples ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hive_type", "expected"),
    [
        ("set<string>", "array<string>"),
        ("set<bigint>", "array<bigint>"),
        ("SET<bigint>", "array<bigint>"),
        ("struct<tags:set<string>,n:bigint>", "struct<tags:array<string>,n:bigint>"),
        ("map<string,set<string>>", "map<string,array<string>>"),
        ("array<set<int>>", "array<array<int>>"),
        ("uniontype<int,set<string>>", "uniontype<int,array<string>>"),
        ("struct<offset:set<string>>", "struct<offset:array<string>>"),
        ("set<struct<set:set<int>>>", "array<struct<set:array<int>>>"),
        ("set<decimal(10,2)>", "array<decimal(10,2)>"),
    ],
)
def test_sets_become_arrays(hive_type: str, expected: str) -> None:
    # Given a type crawled from DynamoDB / When fixed / Then its sets are arrays
    assert array_type(hive_type) == expected


@pytest.mark.parametrize(
    "hive_type",
    [
        "struct<set:int>",
        "struct<asset:string>",
        "struct<offset:bigint>",
        "struct<`set<x>`:int>",
        "struct<`a``set<b>`:string>",
        "struct<a:int COMMENT 'a set<string>, here'>",
        "map<string,array<string>>",
        "string",
        "offset",
    ],
)
def test_field_names_comments_and_other_types_are_left_alone(hive_type: str) -> None:
    # Given a type whose only "set" is in a field name or comment, or none at all
    # When fixed / Then it is byte-identical
    assert array_type(hive_type) == hive_type


def test_spacing_and_comments_around_a_fixed_set_are_kept() -> None:
    # Given a struct with spaces, a comment holding set<...> and a set field after it
    hive_type = "struct< a : set<int> COMMENT 'set<x>, y>' , b:set<string> >"
    # When fixed / Then only the two set keywords change
    assert array_type(hive_type) == (
        "struct< a : array<int> COMMENT 'set<x>, y>' , b:array<string> >"
    )
