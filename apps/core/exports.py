"""
Files people take out of the portal: CSV or XLSX, safe to open in a spreadsheet, and audited.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab,
carriage return or line feed) are written with a leading apostrophe; numbers stay numbers.
Every export is an audit event with who, what, how many rows and the SHA-256 of the file.
"""

import hashlib
import re
from collections.abc import Iterable, Sequence

import tablib
from django.http import HttpResponse

from apps.core import audit
from apps.core.permissions import require_perm

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def safe_cell(value):
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not NUMBER.match(value):
        return "'" + value
    return value


def sanitized(dataset: tablib.Dataset) -> tablib.Dataset:
    """A copy of ``dataset`` with every cell passed through :func:`safe_cell`."""
    clean = tablib.Dataset(headers=dataset.headers)
    for row in dataset:
        clean.append([safe_cell(value) for value in row])
    return clean


def build_file(headers: Sequence[str], rows: Iterable[Sequence], fmt: str) -> tuple[bytes, int]:
    if fmt not in CONTENT_TYPES:
        raise ValueError(f"Unknown export format {fmt!r}: choose csv or xlsx.")
    dataset = tablib.Dataset(headers=list(headers))
    count = 0
    for row in rows:
        dataset.append([safe_cell(value) for value in row])
        count += 1
    content = dataset.export(fmt)
    return (content.encode("utf-8") if isinstance(content, str) else content), count


def export_response(*, actor, name: str, headers, rows, fmt: str, filters: dict | None = None) -> HttpResponse:
    """A downloadable file of ``rows``, for people with ``export_records``; recorded on the audit trail."""
    require_perm(actor, "core.export_records", "You may not export records.")
    content, count = build_file(headers, rows, fmt)
    digest = hashlib.sha256(content).hexdigest()
    audit.record(
        action="records.exported",
        actor=actor,
        data={"what": name, "format": fmt, "rows": count, "filters": filters or {}, "sha256": digest},
    )
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
