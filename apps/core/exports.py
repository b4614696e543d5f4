"""
Files people take out of the portal: CSV or XLSX, safe to open in a spreadsheet, and audited.

Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab,
carriage return or line feed) are written with a leading apostrophe; numbers stay numbers.
Every export is an audit event with who, what, how many rows and the SHA-256 of the file.
"""

import hashlib
from collections.abc import Iterable, Sequence
from decimal import Decimal

import tablib
from django.http import HttpResponse

from apps.core import audit
from apps.core.permissions import require_perm

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    if isinstance(value, Decimal):
        return value  # a number, not text
    return value


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
