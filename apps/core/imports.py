"""
Import targets and file reading for import jobs.

Each app registers what can be imported, as a django-import-export resource whose rows are saved
through the app's services::

    imports.register("vendors.vendor", VendorResource, label="Vendors")

A resource may name the other headers people use for its columns (exports of accounting packages,
spreadsheets kept by hand) in ``header_aliases``; ``apply_header_aliases`` renames them to the
resource's own column names before the rows are read, ignoring case, spaces, underscores, dashes,
dots and the ``*`` that marks required columns::

    header_aliases = {"invoice_number": ("InvoiceNumber", "Bill No.", "Invoice #")}

A target may also declare a ``bulk_importer``: a callable that reads the file as a stream and
validates and writes the rows itself (see ``apps.core.services.imports.import_job_run``).

A unique constraint that refuses an import's rows because someone else saved the same record meanwhile
is named in the user's words by ``unique_conflict`` ("invoice INV-1 of vendor ACME-01").

A file becomes a ``tablib.Dataset`` here, with every limit checked before rows are read: size,
rows, columns, NUL bytes, encoding (UTF-8 with or without BOM, or Windows-1252 when chosen),
comma / semicolon / tab detected, XLSX read-only with cached values (no formula evaluated),
its zip entries checked against bombs and its XML parsed through defusedxml.
"""

import contextlib
import csv
import decimal
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field

import tablib
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

ENCODINGS = {"utf-8": "UTF-8 (with or without BOM)", "cp1252": "Windows-1252 (Excel on Windows)"}
XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 100


class ImportFileError(Exception):
    """The file cannot be read as a table; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class ImportTarget:
    """Something that can be imported: its resource (the columns), label, and an optional bulk importer."""

    key: str
    resource: type
    label: str
    bulk_importer: Callable | None = None
    import_model: type | None = None
    actions: tuple[str, ...] = ("add", "change")

    @property
    def model(self):
        """The model whose add and change permissions an import needs (the resource's unless told)."""
        return self.import_model or self.resource._meta.model

    def permission_codenames(self) -> list[str]:
        opts = self.model._meta
        return [f"{opts.app_label}.{action}_{opts.model_name}" for action in self.actions]

    def allowed_for(self, user) -> bool:
        return bool(user and user.is_active and user.has_perms(self.permission_codenames()))


_targets: dict[str, ImportTarget] = {}


def register(
    key: str,
    resource: type,
    *,
    label: str,
    bulk_importer: Callable | None = None,
    model: type | None = None,
    actions: tuple[str, ...] = ("add", "change"),
) -> ImportTarget:
    """Make ``resource`` importable as ``key``; the importing user needs ``actions`` (add, change) on the model."""
    target = ImportTarget(
        key=key, resource=resource, label=label, bulk_importer=bulk_importer, import_model=model, actions=actions
    )
    _targets[key] = target
    return target


def get(key: str) -> ImportTarget | None:
    return _targets.get(key)


def targets() -> list[ImportTarget]:
    return sorted(_targets.values(), key=lambda target: target.label)


def targets_for(user) -> list[ImportTarget]:
    return [target for target in targets() if target.allowed_for(user)]


# --- Header aliases ------------------------------------------------------------------------------

_HEADER_NOISE = re.compile(r"[\s_\-.*]+")


def header_key(name) -> str:
    """A header as compared with column names: no case, spaces, underscores, dashes, dots or ``*``."""
    return _HEADER_NOISE.sub("", str(name)).casefold()


def resource_columns(resource_class) -> list[str]:
    """The column names a resource declares (its fields' column names), in order."""
    declared = getattr(resource_class, "fields", None) or {}
    columns = [field.column_name for field in declared.values() if getattr(field, "column_name", None)]
    columns += [name for name in getattr(resource_class, "header_aliases", {}) if name not in columns]
    return columns


def canonical_headers(headers, resource_class) -> list[str]:
    """The headers renamed to the resource's column names where they match a name or an alias.

    Headers that match nothing are kept as they are. Two headers meaning the same column is an
    ``ImportFileError`` naming both.
    """
    lookup: dict[str, str] = {}
    for canonical, aliases in getattr(resource_class, "header_aliases", {}).items():
        for alias in aliases:
            lookup.setdefault(header_key(alias), canonical)
    for canonical in resource_columns(resource_class):
        lookup[header_key(canonical)] = canonical  # a column's own name always wins over an alias
    renamed: list[str] = []
    first_header_for: dict[str, str] = {}
    for header in headers:
        text = str(header).strip()
        canonical = lookup.get(header_key(text)) if header_key(text) else None
        if canonical is None:
            renamed.append(text)
            continue
        if canonical in first_header_for:
            raise ImportFileError(
                f"The columns {first_header_for[canonical]!r} and {text!r} both mean {canonical!r}: keep only one."
            )
        first_header_for[canonical] = text
        renamed.append(canonical)
    return renamed


def apply_header_aliases(dataset: tablib.Dataset, resource_class) -> tablib.Dataset:
    """Rename the dataset's headers to the resource's column names (see ``canonical_headers``)."""
    dataset.headers = canonical_headers(dataset.headers or [], resource_class)
    return dataset


# --- Reading files ------------------------------------------------------------------------------


def file_format(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".csv", ".txt")):
        return "csv"
    if lowered.endswith(".xlsx"):
        return "xlsx"
    raise ImportFileError("Upload a CSV (.csv) or Excel (.xlsx) file.")


def read_dataset(data: bytes, *, name: str, encoding: str = "utf-8") -> tablib.Dataset:
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(f"The file is larger than {settings.IMPORT_MAX_BYTES // (1024 * 1024)} MB.")
    if not data.strip():
        raise ImportFileError("The file is empty.")
    rows = _csv_rows(data, encoding) if file_format(name) == "csv" else _xlsx_rows(data)
    return _dataset(rows)


def _csv_rows(data: bytes, encoding: str):
    if b"\x00" in data:
        raise ImportFileError("The file contains NUL bytes: it is not a text CSV file.")
    if encoding not in ENCODINGS:
        raise ImportFileError(f"Unknown encoding {encoding!r}: choose {' or '.join(ENCODINGS)}.")
    try:
        text = data.decode("utf-8-sig" if encoding == "utf-8" else encoding)
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"The file is not valid {ENCODINGS[encoding]} (byte {exc.start + 1}). If it was saved by Excel on "
            "Windows, choose Windows-1252."
        ) from exc
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ImportFileError("The file is not a valid .xlsx workbook.") from exc
    total = sum(info.file_size for info in archive.infolist())
    packed = max(1, sum(info.compress_size for info in archive.infolist()))
    if total > XLSX_MAX_UNCOMPRESSED or total / packed > XLSX_MAX_RATIO:
        raise ImportFileError("The workbook expands to far more than its size: refused as a possible zip bomb.")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl and defusedxml raise many kinds
        raise ImportFileError(f"The workbook cannot be read: {exc.__class__.__name__}.") from exc
    sheet = workbook.worksheets[0]
    return (["" if value is None else value for value in row] for row in sheet.iter_rows(values_only=True))


def _table(rows) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """The header and a stream of (row number in the file, values), every limit checked as rows are read."""
    iterator = iter(rows)
    header = next(iterator, None)
    if not header or not any(str(cell).strip() for cell in header):
        raise ImportFileError("The first row must hold the column names.")
    headers = [str(cell).strip() for cell in header]
    while headers and not headers[-1]:
        headers.pop()
    if len(headers) > settings.IMPORT_MAX_COLUMNS:
        raise ImportFileError(f"The file has {len(headers)} columns; at most {settings.IMPORT_MAX_COLUMNS} are read.")
    duplicates = sorted({h for h in headers if headers.count(h) > 1})
    if duplicates:
        raise ImportFileError(f"Column names must be different: {', '.join(duplicates)} appear more than once.")

    def body():
        width = len(headers)
        count = 0
        for number, row in enumerate(iterator, start=2):
            values = list(row)
            if not any(str(value).strip() for value in values):
                continue  # blank lines between rows
            if len(values) > width and any(str(value).strip() for value in values[width:]):
                raise ImportFileError(f"Row {number} has more values than there are columns.")
            count += 1
            if count > settings.IMPORT_MAX_ROWS:
                raise ImportFileError(f"The file has more than {settings.IMPORT_MAX_ROWS} rows.")
            yield number, (values + [""] * width)[:width]

    return headers, body()


def _dataset(rows) -> tablib.Dataset:
    headers, body = _table(rows)
    dataset = tablib.Dataset(headers=headers)
    for _number, values in body:
        dataset.append(values)
    if not len(dataset):
        raise ImportFileError("The file has column names but no rows.")
    return dataset


# --- Reading files as a stream (bulk importers) ---------------------------------------------------


@dataclass
class TableStream:
    """A file's (canonical) column names and its rows, read one at a time: ``(row number, values)``."""

    headers: list[str]
    rows: Iterator[tuple[int, list]]
    estimated_rows: int


def stream_table(handle, *, name: str, encoding: str = "utf-8", size: int | None = None) -> TableStream:
    """Open an uploaded file (a binary file object) as a stream of rows, with the same limits as ``read_dataset``.

    A CSV file is decoded and parsed as it is read, so memory does not grow with the file. An XLSX
    workbook is read in openpyxl's read-only mode (its bytes, at most ``IMPORT_MAX_BYTES``, are held).
    """
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(f"The file is larger than {settings.IMPORT_MAX_BYTES // (1024 * 1024)} MB.")
    kind = file_format(name)
    raw = getattr(handle, "file", handle)
    head = raw.read(64 * 1024)
    if not head.strip() and not raw.read(1):
        raise ImportFileError("The file is empty.")
    raw.seek(0)
    if kind == "csv":
        estimated = head.count(b"\n") if len(head) < 64 * 1024 else _count_lines(raw)
        rows = _csv_stream(raw, head, encoding)
    else:
        data = raw.read(settings.IMPORT_MAX_BYTES + 1)
        if len(data) > settings.IMPORT_MAX_BYTES:
            raise ImportFileError(f"The file is larger than {settings.IMPORT_MAX_BYTES // (1024 * 1024)} MB.")
        rows, estimated = _xlsx_rows(data), 0
    headers, body = _table(rows)
    return TableStream(headers=headers, rows=body, estimated_rows=max(0, estimated - 1))


def _count_lines(raw) -> int:
    lines = 0
    while chunk := raw.read(1024 * 1024):
        lines += chunk.count(b"\n")
    raw.seek(0)
    return lines


def _csv_stream(raw, head: bytes, encoding: str):
    if encoding not in ENCODINGS:
        raise ImportFileError(f"Unknown encoding {encoding!r}: choose {' or '.join(ENCODINGS)}.")
    sample = head[:8192].decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="ignore")
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        delimiter = ","
    text = io.TextIOWrapper(raw, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="")

    def lines():
        number = 0
        try:
            for number, line in enumerate(text, start=1):  # noqa: B007  (the number is used after a decode error)
                if "\x00" in line:
                    raise ImportFileError("The file contains NUL bytes: it is not a text CSV file.")
                yield line
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"The file is not valid {ENCODINGS[encoding]} (near line {number + 1}). If it was saved by Excel on "
                "Windows, choose Windows-1252."
            ) from exc
        finally:
            with contextlib.suppress(ValueError):  # the file may be closed already when the reader is dropped
                text.detach()

    return csv.reader(lines(), delimiter=delimiter)


@dataclass
class BulkImportResult:
    """What a bulk importer found: counts, a few examples of each kind, and every problem (row, column, value)."""

    unit: str = "rows"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0
    problems: list[dict] = dataclass_field(default_factory=list)
    preview: dict = dataclass_field(default_factory=lambda: {"new": [], "updated": [], "unchanged": []})

    PREVIEW_ROWS = 5

    def count(self, kind: str, text) -> None:
        """Count one record as ``new``, ``updated`` or ``unchanged`` and keep the first few as a preview.

        ``text`` may be the record itself: it is turned into text only for the preview.
        """
        setattr(self, kind, getattr(self, kind) + 1)
        if len(self.preview[kind]) < self.PREVIEW_ROWS:
            self.preview[kind].append(str(text))

    def problem(self, row, column: str, value, message: str) -> None:
        value = "" if value is None else value
        self.problems.append({"row": row, "column": column, "value": value, "message": message})

    @property
    def summary(self) -> dict:
        rows_with_errors = len({p["row"] for p in self.problems})
        return {"new": self.new, "updated": self.updated, "unchanged": self.unchanged, "errors": rows_with_errors}


def row_errors(result, dataset) -> list[dict]:
    """Every problem of an import result as (row, column, value, message), rows numbered as in the file."""
    headers = list(dataset.headers)

    def value_at(number, column):
        if column in headers and 0 < number <= len(dataset):
            return dataset[number - 1][headers.index(column)]
        return ""

    problems = []
    for invalid in result.invalid_rows:
        for field, messages in invalid.error_dict.items():
            column = "" if field == "__all__" else field
            value = value_at(invalid.number, column)
            problems.extend(
                {"row": invalid.number + 1, "column": column, "value": value, "message": m} for m in messages
            )
    for number, errors in result.row_errors():
        for error in errors:
            exc = error.error
            messages = getattr(exc, "message_dict", None)
            if messages:
                for field, field_messages in messages.items():
                    column = "" if field == "__all__" else field
                    problems.extend(
                        {"row": number + 1, "column": column, "value": value_at(number, column), "message": m}
                        for m in field_messages
                    )
            elif isinstance(exc, decimal.InvalidOperation):
                # A number column's widget reads the value as a Decimal; its error names only the signal.
                text = "A value that must be a number is not one: check the number columns of this row."
                problems.append({"row": number + 1, "column": "", "value": "", "message": text})
            elif conflict := unique_conflict(exc):
                text = f"While this import ran, {conflict} was saved by someone else: import the file again."
                problems.append({"row": number + 1, "column": "", "value": "", "message": text})
            else:
                text = "; ".join(getattr(exc, "messages", [])) or str(exc)
                problems.append({"row": number + 1, "column": "", "value": "", "message": text})
    for error in result.base_errors:
        problems.append({"row": "", "column": "", "value": "", "message": str(error.error)})
    return sorted(problems, key=lambda p: (p["row"] if isinstance(p["row"], int) else 0, p["column"]))


# --- Records saved by someone else while an import ran --------------------------------------------

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
_KEY_DETAIL = re.compile(r"Key \((?P<columns>.+)\)=\((?P<values>.*)\) already exists\.", re.DOTALL)


def database_diagnostics(error: BaseException):
    """PostgreSQL's diagnostics of a database error: psycopg's own, or the one Django's error wraps."""
    for candidate in (error, error.__cause__):
        diag = getattr(candidate, "diag", None)
        if diag is not None:
            return diag
    return None


def unique_conflict(error: BaseException) -> str | None:
    """The record a unique constraint or unique field refused, in the user's words; ``None`` for other errors.

    The model is the one of the refused table, the key's fields those whose columns PostgreSQL's detail
    names (``Key (vendor_id, number)=(12, INV-1) already exists.``): ``invoice INV-1 of vendor ACME-01``.
    A related record is named by its unique code (else its text), read again, so after the rollback. A key
    that matches no fields (an expression) is named by the model and the detail as PostgreSQL gives it.
    """
    diag = database_diagnostics(error)
    if diag is None or diag.sqlstate != UNIQUE_VIOLATION:
        return None
    model = _model_of_table(diag.table_name or "")
    detail = (diag.message_detail or diag.message_primary or "").strip()
    noun = model._meta.verbose_name if model is not None else "record"
    key = _KEY_DETAIL.fullmatch(detail)
    values = None
    if model is not None and key is not None:
        by_column = {field.column: field for field in model._meta.concrete_fields}
        fields = [by_column.get(column.strip().strip('"')) for column in key["columns"].split(", ")]
        if all(fields):
            values = _key_values(key["values"], fields)
    if values is None:
        return f"another {noun} with the same key ({detail})"
    own = [(field, text) for field, text in values if not field.is_relation]
    if len(own) == 1:
        named = f"{noun} {own[0][1]}"
    elif own:
        named = f"{noun} with " + " and ".join(f"{field.verbose_name} {text}" for field, text in own)
    else:
        named = str(noun)
    return named + "".join(f" of {field.verbose_name} {text}" for field, text in values if field.is_relation)


def _model_of_table(table: str):
    return next((m for m in apps.get_models() if m._meta.db_table == table and not m._meta.proxy), None)


def _key_values(text: str, fields: list) -> list[tuple] | None:
    """Each field's value in the user's words, from PostgreSQL's ``12, INV-1`` (values joined by ", ")."""
    parts = text.split(", ")
    textual = [i for i, field in enumerate(fields) if isinstance(field, models.CharField | models.TextField)]
    if len(parts) != len(fields):
        if len(textual) != 1 or len(parts) < len(fields):
            return None  # more than one value could hold ", ": which part is whose is unknown
        at, extra = textual[0], len(parts) - len(fields)
        parts = [*parts[:at], ", ".join(parts[at : at + extra + 1]), *parts[at + extra + 1 :]]
    return [(field, _value_text(field, raw)) for field, raw in zip(fields, parts, strict=True)]


def _value_text(field, raw: str) -> str:
    if field.is_relation:
        target = field.target_field
        related = field.related_model._default_manager.filter(**{target.attname: raw}).first()
        if related is None:
            return raw
        code = next(
            (
                f
                for f in related._meta.concrete_fields
                if f.unique and not f.primary_key and isinstance(f, models.CharField)
            ),
            None,
        )
        return str(getattr(related, code.attname)) if code is not None else str(related)
    if field.choices:
        try:
            return str(dict(field.flatchoices).get(field.to_python(raw), raw))
        except ValidationError:  # a value the field cannot read is shown as PostgreSQL wrote it
            return raw
    return raw
