"""
Invoice imports beside PostgreSQL's COPY: rows per second, their ratio, and the worker's peak memory.

    make bench-import
    .venv/bin/python bench/bench_import.py --rows 100000 --stock-rows 10000

Against ``DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/opsportal_bench``, created if
missing, migrated) it generates an invoice CSV of ``--rows`` rows (one line per invoice, 200 vendors,
Xero-like headers) and measures in one run on one machine:

* COPY of the same rows, pre-mapped to the invoice table's columns, into that table, committed (its foreign
  keys checked at the commit, as the import's are checked; then removed);
* the import job's bulk path (``import_job_run``) in a child process: validation, vendors resolved, the
  rows and their change log entries written; its peak RSS is the child's own high-water mark (``VmHWM``);
* django-import-export's stock per-row import of ``--stock-rows`` invoices (a plain ModelResource), for
  reference.

COPY and the import are measured in turn ``--rounds`` times (3) and their medians compared. Every round
loads the same invoice numbers, and each measurement's rows are deleted after it; before the next one the
tables are vacuumed and analyzed, so that no measurement checks its keys against the dead rows of another or
has the server's autovacuum clean up after another while it runs. The rows the run created are deleted at
the end (their change log entries stay: the trail is append-only).
"""

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsportal_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
os.environ.setdefault("EMAIL_URL", "memorymail://")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("MEDIA_ROOT", str(Path(tempfile.gettempdir()) / "opsportal-bench-media"))

TARGET_RATIO = 0.30
TARGET_MEGABYTES = 250
VENDORS = 200


def ensure_database() -> None:
    import psycopg

    url = os.environ["DATABASE_URL"]
    name = url.rsplit("/", 1)[1].split("?")[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def setup_django() -> None:
    import django

    django.setup()


# --- Data -----------------------------------------------------------------------------------------


def prepare(run: str):
    from django.core.management import call_command

    from apps.core.services.roles import roles_sync
    from apps.vendors.models import Vendor

    call_command("migrate", verbosity=0)
    roles_sync()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from apps.core import roles

    user, _ = get_user_model().objects.get_or_create(
        username="bench-importer", defaults={"email": "bench-importer@example.com", "is_staff": True}
    )
    user.groups.add(Group.objects.get(name=roles.ASSOCIATE))
    vendors = []
    for n in range(VENDORS):
        vendor, _ = Vendor.objects.get_or_create(
            code=f"BENCH-{n:04d}",
            defaults={"legal_name": f"Bench Supplier {n} Ltd", "category": "goods", "default_currency": "EUR"},
        )
        vendors.append(vendor)
    return user, vendors


def invoice_csv(rows: int, vendors, run: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    header = ["*ContactName", "*InvoiceNumber", "*InvoiceDate", "*DueDate", "*Description", "*Quantity"]
    writer.writerow([*header, "*UnitAmount", "TaxAmount", "Currency"])
    start = date(2026, 1, 1)
    for n in range(rows):
        day = start + timedelta(days=n % 300)
        writer.writerow(
            [
                vendors[n % len(vendors)].code,
                f"{run}-{n:07d}",
                day.isoformat(),
                (day + timedelta(days=30)).isoformat(),
                f"Goods batch {n % 97}",
                str(1 + n % 9),
                f"{10 + n % 500}.{n % 100:02d}",
                f"{n % 7}.00",
                "EUR",
            ]
        )
    return buffer.getvalue().encode()


def premapped_invoice_rows(data: bytes, vendors, user):
    """The CSV's rows as the invoice table's columns, every value ready (what COPY is given)."""
    from django.utils import timezone

    from apps.invoices.models import Invoice

    by_code = {vendor.code: vendor.pk for vendor in vendors}
    now = timezone.now()
    fields = [f for f in Invoice._meta.concrete_fields if not f.primary_key]
    rows = []
    reader = csv.reader(io.StringIO(data.decode()))
    next(reader)
    for vendor, number, invoice_date, due_date, _description, quantity, unit_price, tax, currency in reader:
        subtotal = (Decimal(quantity) * Decimal(unit_price)).quantize(Decimal("0.01"))
        values = {
            "vendor_id": by_code[vendor],
            "number": number,
            "invoice_date": invoice_date,
            "due_date": due_date,
            "currency": currency,
            "subtotal": subtotal,
            "tax": Decimal(tax),
            "total": subtotal + Decimal(tax),
            "created_at": now,
            "updated_at": now,
            "created_by_id": user.pk,
            "updated_by_id": user.pk,
        }
        row = []
        for f in fields:
            if f.attname in values:
                row.append(values[f.attname])
            elif f.has_default():
                row.append(f.get_default())
            else:
                row.append(None if f.null else "")
        rows.append(row)
    return [f.column for f in fields], rows


# --- The three measurements -----------------------------------------------------------------------


def measure_copy(columns, rows, run: str) -> float:
    """COPY and commit (its foreign keys are checked at commit, as the import's are); the rows are then removed."""
    from django.db import connection, transaction

    from apps.invoices.models import Invoice

    table = Invoice._meta.db_table
    started = time.perf_counter()
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    elapsed = time.perf_counter() - started
    clean_up(run)
    return elapsed


def measure_fast_path(data: bytes, user) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.core.services.imports import import_job_create

    job = import_job_create(
        actor=user, target="invoices.invoice", uploaded_file=SimpleUploadedFile("bench.csv", data), dry_run=False
    )
    child = subprocess.run(  # noqa: S603  (this script, run again as the worker)
        [sys.executable, __file__, "--child-job", str(job.pk)], capture_output=True, text=True, check=False
    )
    if child.returncode != 0:
        raise SystemExit(f"The import job failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def run_child(job_id: int) -> None:
    from apps.core.models import ImportJob
    from apps.core.services.imports import import_job_run

    started = time.perf_counter()
    import_job_run(job_id=job_id)
    elapsed = time.perf_counter() - started
    job = ImportJob.objects.get(pk=job_id)
    from peak_memory import peak_rss_mb

    print(json.dumps({"seconds": elapsed, "peak_mb": peak_rss_mb(), "status": job.status, "message": job.message}))


def measure_stock(data: bytes, rows: int, user) -> float:
    """django-import-export as it comes: a ModelResource, one row at a time, vendors by code."""
    import tablib
    from django.db import transaction
    from import_export import fields, resources
    from import_export.widgets import ForeignKeyWidget

    from apps.core import audit
    from apps.invoices.models import Invoice
    from apps.vendors.models import Vendor

    class StockInvoiceResource(resources.ModelResource):
        vendor = fields.Field(attribute="vendor", column_name="vendor", widget=ForeignKeyWidget(Vendor, "code"))

        class Meta:
            model = Invoice
            import_id_fields = ["vendor", "number"]
            fields = ["vendor", "number", "invoice_date", "due_date", "currency", "tax"]

    reader = csv.reader(io.StringIO(data.decode()))
    next(reader)
    dataset = tablib.Dataset(headers=["vendor", "number", "invoice_date", "due_date", "currency", "tax"])
    for n, (vendor, number, invoice_date, due_date, _d, _q, _p, _tax, currency) in enumerate(reader):
        if n >= rows:
            break
        dataset.append([vendor, f"S{number}", invoice_date, due_date, currency, "0"])  # total is not a column here
    started = time.perf_counter()
    with audit.audit_context(path="import", actor=user, detail="stock import"), transaction.atomic():
        result = StockInvoiceResource().import_data(dataset, dry_run=False, use_transactions=True, user=user)
        elapsed = time.perf_counter() - started
        transaction.set_rollback(True)
    if result.has_errors() or result.has_validation_errors():
        first = (result.invalid_rows[:1] or [None])[0]
        detail = first.error_dict if first else [e.error for _, errors in result.row_errors()[:1] for e in errors]
        raise SystemExit(f"The stock import reported errors: {detail}")
    return elapsed


def clean_up(run: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM invoices_invoiceline WHERE invoice_id IN "
            "(SELECT id FROM invoices_invoice WHERE number LIKE %s)",
            [f"{run}-%"],
        )
        cursor.execute("DELETE FROM invoices_invoice WHERE number LIKE %s", [f"{run}-%"])


def settle() -> None:
    """Vacuum away the rows the last measurement left deleted and analyze what it wrote, as autovacuum would later."""
    from auditlog.models import LogEntry
    from django.db import connection

    from apps.invoices.models import Invoice, InvoiceLine

    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in (InvoiceLine, Invoice):
            cursor.execute(f"VACUUM ANALYZE {quote(model._meta.db_table)}")
        cursor.execute(f"ANALYZE {quote(LogEntry._meta.db_table)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--stock-rows", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3, help="COPY and import measured in turn; medians reported")
    parser.add_argument("--child-job", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_job:
        setup_django()
        run_child(args.child_job)
        return
    ensure_database()
    setup_django()
    from django.conf import settings

    settings.IMPORT_MAX_ROWS = max(settings.IMPORT_MAX_ROWS, args.rows)
    run = f"BI{int(time.time())}"
    user, vendors = prepare(run)
    data = invoice_csv(args.rows, vendors, run)
    columns, premapped = premapped_invoice_rows(data, vendors, user)
    copies, imports = [], []
    try:
        for _ in range(args.rounds):  # COPY and the import in turn, so that both see the same machine
            settle()
            copies.append(measure_copy(columns, premapped, run))
            settle()
            imports.append(measure_fast_path(data, user))
            clean_up(run)
            if imports[-1]["status"] != "succeeded":
                raise SystemExit(f"The import job did not succeed: {imports[-1]['message']}")
        del premapped
        stock_seconds = measure_stock(data, args.stock_rows, user)
    finally:
        clean_up(run)
    copy_seconds = statistics.median(copies)
    fast = {"seconds": statistics.median(i["seconds"] for i in imports), "peak_mb": max(i["peak_mb"] for i in imports)}
    copy_rate = args.rows / copy_seconds
    fast_rate = args.rows / fast["seconds"]
    stock_rate = args.stock_rows / stock_seconds
    peak = fast["peak_mb"]
    print(
        f"Invoice import, {args.rows:,} rows ({len(data) / 1e6:.1f} MB CSV), PostgreSQL, one run: medians of "
        f"{args.rounds} rounds of COPY and import in turn, each after VACUUM ANALYZE "
        f"(COPY {', '.join(f'{c:.2f}' for c in copies)} s; "
        f"import {', '.join(f'{seconds:.2f}' for seconds in (i['seconds'] for i in imports))} s)\n"
    )
    print("| what | rows | seconds | rows/s | vs COPY | target |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    print(
        f"| COPY of pre-mapped rows into the invoice table | {args.rows:,} | {copy_seconds:.2f} | "
        f"{copy_rate:,.0f} | 1.00 | |"
    )
    verdict = "ok" if fast_rate / copy_rate >= TARGET_RATIO else "MISSED"
    print(
        f"| import job, bulk path (validated, vendors resolved, lines and audit trail written) | {args.rows:,} | "
        f"{fast['seconds']:.2f} | {fast_rate:,.0f} | {fast_rate / copy_rate:.2f} | >= {TARGET_RATIO:.2f}: {verdict} |"
    )
    print(
        f"| django-import-export stock per-row import | {args.stock_rows:,} | {stock_seconds:.2f} | "
        f"{stock_rate:,.0f} | {stock_rate / copy_rate:.3f} | reference |"
    )
    memory_verdict = "ok" if peak < TARGET_MEGABYTES else "MISSED"
    print(f"\nPeak RSS of the import worker process: {peak:.0f} MB (target < {TARGET_MEGABYTES} MB: {memory_verdict})")


if __name__ == "__main__":
    main()
