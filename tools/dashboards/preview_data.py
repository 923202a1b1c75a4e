"""The preview's numbers: each dataset's query result, checked and typed, then aggregated per
visual as QuickSight aggregates it.

Pure: the query runner is passed in (the demo and the tests give one over the local Athena), so
the shaping is tested without a stack or a browser.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from tools.dashboards.definitions import Aggregation, Chart, Dataset, Visual

# Runs SQL on Athena; returns the header and the rows as GetQueryResults gives them (text, NULL
# as ""): dev.demo.support.athena_rows over the local runtime.
type QueryRunner = Callable[[str], tuple[list[str], list[list[str]]]]
type Cell = str | float | None
type Row = dict[str, Cell]


class ColumnMismatchError(ValueError):
    """A dataset's query returned other columns than the dataset declares."""


@dataclass(frozen=True)
class DatasetRows:
    dataset: Dataset
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Series:
    """One trace: a value per category (bars, line markers or pie slices)."""

    name: str
    categories: tuple[str, ...]
    values: tuple[float, ...]


@dataclass(frozen=True)
class ChartData:
    visual: Visual
    series: tuple[Series, ...] = ()  # bar, stacked bar, line, pie
    rows: tuple[tuple[str, ...], ...] = ()  # table: the visual's columns of each row

    @property
    def points(self) -> int:
        """The marks a chart draws: bars, markers, slices, or table rows."""
        if self.visual.chart is Chart.TABLE:
            return len(self.rows)
        return sum(len(series.values) for series in self.series)


def _typed(dataset: Dataset, column: str, text: str) -> Cell:
    if not dataset.column(column).type.numeric:
        return text
    if text == "":  # NULL: a value QuickSight leaves out of its aggregations
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(
            f"dataset {dataset.key}: column {column} holds {text!r}, not a number"
        ) from None


def dataset_rows(
    dataset: Dataset, header: Sequence[str], rows: Iterable[Sequence[str]]
) -> DatasetRows:
    """The query result as typed rows; its columns must be the dataset's, in order."""
    declared = [column.name for column in dataset.columns]
    if list(header) != declared:
        raise ColumnMismatchError(
            f"dataset {dataset.key} ({dataset.sql_file}) declares columns {declared} but its "
            f"query returned {list(header)}: fix tools/dashboards/definitions.py or the query"
        )
    typed = tuple(
        {name: _typed(dataset, name, text) for name, text in zip(declared, row, strict=True)}
        for row in rows
    )
    return DatasetRows(dataset, typed)


def fetch(datasets: Iterable[Dataset], run_query: QueryRunner) -> dict[str, DatasetRows]:
    """Each dataset's rows by key, its SQL run once."""
    fetched = {}
    for dataset in datasets:
        header, rows = run_query(dataset.sql)
        fetched[dataset.key] = dataset_rows(dataset, header, rows)
    return fetched


def aggregate(aggregation: Aggregation, values: Iterable[Cell]) -> float | None:
    """``values`` aggregated, NULLs left out; None when no value is left (QuickSight: null)."""
    numbers = [float(value) for value in values if value is not None]
    if not numbers:
        return None
    match aggregation:
        case Aggregation.SUM:
            return sum(numbers)
        case Aggregation.AVERAGE:
            return sum(numbers) / len(numbers)
        case Aggregation.MAX:
            return max(numbers)


def _label(cell: Cell) -> str:
    """A category or group as a chart labels it: NULL (or empty) as QuickSight shows it."""
    return "null" if cell is None or cell == "" else str(cell)


def _shown(cell: Cell) -> str:
    """A table cell: counts without a decimal point; NULL as an empty cell."""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return "" if cell is None else str(cell)


def _category_label(visual: Visual, cell: Cell) -> str:
    """A category as the chart labels it; a date-time by its day (QuickSight's DAY granularity)."""
    label = _label(cell)
    if visual.date_category is not None and label != "null":
        return label[:10]  # YYYY-MM-DD of an ISO date or timestamp
    return label


def _series(name: str, rows: Sequence[Row], visual: Visual, value: str) -> Series:
    """Rows aggregated per category (in order of first appearance); null results left out."""
    category = visual.category or ""  # a chart's category is set (Visual checks)
    by_category: dict[str, list[Cell]] = {}
    for row in rows:
        label = _category_label(visual, row[category])
        by_category.setdefault(label, []).append(row[value])
    points = [
        (label, total)
        for label, cells in by_category.items()
        if (total := aggregate(visual.aggregation, cells)) is not None
    ]
    return Series(name, tuple(label for label, _ in points), tuple(total for _, total in points))


def _grouped(visual: Visual, rows: Sequence[Row], group: str) -> list[Series]:
    (value,) = visual.values  # a grouped visual measures one value (Visual checks)
    by_group: dict[str, list[Row]] = {}
    for row in rows:
        by_group.setdefault(_label(row[group]), []).append(row)
    return [_series(name, members, visual, value) for name, members in by_group.items()]


def chart_data(visual: Visual, fetched: DatasetRows) -> ChartData:
    """What the visual draws from its dataset's rows: a table shows the rows; a chart shows
    each value (or the one value per group) aggregated per category, as QuickSight does."""
    if fetched.dataset != visual.dataset:
        raise ValueError(
            f"visual {visual.key} draws {visual.dataset.key}, not {fetched.dataset.key}"
        )
    rows = fetched.rows
    if visual.only is not None:
        column, value = visual.only
        rows = tuple(row for row in rows if row[column] == value)
    if visual.chart is Chart.TABLE:
        return ChartData(
            visual, rows=tuple(tuple(_shown(row[c]) for c in visual.values) for row in rows)
        )
    if visual.category is None:
        raise ValueError(f"visual {visual.key}: a {visual.chart} needs a category")
    if visual.group is not None:
        series = _grouped(visual, rows, visual.group)
    else:
        series = [_series(v, rows, visual, v) for v in visual.values]
    return ChartData(visual, series=tuple(s for s in series if s.values))
