"""
Files people take out of the portal: CSV or XLSX, safe to open in a spreadsheet, and audited.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab,
carriage return or line feed) are written with a leading apostrophe; numbers stay numbers.
Every export is an audit event with who, what, which filters, how many rows and the SHA-256 of the file.

Small exports are built at once (:func:`export_response`) or streamed (:func:`streaming_csv_response`:
the file is hashed while it streams and the event is recorded when the stream ends); large ones become
export jobs a worker writes to a file (``apps.core.services.exports``) with :func:`write_file`.
"""

import csv
import datetime
import hashlib
import io
import json
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice

import tablib
from django.db import connections, models
from django.db.models import Case, F, Func, Q, Value, When
from django.db.models.functions import Cast, Coalesce, Concat, Replace
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from apps.core import audit
from apps.core.permissions import require_perm

EXPORT_PERMISSION = "core.export_records"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CSV_BATCH_ROWS = 2000  # rows per chunk of a streamed CSV
COPY_CHUNK_BYTES = 256 * 1024  # bytes per chunk of a CSV whose lines the database writes
QUERY_CHUNK_ROWS = 10_000  # rows fetched per round trip from a server-side cursor


NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not NUMBER.match(value):
        return "'" + value
    return value


def plain_cell(value):
    """A value a CSV or XLSX cell can hold: structures as JSON, times in UTC without zone, text formula-safe."""
    if isinstance(value, dict | list):
        value = json.dumps(value, default=str, ensure_ascii=False)
    elif isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.make_naive(value, datetime.UTC)
    elif isinstance(value, uuid.UUID):
        value = str(value)
    return safe_cell(value)


def sanitized(dataset: tablib.Dataset) -> tablib.Dataset:
    """A copy of ``dataset`` with every cell passed through :func:`safe_cell`."""
    clean = tablib.Dataset(headers=dataset.headers)
    for row in dataset:
        clean.append([safe_cell(value) for value in row])
    return clean


def check_format(fmt: str) -> str:
    if fmt not in CONTENT_TYPES:
        raise ValueError(f"Unknown export format {fmt!r}: choose csv or xlsx.")
    return fmt


def build_file(headers: Sequence[str], rows: Iterable[Sequence], fmt: str) -> tuple[bytes, int]:
    check_format(fmt)
    dataset = tablib.Dataset(headers=list(headers))
    count = 0
    for row in rows:
        dataset.append([plain_cell(value) for value in row])
        count += 1
    content = dataset.export(fmt)
    return (content.encode("utf-8") if isinstance(content, str) else content), count


def record_export(*, actor, what: str, fmt: str, rows: int, sha256: str, filters: dict | None = None, **extra):
    """The audit event of one export: who, which model, which filters, how many rows, the file's SHA-256."""
    return audit.record(
        action="records.exported",
        actor=actor,
        data={"what": what, "format": fmt, "rows": rows, "filters": filters or {}, "sha256": sha256, **extra},
    )


def export_response(*, actor, name: str, headers, rows, fmt: str, filters: dict | None = None) -> HttpResponse:
    """A downloadable file of ``rows``, for people with ``export_records``; recorded on the audit trail."""
    require_perm(actor, EXPORT_PERMISSION, "You may not export records.")
    content, count = build_file(headers, rows, fmt)
    digest = hashlib.sha256(content).hexdigest()
    record_export(actor=actor, what=name, fmt=fmt, rows=count, sha256=digest, filters=filters)
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


# --- Columns read straight from the database ------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One exported column: a ``values_list`` lookup, optionally masked unless the reader holds a permission.

    ``text`` columns are made formula-safe by the database as it reads them, ``json`` ones in Python;
    ``cast`` columns (integers, decimals, dates) come back from PostgreSQL as their text, which CSV writes as
    is (SQLite's text of a decimal drops its places, so there they come back as values).
    """

    header: str
    lookup: str
    text: bool = True  # may hold text a spreadsheet would evaluate
    mask: Callable | None = None
    shown_with: str = ""  # permission that shows the value as stored
    json: bool = False
    cast: bool = False


TEXT_FIELDS = (models.CharField, models.TextField, models.FileField)
CAST_FIELDS = (models.IntegerField, models.DecimalField, models.DateField)
# The formula check of safe_cell, in SQL: first character a formula sign and the cell not a number.
FORMULA_START_SQL = r"^[-=+@\t\r\n]"
NUMBER_SQL = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def model_columns(model, names: Sequence[str] | None = None) -> list[Column]:
    """Columns for a model's concrete fields (foreign keys as their ids), or for the ``names`` given."""
    fields = [field for field in model._meta.concrete_fields if names is None or field.name in names]
    if names is not None:
        order = {name: index for index, name in enumerate(names)}
        fields.sort(key=lambda field: order[field.name])
    columns = []
    for field in fields:
        stored = field.target_field if field.is_relation else field
        castable = isinstance(stored, CAST_FIELDS) and not isinstance(stored, models.DateTimeField)
        columns.append(
            Column(
                field.name,
                field.attname,
                text=isinstance(field, TEXT_FIELDS),
                json=isinstance(field, models.JSONField),
                cast=castable,
            )
        )
    return columns


def _selected(column: Column, *, cast: bool = True):
    if column.text:
        value = F(column.lookup)
        formula = Q(**{f"{column.lookup}__regex": FORMULA_START_SQL}) & ~Q(**{f"{column.lookup}__regex": NUMBER_SQL})
        return Case(
            When(formula, then=Concat(Value("'"), value, output_field=models.TextField())),
            default=value,
            output_field=models.TextField(),
        )
    if column.cast and cast:
        return Cast(column.lookup, output_field=models.TextField())
    return column.lookup


def queryset_rows(queryset, columns: Sequence[Column], *, actor=None, chunk_size: int = QUERY_CHUNK_ROWS):
    """Rows of ``queryset`` as tuples in column order, from a server-side cursor; no model instances.

    Text cells arrive formula-safe from the database; masks apply to what it returns.
    """
    masks = [
        (index, column.mask)
        for index, column in enumerate(columns)
        if column.mask is not None
        and not (column.shown_with and actor is not None and actor.has_perm(column.shown_with))
    ]
    cast = connections[queryset.db].vendor == "postgresql"
    selected = queryset.prefetch_related(None).values_list(*[_selected(column, cast=cast) for column in columns])
    rows = selected.iterator(chunk_size=chunk_size)
    if not masks:
        yield from rows
        return
    for row in rows:
        row = list(row)
        for index, mask in masks:
            row[index] = mask(row[index])
        yield row


# --- CSV, streamed --------------------------------------------------------------------------------


class CSVStream:
    """Encodes rows as CSV in chunks of bytes; counts the rows and hashes what it produced.

    ``text_columns`` (indexes) limits the formula check to columns that can hold text; without it
    every cell is checked.
    """

    def __init__(self, headers: Sequence[str], rows: Iterable[Sequence], *, text_columns: Sequence[int] | None = None):
        self.headers = list(headers)
        self.rows = rows
        self.text_columns = None if text_columns is None else list(text_columns)
        self.row_count = 0
        self.digest = hashlib.sha256()
        self.finished = False

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    def _safe_rows(self):
        if self.text_columns is None:
            for row in self.rows:
                yield [plain_cell(value) for value in row]
            return
        text_columns = self.text_columns
        first_characters = frozenset("=+-@\t\r\n")
        for row in self.rows:
            for index in text_columns:
                value = row[index]
                if value and value.__class__ is str and value[0] in first_characters:
                    row = list(row)
                    row[index] = safe_cell(value)
                elif value.__class__ in (dict, list):
                    row = list(row)
                    row[index] = plain_cell(value)
            yield row

    def __iter__(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.headers)
        rows = iter(self.rows) if self.text_columns == [] else self._safe_rows()
        while batch := list(islice(rows, CSV_BATCH_ROWS)):
            yield self._flush(writer, buffer, batch)
        yield self._flush(writer, buffer, [])
        self.finished = True

    def _flush(self, writer, buffer, batch) -> bytes:
        writer.writerows(batch)
        self.row_count += len(batch)
        chunk = buffer.getvalue().encode("utf-8")
        buffer.seek(0)
        buffer.truncate()
        self.digest.update(chunk)
        return chunk


class AuditedStream:
    """Yields a :class:`CSVStream`'s chunks and records the export event when the stream ends.

    The event keeps the audit context of the request that started the download (it ends after the
    view returned); a download broken off part way is recorded as a failed export with the rows sent.
    """

    def __init__(self, stream: CSVStream, *, actor, what: str, filters: dict | None = None):
        self.stream = stream
        self.actor = actor
        self.what = what
        self.filters = filters or {}
        self.context = audit.current()
        self.chunks = None
        self.recorded = False

    def __iter__(self) -> Iterator[bytes]:
        self.chunks = self._generate()
        return self.chunks

    def _generate(self) -> Iterator[bytes]:
        try:
            yield from self.stream
        finally:
            self._record()

    def close(self):
        """Called by the response when the download ends, finished or not (before the request's connections close)."""
        if self.chunks is not None:
            self.chunks.close()
        self._record()

    def _record(self):
        if self.recorded:
            return
        self.recorded = True
        ctx = self.context
        with audit.audit_context(path=ctx.path, actor=self.actor, remote_addr=ctx.remote_addr, detail=ctx.detail):
            if self.stream.finished:
                record_export(
                    actor=self.actor,
                    what=self.what,
                    fmt="csv",
                    rows=self.stream.row_count,
                    sha256=self.stream.sha256,
                    filters=self.filters,
                    streamed=True,
                )
            else:
                audit.record(
                    action="records.exported",
                    actor=self.actor,
                    outcome="failed",
                    message="The download was broken off before the file was complete.",
                    data={"what": self.what, "format": "csv", "rows": self.stream.row_count, "filters": self.filters},
                )


def streaming_csv_response(
    *,
    actor,
    name: str,
    headers: Sequence[str] = (),
    rows: Iterable[Sequence] = (),
    filters: dict | None = None,
    text_columns: Sequence[int] | None = None,
    stream: CSVStream | None = None,
) -> StreamingHttpResponse:
    """A CSV download streamed row batch by row batch, for people with ``export_records``; audited at its end.

    Give ``headers`` and ``rows``, or a ready ``stream`` (e.g. :func:`queryset_csv_stream`).
    """
    require_perm(actor, EXPORT_PERMISSION, "You may not export records.")
    stream = stream or CSVStream(headers, rows, text_columns=text_columns)
    response = StreamingHttpResponse(AuditedStream(stream, actor=actor, what=name, filters=filters))
    response["Content-Type"] = CONTENT_TYPES["csv"]
    response["Content-Disposition"] = f'attachment; filename="{name.replace(".", "-")}.csv"'
    return response


def queryset_csv_stream(queryset, columns: Sequence[Column], *, actor=None) -> CSVStream:
    """A :class:`CSVStream` of a queryset read with ``values_list``: text made safe by the database, the rest here.

    On PostgreSQL, when every column is text, a number or a date and nothing is masked, the database writes
    each CSV line itself (formula-safe and quoted as Python's ``csv`` module would) and Python only passes them
    on. Elsewhere (SQLite, whose numbers and times read as text differ from Python's) Python writes every line.
    """
    headers = [column.header for column in columns]
    by_database = connections[queryset.db].vendor == "postgresql"
    if by_database and all((c.text or c.cast) and c.mask is None and not c.json for c in columns):
        return CSVLineStream(headers, queryset_csv_lines(queryset, columns))
    return CSVStream(
        headers,
        queryset_rows(queryset, columns, actor=actor),
        text_columns=[index for index, column in enumerate(columns) if column.json or column.mask is not None],
    )


CSV_SPECIAL_SQL = '[",\r\n]'  # a field with one of these is quoted, as csv.QUOTE_MINIMAL does


def _csv_field(column: Column):
    """One column as its CSV field, in SQL: numbers and dates as text; text formula-safe, quoted when needed."""
    text = models.TextField()
    if not column.text:
        return Coalesce(Cast(column.lookup, output_field=text), Value(""), output_field=text)
    safe = _selected(column)
    quoted = Concat(
        Value('"'), Replace(safe, Value('"'), Value('""'), output_field=text), Value('"'), output_field=text
    )
    return Case(
        When(**{f"{column.lookup}__regex": CSV_SPECIAL_SQL}, then=quoted),
        default=Coalesce(safe, Value(""), output_field=text),
        output_field=text,
    )


def queryset_csv_lines(queryset, columns: Sequence[Column]):
    """``queryset`` as one CSV line per row (without its line end), built by the database: a values list."""
    line = Func(
        Value(","), *[_csv_field(column) for column in columns], function="CONCAT_WS", output_field=models.TextField()
    )
    return queryset.prefetch_related(None).values_list(line, flat=True)


# COPY's text format writes a backslash, and the control characters below, as these escapes.
COPY_TEXT_ESCAPES = {b"\\": b"\\", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f", b"v": b"\v"}
COPY_TEXT_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)


def _copy_text_unescaped(data: bytes) -> bytes:
    if b"\\" not in data:
        return data
    return COPY_TEXT_ESCAPE.sub(lambda match: COPY_TEXT_ESCAPES[match.group(1)], data)


class CSVLineStream(CSVStream):
    """A :class:`CSVStream` of lines PostgreSQL already wrote as CSV (``lines``: a values list of them).

    The lines come with ``COPY (query) TO STDOUT`` and are passed on in blocks of about
    ``COPY_CHUNK_BYTES``: one line per row of COPY's text format, whose escapes are undone (each line has
    its own CSV quoting).
    """

    def __iter__(self) -> Iterator[bytes]:
        buffer = io.StringIO()
        csv.writer(buffer).writerow(self.headers)
        self._head = buffer.getvalue().encode("utf-8")
        yield from self._copied(connections[self.rows.db])
        if self._head:  # no rows
            yield self._chunk(b"")
        self.finished = True

    def _copied(self, database) -> Iterator[bytes]:
        sql, params = self.rows.query.sql_with_params()
        parts, size = [], 0
        with database.cursor() as cursor, cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
            for block in copy:  # a row at a time, as the server sends them
                parts.append(block)
                size += len(block)
                if size >= COPY_CHUNK_BYTES:
                    yield self._chunk(b"".join(parts))
                    parts, size = [], 0
        if parts:
            yield self._chunk(b"".join(parts))

    def _chunk(self, lines: bytes) -> bytes:
        """COPY's lines (each ending in a line feed; a line's own line breaks are escaped) as CSV lines."""
        self.row_count += lines.count(b"\n")
        chunk = self._head + _copy_text_unescaped(lines.replace(b"\n", b"\r\n"))
        self._head = b""
        self.digest.update(chunk)
        return chunk


# --- Files written by the worker --------------------------------------------------------------------


def write_file(handle, headers: Sequence[str], rows: Iterable[Sequence], fmt: str) -> tuple[int, str]:
    """Write an export to the binary ``handle`` without holding it in memory; returns (rows, SHA-256)."""
    check_format(fmt)
    if fmt == "csv":
        stream = CSVStream(headers, rows)
        for chunk in stream:
            handle.write(chunk)
        return stream.row_count, stream.sha256
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([safe_cell(header) for header in headers])
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
        count += 1
    hashing = _HashingWriter(handle)
    workbook.save(hashing)
    return count, hashing.digest.hexdigest()


def _xlsx_cell(value):
    value = plain_cell(value)
    return str(value) if isinstance(value, datetime.timedelta) else value


class _HashingWriter:
    """A write-only file object that hashes what passes through it (``zipfile`` writes XLSX through it)."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()
        self.position = 0

    def write(self, data):
        self.digest.update(data)
        self.position += len(data)
        return self.handle.write(data)

    def tell(self):
        return self.position

    def flush(self):
        return self.handle.flush()

    def seekable(self):
        return False
