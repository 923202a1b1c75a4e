"""Rewriting one object's content by a rule, streaming: JSON Lines (.json, .jsonl, .ndjson) and
CSV (.csv), each optionally gzip-compressed (.gz in, .gz out).

The input is read line by line and the output written as it goes, so memory holds one line (one
CSV record) at a time whatever the object's size. A JSON line the rule leaves unchanged is
written back byte for byte; a changed one is re-encoded compactly, each number as it was written
(a number a float would round or reformat is kept as its text). A CSV cell may be as long as the
object. Errors are ``RewriteError``s naming the line, never its
content (the content is what the rule exists to remove).
"""

import csv
import gzip
import io
import json
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any, Final, Literal, cast

from datalake_shared.object_tasks import ObjectTaskRule

JSON_SUFFIXES: Final = (".json", ".jsonl", ".ndjson")
CSV_SUFFIXES: Final = (".csv",)
GZIP_SUFFIX: Final = ".gz"
_UTF8_BOM: Final = b"\xef\xbb\xbf"
# gzip's default (9) costs several times the CPU for a few percent.
_GZIP_LEVEL: Final = 6
# Python's csv refuses a cell over 131,072 characters by default; a cell may be the whole object.
_CSV_FIELD_LIMIT: Final = sys.maxsize

Kind = Literal["jsonl", "csv"]


class RewriteError(Exception):
    """The object cannot be rewritten by the rule (unknown format, malformed content, too large).
    Permanent: a retry reads the same bytes."""


@dataclass(frozen=True, slots=True)
class ObjectFormat:
    kind: Kind
    gzipped: bool


@dataclass(frozen=True, slots=True)
class RewriteStats:
    records: int
    """JSON objects or CSV data rows read."""
    changed: int
    """Of those, how many the rule changed."""


def object_format(key: str) -> ObjectFormat:
    """The format a key's suffix names (case-insensitive); RewriteError for any other."""
    name = key.lower()
    gzipped = name.endswith(GZIP_SUFFIX)
    if gzipped:
        name = name.removesuffix(GZIP_SUFFIX)
    if name.endswith(JSON_SUFFIXES):
        return ObjectFormat("jsonl", gzipped)
    if name.endswith(CSV_SUFFIXES):
        return ObjectFormat("csv", gzipped)
    known = ", ".join((*JSON_SUFFIXES, *CSV_SUFFIXES))
    raise RewriteError(f"unknown object format: the key must end with one of {known} (+ .gz)")


# --- JSON values ------------------------------------------------------------------------------


def _path_of(document: dict[str, Any], field: str) -> tuple[dict[str, Any], str] | None:
    """The object holding ``field`` and its key there: a top-level key as written, else a dotted
    path into nested objects; None when absent."""
    if field in document:
        return document, field
    *parents, last = field.split(".")
    if not parents:
        return None
    node: Any = document
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict) and last in node:
        return node, last
    return None


def apply_to_document(document: dict[str, Any], rule: ObjectTaskRule) -> bool:
    """Applies the rule to one JSON object in place; whether anything changed."""
    changed = False
    for field in rule.fields:
        found = _path_of(document, field)
        if found is None:
            continue
        holder, key = found
        if rule.action == "remove":
            del holder[key]
            changed = True
        elif holder[key] != rule.mask_with:
            holder[key] = rule.mask_with
            changed = True
    return changed


@dataclass(frozen=True, slots=True)
class JsonNumber:
    """A JSON number a float would not write back as written ("1.50", "1e5", 19 digits): kept
    as its text, which the JSON scanner has already checked, and written back as is."""

    text: str


def _number(text: str) -> float | JsonNumber:
    """A JSON number with a fraction or exponent: a float when the float writes back as the same
    text (most numbers: json.dumps, in C, then encodes the line), else its text."""
    as_float = float(text)
    return as_float if repr(as_float) == text else JsonNumber(text)


def _integer(text: str) -> int | JsonNumber:
    """A JSON integer: an int, unless it would not write back as written ("-0", or more digits
    than Python converts, 4,300)."""
    try:
        as_int = int(text)
    except ValueError:
        return JsonNumber(text)
    return as_int if str(as_int) == text else JsonNumber(text)


def _no_constant(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _line_ending(line: bytes) -> bytes:
    if line.endswith(b"\r\n"):
        return b"\r\n"
    return b"\n" if line.endswith(b"\n") else b""


def _json_text(value: Any, *, ensure_ascii: bool) -> str:
    """Compact JSON, like json.dumps with separators (",", ":"), writing a JsonNumber as the
    text it was read from."""

    def text(item: Any) -> str:
        return _json_text(item, ensure_ascii=ensure_ascii)

    if isinstance(value, dict):
        return "{" + ",".join(f"{text(key)}:{text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(text(item) for item in value) + "]"
    if isinstance(value, JsonNumber):
        return value.text
    # str, int, float, bool and None: as json writes them.
    return json.dumps(value, ensure_ascii=ensure_ascii, allow_nan=False)


def _compact(document: dict[str, Any], *, ensure_ascii: bool) -> str:
    try:  # the common case, in C: no JsonNumber in the document
        return json.dumps(
            document, separators=(",", ":"), ensure_ascii=ensure_ascii, allow_nan=False
        )
    except TypeError:  # a JsonNumber: written as it was read
        return _json_text(document, ensure_ascii=ensure_ascii)


def encode_document(document: dict[str, Any]) -> bytes:
    """A changed line's object as compact UTF-8 JSON."""
    try:
        return _compact(document, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate ("\ud800" in the input) stays escaped, as it came.
        return _compact(document, ensure_ascii=True).encode()


def rewrite_json_lines(source: IO[bytes], target: IO[bytes], rule: ObjectTaskRule) -> RewriteStats:
    records = changed = 0
    for number, line in enumerate(source, start=1):
        body = line.removeprefix(_UTF8_BOM) if number == 1 else line
        try:
            text = body.decode()
        except UnicodeDecodeError as error:
            raise RewriteError(f"line {number} is not valid UTF-8") from error
        if not text.strip():
            target.write(line)  # blank lines kept as they are
            continue
        try:
            document = json.loads(
                text, parse_float=_number, parse_int=_integer, parse_constant=_no_constant
            )
        except ValueError as error:  # JSONDecodeError included; its message names no content
            raise RewriteError(f"line {number} is not valid JSON") from error
        if not isinstance(document, dict):
            raise RewriteError(f"line {number} is not a JSON object")
        records += 1
        if apply_to_document(document, rule):
            changed += 1
            target.write(encode_document(document) + _line_ending(line))
        else:
            target.write(line)
    return RewriteStats(records, changed)


# --- CSV --------------------------------------------------------------------------------------


class _Lines:
    """Iterates a text stream's lines (endings kept) for csv.reader, noting the first line's
    ending so the output keeps the input's."""

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self.ending: str | None = None

    def __iter__(self) -> Iterator[str]:
        for line in self._text:
            if self.ending is None and line.endswith("\n"):
                self.ending = "\r\n" if line.endswith("\r\n") else "\n"
            yield line


def _csv_row(reader: Any) -> list[str] | None:
    try:
        return next(reader, None)
    except UnicodeDecodeError as error:
        # Text is decoded a chunk ahead of the parser: the line is where it had got to.
        raise RewriteError(f"the CSV is not valid UTF-8 (after line {reader.line_num})") from error
    except csv.Error as error:
        raise RewriteError(f"line {reader.line_num} is not valid CSV") from error


@contextmanager
def _text_views(source: IO[bytes], target: IO[bytes]) -> Iterator[tuple[IO[str], IO[str]]]:
    """UTF-8 text over the byte streams, detached afterwards: closing (or collecting) a
    TextIOWrapper would close the stream under it, which the caller owns."""
    text = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    out = io.TextIOWrapper(target, encoding="utf-8", newline="", write_through=True)
    try:
        yield text, out
    finally:
        out.flush()
        out.detach()
        text.detach()


def rewrite_csv(source: IO[bytes], target: IO[bytes], rule: ObjectTaskRule) -> RewriteStats:
    """The header row names the columns; ``remove`` drops the rule's columns, ``mask`` replaces
    their cells. A column the header does not name is left alone, as is a short row's absent
    cell."""
    csv.field_size_limit(_CSV_FIELD_LIMIT)  # process-wide; the same value on every call
    with _text_views(source, target) as (text, out):
        lines = _Lines(text)
        reader = csv.reader(lines, strict=True)
        header = _csv_row(reader)
        if not header:
            raise RewriteError("line 1: the CSV has no header row")
        columns = {index for index, name in enumerate(header) if name in rule.fields}
        writer = csv.writer(out, lineterminator=lines.ending or "\n")
        remove = rule.action == "remove"

        def kept(row: list[str]) -> list[str]:
            return [cell for index, cell in enumerate(row) if index not in columns]

        writer.writerow(kept(header) if remove else header)
        records = changed = 0
        while (row := _csv_row(reader)) is not None:
            if not row:
                writer.writerow(row)  # a blank line stays blank
                continue
            records += 1
            hit = [index for index in columns if index < len(row)]
            if hit:
                changed += 1
                if remove:
                    row = kept(row)
                else:
                    for index in hit:
                        row[index] = rule.mask_with
            writer.writerow(row)
    return RewriteStats(records, changed)


# --- whole objects ----------------------------------------------------------------------------


@contextmanager
def _maybe_gzip(
    source: IO[bytes], target: IO[bytes], gzipped: bool
) -> Iterator[tuple[IO[bytes], IO[bytes]]]:
    if not gzipped:
        yield source, target
        return
    with (
        gzip.GzipFile(fileobj=source, mode="rb") as unzipped,
        gzip.GzipFile(fileobj=target, mode="wb", mtime=0, compresslevel=_GZIP_LEVEL) as zipped,
    ):
        yield cast("IO[bytes]", unzipped), cast("IO[bytes]", zipped)


def rewrite_object(
    key: str, source: IO[bytes], target: IO[bytes], rule: ObjectTaskRule
) -> RewriteStats:
    """Writes ``source`` rewritten by ``rule`` to ``target``, in the format ``key`` names."""
    shape = object_format(key)
    rewrite = rewrite_json_lines if shape.kind == "jsonl" else rewrite_csv
    try:
        with _maybe_gzip(source, target, shape.gzipped) as (reader, writer):
            return rewrite(reader, writer, rule)
    except (gzip.BadGzipFile, EOFError, zlib.error) as error:
        raise RewriteError("the object is not valid gzip") from error
