"""
Admin lists over tables that grow without bound (invoices, refund cases, the stock ledger, the audit trail).

- ``EstimatedCountPaginator``: an unfiltered list is counted from PostgreSQL's planner statistics
  (``pg_class.reltuples``) instead of a ``COUNT(*)`` over every row; a filtered list is counted exactly
  only up to ``COUNT_CAP`` rows (a COUNT over a LIMIT subquery) and shows "10,000+" beyond. Given the
  date drill-down's field, the same capped query also reads that field's MIN and MAX, exact whenever the
  count is: the drill-down then needs no query of its own.
- ``with_estimated_dates``: the admin's date drill-down (``date_hierarchy``) lists the years, months or
  days between the first and the last date (MIN and MAX: two index lookups) instead of a
  ``SELECT DISTINCT`` over the whole table.
- ``distinct_values``: the distinct values of an indexed column by walking its index (a "loose index
  scan", one query), for list filters over columns without choices.
"""

from datetime import date

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Count, F, Max, Min
from django.utils import timezone
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedCount(int):
    """A row count that stopped at the cap: shown as "10,000+"."""

    def __str__(self):
        return f"{COUNT_CAP:,}+"


def estimated_table_rows(model, using: str = "default") -> int | None:
    """PostgreSQL's estimate of the rows in ``model``'s table (kept by autovacuum/ANALYZE); None elsewhere."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples::bigint FROM pg_class c WHERE c.oid = to_regclass(%s)",
            [connection.ops.quote_name(model._meta.db_table)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


def capped_count(queryset, cap: int = COUNT_CAP) -> int:
    """The exact count up to ``cap`` rows, ``CappedCount`` beyond: ``SELECT COUNT(*) FROM (... LIMIT cap + 1)``."""
    count = queryset.order_by()[: cap + 1].count()
    return CappedCount(cap + 1) if count > cap else count


def capped_count_and_bounds(queryset, field: str, cap: int = COUNT_CAP) -> tuple[int, dict | None]:
    """``capped_count`` and, in the same query, the first and last ``field`` of those rows.

    The bounds (``{"first": ..., "last": ...}``) are those of the whole queryset only when the count stopped
    short of the cap; beyond it they are None.
    """
    row = queryset.order_by()[: cap + 1].aggregate(rows=Count("*"), first=Min(field), last=Max(field))
    if row["rows"] > cap:
        return CappedCount(cap + 1), None
    return row["rows"], {"first": row["first"], "last": row["last"]}


class EstimatedCountPaginator(Paginator):
    """Counts that cost the same at a thousand rows as at millions: an estimate or a capped exact count.

    With ``bounds_field`` (the date drill-down's field) a capped count also reads the first and last value
    of that field in the same query; ``bounds`` holds them when they are exact, else None.
    """

    bounds_field: str | None = None
    bounds: dict | None = None

    @cached_property
    def count(self):
        queryset = self.object_list
        query = getattr(queryset, "query", None)
        if query is None:
            return super().count
        if not query.where and not query.is_sliced:
            estimate = estimated_table_rows(queryset.model, queryset.db)
            if estimate is not None and estimate > COUNT_CAP:
                return estimate
        if self.bounds_field:
            count, self.bounds = capped_count_and_bounds(queryset, self.bounds_field)
            return count
        return capped_count(queryset)


# --- Date drill-down without DISTINCT -----------------------------------------------------------


class EstimatedDatesQuerySetMixin:
    """``dates()`` / ``datetimes()`` as every period between the first and last date: no SELECT DISTINCT.

    A period without rows may be listed; choosing it shows an empty page. Used only by the admin's
    date drill-down; the results are ``date`` objects, which is all the drill-down reads.
    """

    def dates(self, field_name, kind, order="ASC"):
        return self._periods(field_name, kind, order, aware=False)

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        return self._periods(field_name, kind, order, aware=True)

    def aggregate(self, *args, **kwargs):
        """MIN/MAX bounds are read once per queryset: the drill-down asks for them, then for the periods."""
        key = _bounds_key(args, kwargs)
        if key is None:
            return super().aggregate(*args, **kwargs)
        known = self.__dict__.setdefault("_known_bounds", {})
        if key not in known:
            known[key] = super().aggregate(**kwargs)
        return dict(known[key])

    def remember_bounds(self, field_name: str, bounds: dict) -> None:
        """Bounds already read elsewhere (with the capped count): the drill-down's MIN/MAX without a query."""
        key = _bounds_key((), {"first": Min(field_name), "last": Max(field_name)})
        self.__dict__.setdefault("_known_bounds", {})[key] = dict(bounds)

    def _periods(self, field_name, kind, order, *, aware):
        bounds = self.aggregate(first=Min(field_name), last=Max(field_name))
        first, last = bounds["first"], bounds["last"]
        if first is None or last is None:
            return []
        if aware:
            first, last = (timezone.localtime(v) if timezone.is_aware(v) else v for v in (first, last))
        first, last = _as_date(first), _as_date(last)
        periods = list(_periods_between(first, last, kind))
        return periods[::-1] if order == "DESC" else periods


def _bounds_key(args, kwargs):
    """A key for an aggregate made only of plain MIN/MAX of columns (no filter), else None."""
    if args or not kwargs:
        return None
    key = []
    for alias, expression in sorted(kwargs.items()):
        if type(expression) not in (Min, Max) or expression.filter is not None:
            return None
        sources = [source for source in expression.get_source_expressions() if source is not None]
        if len(sources) != 1 or type(sources[0]) is not F:
            return None
        key.append((alias, type(expression).__name__, sources[0].name))
    return tuple(key)


def _as_date(value) -> date:
    return value.date() if hasattr(value, "date") else value


def _periods_between(first: date, last: date, kind: str):
    if kind == "year":
        yield from (date(year, 1, 1) for year in range(first.year, last.year + 1))
    elif kind == "month":
        year, month = first.year, first.month
        while (year, month) <= (last.year, last.month):
            yield date(year, month, 1)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    elif kind == "day":
        day = first
        while day <= last:
            yield day
            day = date.fromordinal(day.toordinal() + 1)
    else:
        raise ValueError(f"kind must be year, month or day, not {kind!r}")


_ESTIMATED_DATES_CLASSES: dict[type, type] = {}


def with_estimated_dates(queryset):
    """The same queryset whose ``dates()``/``datetimes()`` read MIN and MAX only (kept through filters)."""
    base = type(queryset)
    if issubclass(base, EstimatedDatesQuerySetMixin):
        return queryset
    cls = _ESTIMATED_DATES_CLASSES.get(base)
    if cls is None:
        cls = _ESTIMATED_DATES_CLASSES[base] = type(
            f"EstimatedDates{base.__name__}", (EstimatedDatesQuerySetMixin, base), {}
        )
    clone = queryset._chain()
    clone.__class__ = cls
    return clone


# --- Distinct values by walking an index --------------------------------------------------------


def distinct_values(model, column: str, *, limit: int = 200, using: str = "default") -> list:
    """The distinct non-null values of ``model.column`` in order, one index probe per value (recursive CTE).

    With a B-tree index on the column this costs (number of values) x (index depth), not a scan of the
    table; ``limit`` bounds it when a column turns out to hold many values.
    """
    connection = connections[using]
    qn = connection.ops.quote_name
    table, col = qn(model._meta.db_table), qn(model._meta.get_field(column).column)
    # Only quoted table and column names of the model are interpolated; the limit is a parameter.
    sql = (
        f"WITH RECURSIVE walk(value, n) AS ("  # noqa: S608
        f" SELECT (SELECT {col} FROM {table} WHERE {col} IS NOT NULL ORDER BY {col} LIMIT 1), 1"
        f" UNION ALL"
        f" SELECT (SELECT {col} FROM {table} WHERE {col} > walk.value ORDER BY {col} LIMIT 1), n + 1"
        f" FROM walk WHERE walk.value IS NOT NULL AND n < %s"
        f") SELECT value FROM walk WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]
