"""Hidden rows, hidden columns and pivot (DataPilot) tables of each sheet of an OpenDocument
spreadsheet, read from its content.xml since calamine reads past them; and whether the package
is password-protected (``ods_is_encrypted``).

Rows and columns count in document order, repeats included, inside header-row, row-group and
column-group elements too; ``table:visibility`` "collapse" (hidden, or a folded group) and
"filter" (a standard or auto filter) both hide. Repeats are added up, never expanded: one
element can hide a million rows. A table nested in a cell counts for nothing.

content.xml is scanned with regexes anchored on ``<table:`` (calamine matches the ``table:``
prefix as written, and so do these); when it holds comments, CDATA or processing instructions,
which could hide such text, it is walked construct by construct instead.

A DataPilot's ``table:target-range-address`` covers its whole output, filter button and page
fields included. LibreOffice lays it out (``ScDPOutput::CalcSizes``; checked against Calc 7.4's
own output, see tests/unit/excel_cleaner/layout_fixtures): when the "Filter" button is shown
(``table:show-filter-button``, true unless "false") or there are page fields, the table starts
below a row for the button, a row per page field and a blank row; then a caption row (the data
field's name and the column fields' buttons; two rows with ``table:header-grid-layout`` and no
column field), then a row of items per column field; the row above the data, which also holds
the row fields' names, names the columns. The "Data" layout field counts as a column field only
when it is one (``table:is-data-layout-field``, orientation "column") and there are two or more
data fields.
"""

import re
from dataclasses import dataclass, field
from typing import Final

from excel_cleaner.intake.cell_limit import decimal_number
from excel_cleaner.intake.ods_merges import has_spans, ods_merged_cells
from excel_cleaner.intake.xlsx_layout import parse_small_xml, tag_attributes
from excel_cleaner.intake.xml_patterns import (
    ATTRIBUTES,
    WHITESPACE_OR_END,
    next_tag,
)
from excel_cleaner.sheet_facts import IndexRanges, PivotArea, SheetFacts

MAX_MANIFEST_BYTES: Final = 16 << 20
_HIDING: Final = (b"collapse", b"filter")
_LAYOUT_NAMES: Final = rb"(table|table-row|table-column|data-pilot-table|data-pilot-field)"
_PIVOT_NAMES: Final = rb"(table|data-pilot-table|data-pilot-field)"
_NOT_A_TAG: Final = re.compile(rb"<[!?]")  # a comment, CDATA, a processing instruction...
_DOCUMENT_END: Final = re.compile(
    rb"</(?:[A-Za-z_][\w.\-]*:)?document-content[\t\n\r ]*>[\t\n\r ]*\Z"
)
_TABLE_END: Final = re.compile(rb"</table:table[\t\n\r ]*+>")


def _start_tags(names: bytes) -> re.Pattern[bytes]:
    """Start tags (and empty ones) of these table: elements (groups: name, attributes)."""
    return re.compile(rb"<table:" + names + WHITESPACE_OR_END + ATTRIBUTES + rb">")


_LAYOUT_START: Final = _start_tags(_LAYOUT_NAMES)
_PIVOT_START: Final = _start_tags(_PIVOT_NAMES)
# The next start or end tag of those elements (groups: "/" or "", name, attributes), stepping
# over comments, CDATA and anything else whole.
_WALK: Final = next_tag(
    b"table", (b"table", b"table-row", b"table-column", b"data-pilot-table", b"data-pilot-field")
)
_ENTITY: Final = re.compile(rb"&(?:#([0-9]{1,7});|#[xX]([0-9a-fA-F]{1,6});|(lt|gt|amp|quot|apos);)")
_NAMED: Final = {b"lt": b"<", b"gt": b">", b"amp": b"&", b"quot": b'"', b"apos": b"'"}
_ADDRESS: Final = re.compile(
    r"\$?(?:'((?:[^']|'')*)'|([^.':]*))\.\$?([A-Za-z]{1,3})\$?([0-9]{1,7})"
)


def _sheet_name(raw: bytes) -> str:
    """The sheet name of a ``table:table`` tag, from its attributes as written."""
    return _text(tag_attributes(raw).get(b"table:name", b""))


def _text(value: bytes) -> str:
    """An attribute value as written, its entity and character references resolved."""

    def resolve(match: re.Match[bytes]) -> bytes:
        decimal, hexadecimal, name = match.groups()
        if name:
            return _NAMED[name]
        code = int(decimal) if decimal else int(hexadecimal, 16)
        return chr(min(code, 0x10FFFF)).encode("utf-8", "replace")

    return _ENTITY.sub(resolve, value).decode("utf-8", "replace")


@dataclass(slots=True)
class _Pilot:
    attributes: dict[bytes, bytes]
    fields: list[dict[bytes, bytes]] = field(default_factory=list)


@dataclass(slots=True)
class _Table:
    row: int = 0
    column: int = 0
    hidden_rows: list[tuple[int, int]] = field(default_factory=list)
    hidden_columns: list[tuple[int, int]] = field(default_factory=list)


class _Reader:
    """Gathers the sheets, their hidden rows and columns and the DataPilots, tag by tag."""

    def __init__(self) -> None:
        self.tables: dict[str, _Table] = {}
        self.pilots: list[_Pilot] = []
        self._depth = 0  # of table:table elements: rows of a table in a cell do not count
        self._table: _Table | None = None

    def start(self, name: bytes, raw: bytes) -> None:
        if name == b"table":
            if self._depth == 0:
                self._table = self.tables.setdefault(_sheet_name(raw), _Table())
            if not raw.rstrip().endswith(b"/"):
                self._depth += 1
        elif name == b"data-pilot-table":
            self.pilots.append(_Pilot(tag_attributes(raw)))
        elif name == b"data-pilot-field":
            if self.pilots:
                self.pilots[-1].fields.append(tag_attributes(raw))
        elif self._depth == 1 and self._table is not None:
            row = name == b"table-row"
            if b"visibility" in raw or b"repeated" in raw:
                self._count(row, tag_attributes(raw))
            elif row:
                self._table.row += 1
            else:
                self._table.column += 1

    @property
    def closed(self) -> bool:
        """Whether every table read has ended."""
        return self._depth == 0

    def end_table(self) -> None:
        self._depth = max(self._depth - 1, 0)

    def _count(self, row: bool, attributes: dict[bytes, bytes]) -> None:
        table = self._table
        assert table is not None
        kind = b"rows" if row else b"columns"
        repeated = attributes.get(b"table:number-" + kind + b"-repeated")
        repeats = decimal_number(repeated.strip()) if repeated and repeated.strip().isdigit() else 1
        first = table.row if row else table.column
        if attributes.get(b"table:visibility", b"").strip() in _HIDING and repeats:
            (table.hidden_rows if row else table.hidden_columns).append(
                (first, first + repeats - 1)
            )
        if row:
            table.row += repeats
        else:
            table.column += repeats


def _without_declaration(content: bytes) -> int:
    """Where the document after its XML declaration starts."""
    stripped = content.removeprefix(b"\xef\xbb\xbf").lstrip()
    if stripped.startswith(b"<?xml") and (end := stripped.find(b"?>")) >= 0:
        return len(content) - len(stripped) + end + 2
    return 0


def _read(content: bytes, *, hidden: bool) -> _Reader:
    reader = _Reader()
    start = _without_declaration(content)
    if _NOT_A_TAG.search(content, start):
        for tag in _WALK.finditer(content, start):
            closing, name, raw = tag.groups()
            if closing:
                if name == b"table":
                    reader.end_table()
            elif hidden or name not in (b"table-row", b"table-column"):
                reader.start(name, raw)
        return reader
    # No comments or CDATA: every "<" starts a tag, so the tags are found by their names.
    starts = (_LAYOUT_START if hidden else _PIVOT_START).finditer(content, start)
    ends = [end.start() for end in _TABLE_END.finditer(content, start)]
    next_end = 0
    for tag in starts:
        while next_end < len(ends) and ends[next_end] < tag.start():
            reader.end_table()
            next_end += 1
        reader.start(tag.group(1), tag.group(2))
    for _ in ends[next_end:]:
        reader.end_table()
    return reader


def _address(text: str) -> tuple[str, int, int] | None:
    """The sheet, row and column (0-based) of "'Sheet 2'.$B$3" (no sheet: "")."""
    match = _ADDRESS.fullmatch(text.strip())
    if match is None:
        return None
    quoted, plain, letters, digits = match.groups()
    sheet = quoted.replace("''", "'") if quoted is not None else plain
    column = 0
    for letter in letters.upper():
        column = column * 26 + ord(letter) - ord("A") + 1
    return sheet, int(digits) - 1, column - 1


def _split_range(text: str) -> list[str]:
    """A range address's two cell addresses (one for a single cell), split at the ":" outside
    quotes; the first range of a list."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for character in text.strip():
        if character == "'":
            quoted = not quoted
        elif not quoted and character == " ":
            break
        elif not quoted and character == ":":
            parts.append("".join(current))
            current = []
            continue
        current.append(character)
    parts.append("".join(current))
    return parts


def _pivot_area(pilot: _Pilot) -> tuple[str, PivotArea] | None:
    """The sheet and area of a DataPilot's output, with its header row (module docstring)."""
    corners = _split_range(_text(pilot.attributes.get(b"table:target-range-address", b"")))
    if len(corners) > 2:
        return None
    first, last = _address(corners[0]), _address(corners[-1])
    if first is None or last is None:
        return None
    sheet = first[0]
    top, bottom = sorted((first[1], last[1]))
    left, right = sorted((first[2], last[2]))

    def orientation(attributes: dict[bytes, bytes]) -> bytes:
        return attributes.get(b"table:orientation", b"").strip()

    layout = [f for f in pilot.fields if f.get(b"table:is-data-layout-field") == b"true"]
    fields = [f for f in pilot.fields if f.get(b"table:is-data-layout-field") != b"true"]
    pages = sum(orientation(f) == b"page" for f in fields)
    data_fields = sum(orientation(f) == b"data" for f in fields)
    columns = sum(orientation(f) == b"column" for f in fields)
    if data_fields > 1 and any(orientation(f) == b"column" for f in layout):
        columns += 1
    button = pilot.attributes.get(b"table:show-filter-button", b"true").strip() != b"false"
    page_rows = pages + 1 + button if button or pages else 0
    grid = pilot.attributes.get(b"table:header-grid-layout", b"false").strip() == b"true"
    caption_rows = 2 if grid and not columns else 1
    header_row = top + page_rows + caption_rows + columns - 1
    return sheet, PivotArea(top, left, bottom, right, min(max(header_row, top), bottom))


def ods_sheet_facts(content_xml: bytes, *, hidden: bool) -> dict[str, SheetFacts]:
    """Each sheet's DataPilot tables and merged cells (``intake.ods_merges``), and when
    ``hidden`` its hidden rows and columns, by the name calamine gives the sheet (its
    ``table:name``). ValueError when content.xml is damaged or a sheet has more than 100,000
    merged ranges."""
    if not _DOCUMENT_END.search(content_xml[-256:]):
        raise ValueError("content.xml is damaged: it does not end with </office:document-content>")
    reader = _read(content_xml, hidden=hidden)
    if not reader.tables or not reader.closed:
        raise ValueError("content.xml is damaged: no table, or one that does not end")
    pivots: dict[str, list[PivotArea]] = {}
    for pilot in reader.pilots:
        found = _pivot_area(pilot)
        if found is not None and found[0] in reader.tables:
            pivots.setdefault(found[0], []).append(found[1])
    merges: dict[str, tuple[tuple[int, int, int, int], ...]] = {}
    if has_spans(content_xml):  # a substring search: most files have no merged cell
        merges = ods_merged_cells(content_xml, _without_declaration(content_xml), _sheet_name)
    return {
        name: SheetFacts(
            IndexRanges.of(table.hidden_rows),
            IndexRanges.of(table.hidden_columns),
            tuple(pivots.get(name, ())),
            merges.get(name, ()),
        )
        for name, table in reader.tables.items()
    }


def ods_is_encrypted(manifest_xml: bytes) -> bool:
    """Whether META-INF/manifest.xml gives content.xml ``manifest:encryption-data``: the
    document was saved with a password. ValueError when the manifest is not well-formed or
    larger than 16 MiB."""
    if len(manifest_xml) > MAX_MANIFEST_BYTES:
        raise ValueError("META-INF/manifest.xml is larger than 16 MiB")
    root = parse_small_xml(manifest_xml, "META-INF/manifest.xml")
    for entry in root.iter():
        if entry.tag.rpartition("}")[2] != "file-entry":
            continue
        paths = [v for k, v in entry.attrib.items() if k.rpartition("}")[2] == "full-path"]
        if paths and paths[0].strip().removeprefix("./").lstrip("/") == "content.xml":
            return any(child.tag.rpartition("}")[2] == "encryption-data" for child in entry)
    return False
