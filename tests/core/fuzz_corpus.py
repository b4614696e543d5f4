"""
Malformed import files for vendors and vendor contacts, generated deterministically from a seed.

Every file carries at least one defect that must make its whole import fail: a file that cannot be
read as a table (random bytes, NUL bytes, invalid UTF-8, a broken workbook, duplicate or too many
columns, too many rows, a row wider than the header) or a row that cannot be saved (an unknown
category, a negative payment term, an unknown vendor code...) among rows that could. Harmless noise
(other delimiters, CRLF, a BOM, padded or differently spelled headers, blank lines, Unicode names)
is mixed in so that the readers see the variety real files have.
"""

import csv
import io
import random
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

VENDOR_TARGET = "vendors.vendor"
CONTACT_TARGET = "vendors.vendorcontact"
VENDOR_HEADER = ["code", "legal_name", "tax_id", "category", "payment_terms_days", "default_currency"]
CONTACT_HEADER = ["vendor", "name", "role", "email", "phone", "is_primary"]
CATEGORIES = ["goods", "services", "logistics", "software", "facilities", "professional"]
NAMES = ["Acme", "Zoë Ltd", "Ørsted AS", "株式会社テスト", "O'Brien & Sons", "Müller GmbH", "Tab\tInside", '"Quoted"']

# The row limit the corpus is built against (the test sets IMPORT_MAX_ROWS to it).
MAX_ROWS = 40
MAX_COLUMNS = 60


@dataclass(frozen=True)
class CorpusFile:
    """One generated file: what it is called, its bytes, where it is imported and what is wrong with it."""

    name: str
    content: bytes
    target: str
    defect: str
    encoding: str = "utf-8"


# --- Rows -----------------------------------------------------------------------------------------


def _vendor_row(rng: random.Random, number: int) -> list:
    return [
        f"FZ-{number:05d}",
        f"{rng.choice(NAMES)} {number}",
        f"TX{rng.randint(1000, 99999)}",
        rng.choice(CATEGORIES),
        str(rng.choice([0, 15, 30, 45, 60])),
        rng.choice(["USD", "EUR", "GBP"]),
    ]


def _contact_row(rng: random.Random, number: int, vendor_codes: list[str]) -> list:
    return [
        rng.choice(vendor_codes),
        f"{rng.choice(NAMES)} contact {number}",
        rng.choice(["Sales", "Accounts", ""]),
        f"contact{number}@example.com",
        rng.choice(["+1 555 0100", "", "020 7946 0000"]),
        rng.choice(["true", "false", "1", "0", ""]),
    ]


# Row defects: (name, column, bad value). Each makes the row impossible to save.
VENDOR_ROW_DEFECTS = [
    ("unknown category", "category", "not-a-category"),
    ("words for payment terms", "payment_terms_days", "thirty"),
    ("negative payment terms", "payment_terms_days", "-5"),
    ("payment terms beyond any integer", "payment_terms_days", "99999999999999999999999"),
    ("currency that is no ISO code", "default_currency", "EURO"),
    ("currency in digits", "default_currency", "978"),
    ("empty code", "code", ""),
    ("code longer than the column", "code", "X" * 300),
    ("empty legal name", "legal_name", ""),
    ("legal name longer than the column", "legal_name", "N" * 1000),
]
CONTACT_ROW_DEFECTS = [
    ("unknown vendor", "vendor", "NO-SUCH-VENDOR"),
    ("empty vendor", "vendor", ""),
    ("empty name", "name", ""),
    ("email without an at sign", "email", "not-an-email"),
    ("name longer than the column", "name", "N" * 1000),
    ("phone longer than the column", "phone", "5" * 500),
]


def _noisy_header(rng: random.Random, header: list[str]) -> list[str]:
    """The same columns as people write them: padded, capitalised, spaced."""
    if rng.random() < 0.5:
        return list(header)
    spelled = []
    for column in header:
        choice = rng.random()
        if choice < 0.3:
            column = column.replace("_", " ").title()
        elif choice < 0.5:
            column = f"  {column.upper()} "
        spelled.append(column)
    return spelled


def _rows_with_defect(rng: random.Random, target: str, vendor_codes: list[str], start: int):
    header = VENDOR_HEADER if target == VENDOR_TARGET else CONTACT_HEADER
    count = rng.randint(1, 12)
    if target == VENDOR_TARGET:
        rows = [_vendor_row(rng, start + n) for n in range(count)]
        defects = VENDOR_ROW_DEFECTS
    else:
        rows = [_contact_row(rng, start + n, vendor_codes) for n in range(count)]
        defects = CONTACT_ROW_DEFECTS
    name, column, value = rng.choice(defects)
    bad = rng.randrange(count)
    rows[bad][header.index(column)] = value
    return header, rows, f"row {bad + 2}: {name}"


# --- Writing files --------------------------------------------------------------------------------


def _csv_bytes(rng: random.Random, header: list, rows: list[list], *, noisy: bool = True) -> bytes:
    delimiter = rng.choice([",", ";", "\t"]) if noisy else ","
    line_end = rng.choice(["\n", "\r\n"]) if noisy else "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end, quoting=rng.choice([0, 1]))
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if noisy and rng.random() < 0.1:
            buffer.write(line_end)  # a blank line between rows
    text = buffer.getvalue()
    prefix = "\ufeff" if noisy and rng.random() < 0.3 else ""
    return (prefix + text).encode("utf-8")


def _xlsx_bytes(header: list, rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for row in rows:
        sheet.append([_xlsx_value(value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _without_timestamps(buffer.getvalue())


def _entry(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed time (a name alone takes the current time)."""
    entry = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    entry.compress_type = zipfile.ZIP_DEFLATED
    return entry


def _without_timestamps(workbook: bytes) -> bytes:
    """The same workbook with fixed times (openpyxl stamps the time of saving): same seed, same bytes."""
    fixed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as source, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2026-01-01T00:00:00Z", content)
            target.writestr(_entry(info.filename), content)
    return fixed.getvalue()


def _xlsx_value(value):
    # Numbers as numbers, as a spreadsheet would hold them.
    if isinstance(value, str) and value.lstrip("-").isdigit() and len(value) < 15:
        return int(value)
    return value


# --- Defects of the whole file --------------------------------------------------------------------


def _file_defect(rng: random.Random, target: str, vendor_codes: list[str], start: int) -> tuple[str, bytes, str, str]:
    """(name, content, defect, encoding) of a file no table can be read from."""
    header = VENDOR_HEADER if target == VENDOR_TARGET else CONTACT_HEADER

    def good_rows(count):
        if target == VENDOR_TARGET:
            return [_vendor_row(rng, start + n) for n in range(count)]
        return [_contact_row(rng, start + n, vendor_codes) for n in range(count)]

    kind = rng.randrange(14)
    if kind == 0:
        return "noise.csv", rng.randbytes(rng.randint(1, 4000)) + b"\x00", "random bytes with a NUL", "utf-8"
    if kind == 1:
        content = _csv_bytes(rng, header, good_rows(3), noisy=False)
        cut = rng.randrange(1, len(content))
        return "nul.csv", content[:cut] + b"\x00" + content[cut:], "NUL byte inside", "utf-8"
    if kind == 2:
        content = _csv_bytes(rng, header, good_rows(3), noisy=False)
        return "latin.csv", content + b"\xff\xfe\xc3(" + b",x\n", "invalid UTF-8", "utf-8"
    if kind == 3:
        return "empty.csv", rng.choice([b"", b"   ", b"\n\n\r\n", b"\xef\xbb\xbf"]), "empty file", "utf-8"
    if kind == 4:
        doubled = [*header, rng.choice(header)]
        return "dup.csv", _csv_bytes(rng, doubled, [[*r, "x"] for r in good_rows(2)]), "duplicate column", "utf-8"
    if kind == 5:
        wide = header + [f"extra_{n}" for n in range(MAX_COLUMNS + 1 - len(header) + rng.randint(0, 5))]
        return "wide.csv", _csv_bytes(rng, wide, good_rows(1)), "too many columns", "utf-8"
    if kind == 6:
        rows = good_rows(MAX_ROWS + rng.randint(1, 10))
        return "long.csv", _csv_bytes(rng, header, rows, noisy=False), "too many rows", "utf-8"
    if kind == 7:
        rows = good_rows(rng.randint(2, 6))
        rows[rng.randrange(len(rows))].append("one value too many")
        return "ragged.csv", _csv_bytes(rng, header, rows, noisy=False), "row wider than the header", "utf-8"
    if kind == 8:
        return "noise.xlsx", rng.randbytes(rng.randint(0, 5000)), "random bytes as a workbook", "utf-8"
    if kind == 9:
        content = _xlsx_bytes(header, good_rows(3))
        return "cut.xlsx", content[: rng.randrange(1, len(content) - 1)], "truncated workbook", "utf-8"
    if kind == 10:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(_entry("hello.txt"), "not a workbook")
        return "zip.xlsx", buffer.getvalue(), "zip without a workbook", "utf-8"
    if kind == 11:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(_entry("xl/worksheets/sheet1.xml"), b"<" + b" " * (2 * 1024 * 1024) + b"/>")
        return "bomb.xlsx", buffer.getvalue(), "zip bomb", "utf-8"
    if kind == 12:
        blank_header = ["", "", ""]
        return "noheader.csv", _csv_bytes(rng, blank_header, good_rows(2), noisy=False), "no header", "utf-8"
    return "wrong.pdf", b"%PDF-1.4\n" + rng.randbytes(200), "not CSV or XLSX", "utf-8"


# --- The corpus -----------------------------------------------------------------------------------


def corpus(count: int, *, seed: int, vendor_codes: list[str]) -> Iterator[CorpusFile]:
    """``count`` malformed files, the same ones for the same seed; ``vendor_codes`` exist before import."""
    for index in range(count):
        rng = random.Random(seed * 1_000_003 + index)
        target = VENDOR_TARGET if rng.random() < 0.6 else CONTACT_TARGET
        start = index * 100
        if rng.random() < 0.45:
            name, content, defect, encoding = _file_defect(rng, target, vendor_codes, start)
        else:
            header, rows, defect = _rows_with_defect(rng, target, vendor_codes, start)
            header = _noisy_header(rng, header)
            if rng.random() < 0.35:
                name, content = "rows.xlsx", _xlsx_bytes(header, rows)
            else:
                name, content = "rows.csv", _csv_bytes(rng, header, rows)
            encoding = "utf-8"
        yield CorpusFile(name=f"{index:05d}-{name}", content=content, target=target, defect=defect, encoding=encoding)
