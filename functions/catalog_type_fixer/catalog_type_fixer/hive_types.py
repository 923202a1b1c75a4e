"""``set<T>`` → ``array<T>`` in a Hive type string, at any depth, and nowhere else.

A Glue crawler over DynamoDB types String Sets and Number Sets as ``set<string>`` and
``set<bigint>``; Hive has no set type (Firehose fails with "type expected ... but 'set' is
found"), and an array holds the same values. A plain ``str.replace("set<", "array<")`` (the
blog post's code) also rewrites struct field names: ``struct<offset:set<string>>`` would become
``struct<offarray:...``. So this is a small scanner that knows where a type stands (a column's
type, an element of array/set/uniontype, a key or value of map, a struct field's type after its
name) and rewrites only a ``set`` keyword found there. Everything else, field names (plain or
backtick-quoted), COMMENT strings, ``decimal(10,2)``, spacing and case, is copied byte for byte.

The scanner never fails: text it does not understand (a malformed or unknown construct) is
copied unchanged, so the worst a surprise can do is leave a set in place, never corrupt a type.
"""

from collections.abc import Callable
from typing import Final

SET_KEYWORD: Final = "set"
ARRAY_KEYWORD: Final = "array"
STRUCT_KEYWORD: Final = "struct"
_WORD_CHARS: Final = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_OPENERS: Final = {"<": ">", "(": ")"}


class _Scanner:
    """One pass over ``text``, appending to ``out`` what it reads (rewritten where a set is)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.out: list[str] = []

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def copy_spaces(self) -> None:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        self.out.append(self.text[start : self.pos])

    def copy_char(self) -> None:
        self.out.append(self.peek())
        self.pos += 1

    def copy_quoted(self) -> None:
        """A '...' or "..." string (backslash escapes) or a `name` (`` escapes a backtick)."""
        quote = self.peek()
        self.copy_char()
        while self.pos < len(self.text):
            char = self.peek()
            if quote != "`" and char == "\\":
                self.copy_char()
                if self.pos < len(self.text):
                    self.copy_char()
                continue
            self.copy_char()
            if char == quote:
                if quote == "`" and self.peek() == "`":  # `` inside a quoted name
                    self.copy_char()
                    continue
                return

    def copy_rest_of_item(self) -> None:
        """Up to the ',' or '>' that ends this item (not one nested or quoted): a primitive's
        parameters, a struct field's COMMENT, or text the scanner does not understand."""
        closers: list[str] = []
        while self.pos < len(self.text):
            char = self.peek()
            if not closers and char in ",>":
                return
            if char in "'\"`":
                self.copy_quoted()
                continue
            if char in _OPENERS:
                closers.append(_OPENERS[char])
            elif closers and char == closers[-1]:
                closers.pop()
            self.copy_char()

    def type_(self) -> None:
        """A type: a word, and when '<' follows it, the container's items up to its '>'."""
        self.copy_spaces()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _WORD_CHARS:
            self.pos += 1
        word = self.text[start : self.pos]
        after_spaces = len(self.text) - len(self.text[self.pos :].lstrip())
        container = bool(word) and self.text[after_spaces : after_spaces + 1] == "<"
        self.out.append(ARRAY_KEYWORD if container and word.lower() == SET_KEYWORD else word)
        if container:
            self.copy_spaces()
            self.copy_char()  # "<"
            self.items(self.field if word.lower() == STRUCT_KEYWORD else self.type_)
        self.copy_rest_of_item()

    def items(self, item: Callable[[], None]) -> None:
        """Comma-separated items up to and including the closing '>'."""
        while self.pos < len(self.text):
            item()
            if self.peek() == ",":
                self.copy_char()
                continue
            if self.peek() == ">":
                self.copy_char()
            return

    def field(self) -> None:
        """A struct field: its name (copied as is, quoted or not), ':', then its type."""
        self.copy_spaces()
        if self.peek() == "`":
            self.copy_quoted()
        while self.pos < len(self.text) and self.peek() not in ":,>":
            self.copy_char()
        if self.peek() == ":":
            self.copy_char()
            self.type_()


def array_type(hive_type: str) -> str:
    """``hive_type`` with every ``set<T>`` (any case, any depth) written ``array<T>``."""
    if SET_KEYWORD not in hive_type.lower():
        return hive_type
    scanner = _Scanner(hive_type)
    while scanner.pos < len(hive_type):
        scanner.type_()
        if scanner.pos < len(hive_type):  # a stray ',' or '>' at the top: copied, go on
            scanner.copy_char()
    return "".join(scanner.out)
