"""
Streamed CSV export against PostgreSQL's own COPY ... TO STDOUT, on the same invoices in the same run.

    python bench/bench_export.py [--rows 1000000] [--rounds 3] [--database-url postgres://...]

Sets Django up against DATABASE_URL (default postgres://postgres@127.0.0.1:5432/opsportal_bench, created
if missing), migrates, and seeds invoices with COPY until there are at least ``--rows``. Each measurement
runs in a child process of its own, so its peak RSS is its own: COPY of the exported columns to a sink,
then the portal's streamed export of the same columns (the invoice list's ``?format=csv``:
``apps.core.exports.queryset_csv_stream``: lines the database writes, formula-safe, read with COPY,
SHA-256 while streaming) consumed to the same sink. The two are measured in turn ``--rounds`` times (3)
and their medians compared.
The goal: the export at >= 40% of COPY's rows per second, with peak memory under 150 MB.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/opsportal_bench"
GOAL_RATIO = 0.40
GOAL_RSS_MB = 150
SEED_CHUNK = 50_000


def setup_django(url: str):
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
    import django

    django.setup()


def ensure_database(url: str):
    """Create the benchmark database if it does not exist yet."""
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


def seed(rows: int):
    """Invoices by COPY until there are ``rows`` (one vendor; a few text cells start with a formula sign)."""
    from datetime import date, timedelta

    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from apps.invoices.models import Invoice
    from apps.vendors.models import Vendor

    call_command("migrate", verbosity=0)
    have = Invoice.objects.count()
    if have >= rows:
        return have
    vendor, _ = Vendor.objects.get_or_create(
        code="BENCH-EXPORT", defaults={"legal_name": "Export Bench Ltd", "category": "goods"}
    )
    now = timezone.now().isoformat()
    start = date(2023, 1, 1)
    statuses = ["paid", "approved", "submitted", "scheduled"]
    columns = [
        "created_at", "updated_at", "vendor_id", "number", "invoice_date", "due_date", "currency", "subtotal",
        "tax", "total", "paid_amount", "credited_amount", "status", "match_result", "exception_reasons",
        "match_override_reason", "duplicate_override_reason", "resume_status", "hold_reason", "dispute_reason",
        "was_disputed", "cancel_reason", "notes",
    ]  # fmt: skip
    copy_sql = f"COPY invoices_invoice ({', '.join(columns)}) FROM STDIN"
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for i in range(have, rows):
            day = start + timedelta(days=i % 1000)
            amount = f"{(i % 9000) + 100}.{i % 100:02d}"
            note = "=SUM(A1:A9)" if i % 1000 == 0 else f"Delivery {i}"
            copy.write_row(
                [now, now, vendor.pk, f"BX-{i:08d}", day, day + timedelta(days=30), "USD", amount, "0", amount,
                 "0", "0", statuses[i % 4], "matched", "", "", "", "", "", "", False, "", note]
            )  # fmt: skip
    print(f"seeded {rows - have:,} invoices in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return rows


class Sink:
    """Counts the bytes written to it, like /dev/null that remembers how much."""

    def __init__(self):
        self.bytes = 0

    def write(self, data):
        self.bytes += len(data)


def export_columns():
    """The columns of the invoice list's ``?format=csv``: what the portal's export really reads."""
    from apps.invoices.api.views import InvoiceViewSet

    return InvoiceViewSet.export_columns


def measure_copy(rows: int) -> dict:
    from django.db import connection

    sink = Sink()
    names = ", ".join(column.lookup for column in export_columns())
    select = f"SELECT {names} FROM invoices_invoice ORDER BY id LIMIT {int(rows)}"  # noqa: S608
    query = f"COPY ({select}) TO STDOUT WITH CSV HEADER"  # the columns are constants, the limit an int
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.cursor.copy(query) as copy:
        for block in copy:
            sink.write(block)
    return {"seconds": time.perf_counter() - started, "rows": rows, "bytes": sink.bytes}


def measure_stream(rows: int) -> dict:
    from django.db import transaction

    from apps.core import exports
    from apps.invoices.models import Invoice

    sink = Sink()
    columns = export_columns()
    last_id = Invoice.objects.order_by("id").values_list("id", flat=True)[rows - 1]
    queryset = Invoice.objects.filter(id__lte=last_id).order_by("id")
    started = time.perf_counter()
    with transaction.atomic():  # a server-side cursor, as under a request
        stream = exports.queryset_csv_stream(queryset, columns)
        for chunk in stream:
            sink.write(chunk)
    return {"seconds": time.perf_counter() - started, "rows": stream.row_count, "bytes": sink.bytes}


def child(kind: str, rows: int, url: str):
    setup_django(url)
    result = measure_copy(rows) if kind == "copy" else measure_stream(rows)
    from peak_memory import peak_rss_mb

    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))


def run_child(kind: str, rows: int, url: str) -> dict:
    answer = subprocess.run(  # noqa: S603 - this script, with arguments it was given
        [sys.executable, __file__, "--child", kind, "--rows", str(rows), "--database-url", url],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(answer.stdout.strip().splitlines()[-1])


def median_run(results: list[dict]) -> dict:
    """The run with the median time, its peak memory the highest of all the runs."""
    ordered = sorted(results, key=lambda result: result["seconds"])
    return {**ordered[len(ordered) // 2], "peak_rss_mb": max(result["peak_rss_mb"] for result in results)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--rounds", type=int, default=3, help="COPY and the export measured in turn; medians")
    parser.add_argument("--child", choices=["copy", "stream"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.rows, args.database_url)
    ensure_database(args.database_url)
    setup_django(args.database_url)
    seed(args.rows)
    copies, streams = [], []
    for _ in range(args.rounds):  # in turn, so that both see the same machine; medians compared
        copies.append(run_child("copy", args.rows, args.database_url))
        streams.append(run_child("stream", args.rows, args.database_url))
    copy, stream = median_run(copies), median_run(streams)
    copy_times = ", ".join(f"{seconds:.2f}" for seconds in (result["seconds"] for result in copies))
    export_times = ", ".join(f"{seconds:.2f}" for seconds in (result["seconds"] for result in streams))
    print(f"{args.rounds} rounds in turn, seconds: COPY {copy_times}; export {export_times} (medians below)")
    ratio = (stream["rows"] / stream["seconds"]) / (copy["rows"] / copy["seconds"])
    print(f"Export of {args.rows:,} invoices ({len(export_columns())} columns, the invoice list's ?format=csv)")
    print(f"{'':<34}{'rows/s':>12}{'seconds':>10}{'MB out':>9}{'peak RSS MB':>13}")
    for label, result in (("COPY ... TO STDOUT", copy), ("streamed CSV export (portal)", stream)):
        print(
            f"{label:<34}{result['rows'] / result['seconds']:>12,.0f}{result['seconds']:>10.2f}"
            f"{result['bytes'] / 1e6:>9.1f}{result['peak_rss_mb']:>13.0f}"
        )
    fast_enough, small_enough = ratio >= GOAL_RATIO, stream["peak_rss_mb"] < GOAL_RSS_MB
    print(f"ratio export/COPY: {ratio:.0%} (goal >= {GOAL_RATIO:.0%}: {'met' if fast_enough else 'NOT met'}); "
          f"peak RSS goal < {GOAL_RSS_MB} MB: {'met' if small_enough else 'NOT met'}")  # fmt: skip
    return 0 if fast_enough and small_enough else 1


if __name__ == "__main__":
    sys.exit(main())
