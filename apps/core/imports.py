"""
Import targets and file reading for import jobs.

Each app registers what can be imported, as a django-import-export resource whose rows are saved
through the app's services::

    imports.register("vendors.vendor", VendorResource, label="Vendors")

A file becomes a ``tablib.Dataset`` here, with every limit checked before rows are read: size,
rows, columns, NUL bytes, encoding (UTF-8 with or without BOM, or Windows-1252 when chosen),
comma / semicolon / tab detected, XLSX read-only with cached values (no formula evaluated),
its zip entries checked against bombs and its XML parsed through defusedxml.
"""

import csv
import io
import zipfile
from dataclasses import dataclass

import tablib
from django.conf import settings

ENCODINGS = {"utf-8": "UTF-8 (with or without BOM)", "cp1252": "Windows-1252 (Excel on Windows)"}
XLSX_MAX_UNCOMPRESSED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 100


class ImportFileError(Exception):
    """The file cannot be read as a table; the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class ImportTarget:
    key: str
    resource: type
    label: str

    @property
    def model(self):
        return self.resource._meta.model

    def permission_codenames(self) -> list[str]:
        opts = self.model._meta
        return [f"{opts.app_label}.add_{opts.model_name}", f"{opts.app_label}.change_{opts.model_name}"]

    def allowed_for(self, user) -> bool:
        return bool(user and user.is_active and user.has_perms(self.permission_codenames()))


_targets: dict[str, ImportTarget] = {}


def register(key: str, resource: type, *, label: str) -> ImportTarget:
    target = ImportTarget(key=key, resource=resource, label=label)
    _targets[key] = target
    return target


def get(key: str) -> ImportTarget | None:
    return _targets.get(key)


def targets() -> list[ImportTarget]:
    return sorted(_targets.values(), key=lambda target: target.label)


def targets_for(user) -> list[ImportTarget]:
    return [target for target in targets() if target.allowed_for(user)]


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


def _dataset(rows) -> tablib.Dataset:
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
    dataset = tablib.Dataset(headers=headers)
    width = len(headers)
    for number, row in enumerate(iterator, start=2):
        values = list(row)
        if not any(str(value).strip() for value in values):
            continue  # blank lines between rows
        if len(values) > width and any(str(value).strip() for value in values[width:]):
            raise ImportFileError(f"Row {number} has more values than there are columns.")
        values = (values + [""] * width)[:width]
        dataset.append(values)
        if len(dataset) > settings.IMPORT_MAX_ROWS:
            raise ImportFileError(f"The file has more than {settings.IMPORT_MAX_ROWS} rows.")
    if not len(dataset):
        raise ImportFileError("The file has column names but no rows.")
    return dataset


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
            else:
                text = "; ".join(getattr(exc, "messages", [])) or str(exc)
                problems.append({"row": number + 1, "column": "", "value": "", "message": text})
    for error in result.base_errors:
        problems.append({"row": "", "column": "", "value": "", "message": str(error.error)})
    return sorted(problems, key=lambda p: (p["row"] if isinstance(p["row"], int) else 0, p["column"]))
