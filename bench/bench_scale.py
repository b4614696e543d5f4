"""
The portal at scale: admin lists, aging reports, API pages, the dashboard and the scheduled tasks over
a million invoices, refund cases, stock ledger entries and audit events, each beside its floor.

    make bench                                   # 1,000,000 rows per big table
    .venv/bin/python bench/bench_scale.py --rows 20000 --runs 5

It migrates the benchmark database (``DATABASE_URL``, default
``postgres://postgres@127.0.0.1:5432/opsportal_bench``), seeds it once with COPY (bench/seed_scale.py; a
re-run reuses the data), then prints a Markdown table: the median of ``--runs`` runs, the floor measured
in the same run, their ratio, queries per request at page sizes 20 and 100 (every query of the request,
session and permissions included), and the verdict against the targets. Floors: a bare changelist of
the same model (no columns but the id, an estimated count; timed in turn with the real list), the same
GROUP BY written directly in SQL, and for tasks the targets themselves (one minute, 300 MB).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/opsportal_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")
os.environ.setdefault("EMAIL_URL", "memorymail://")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.contrib import admin  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from apps.core.paginator import EstimatedCountPaginator  # noqa: E402

ADMIN_QUERY_LIMIT = 8  # every query of a changelist request, the signed-in page's own included
ADMIN_RATIO_LIMIT = 2.0
AGING_RATIO_LIMIT = 2.0
API_PAGE_MS = 30.0
DASHBOARD_MS = 300.0
TASK_SECONDS = 60.0
TASK_MEGABYTES = 300.0


# --- The floors: bare changelists on their own admin site ---------------------------------------


class BareChangeListAdmin(admin.ModelAdmin):
    """The least a changelist can do: the ids of one page and an estimated count."""

    list_display = ["id"]
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = None


class FloorSite(admin.AdminSite):
    """The floors' own admin site, in the real site's frame: its pages carry the real navigation (every model
    the person may open, as on any admin page), so a floor differs from the real list only by the list."""

    def get_app_list(self, request, app_label=None):
        return admin.site.get_app_list(request, app_label)


# Named "admin" like the real site and mounted after it: links in its pages reverse to the real admin.
floor_site = FloorSite(name="admin")


def _floor_urls():
    from opsportal import urls as project_urls

    class BenchURLs:
        urlpatterns = [*project_urls.urlpatterns, path("bench-floor/", floor_site.urls)]

    return BenchURLs


# --- Measuring ----------------------------------------------------------------------------------


def timed(fn, runs: int) -> float:
    """Median milliseconds of ``runs`` calls after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def timed_side_by_side(fn, floor_fn, runs: int) -> tuple[float, float]:
    """Median milliseconds of ``fn`` and of ``floor_fn``, called in turn (after a warm-up call each) so that
    both see the same load on a shared machine."""
    fn()
    floor_fn()
    samples, floor_samples = [], []
    for _ in range(runs):
        for f, into in ((fn, samples), (floor_fn, floor_samples)):
            started = time.perf_counter()
            f()
            into.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), statistics.median(floor_samples)


def captured(fn) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return [q["sql"] for q in ctx.captured_queries]


def full_counts(sqls: list[str], table: str) -> list[str]:
    """COUNT(*) over the big table without a LIMIT under it: a full count."""
    return [s for s in sqls if "COUNT(" in s.upper() and f'"{table}"' in s and "LIMIT" not in s.upper()]


def distincts(sqls: list[str], table: str) -> list[str]:
    return [s for s in sqls if "DISTINCT" in s.upper() and f'FROM "{table}"' in s]


def seq_scans(sql: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return f"Seq Scan on {table}" in plan


class Results:
    def __init__(self):
        self.rows: list[dict] = []

    def add(self, target, median, floor=None, queries="", ok=True, note=""):
        ratio = f"{median / floor:.2f}" if floor else "—"
        row = {
            "target": target,
            "median": f"{median:,.1f}",
            "floor": f"{floor:,.1f}" if floor else "—",
            "ratio": ratio,
            "queries": queries,
            "ok": "yes" if ok else "**NO**",
            "note": note,
        }
        self.rows.append(row)
        print(f"  {target}: {row['median']} ms (floor {row['floor']}, ratio {ratio}) {queries} {row['ok']} {note}")

    def markdown(self, header: str) -> str:
        lines = [
            header,
            "",
            "| target | median (ms) | floor (ms) | ratio | queries (20 / 100 per page) | meets target | notes |",
            "|---|---:|---:|---:|---|---|---|",
        ]
        keys = ("target", "median", "floor", "ratio", "queries", "ok", "note")
        lines += ["| " + " | ".join(row[key] for key in keys) + " |" for row in self.rows]
        return "\n".join(lines)


# --- Admin changelists --------------------------------------------------------------------------


def bench_changelists(results: Results, users: dict, runs: int) -> None:
    from auditlog.models import LogEntry

    from apps.core.models import AuditEvent
    from apps.inventory.models import Item, LedgerEntry
    from apps.invoices.models import Invoice
    from apps.refunds.models import Order, RefundCase

    invoice_number = Invoice.objects.order_by("-pk").values_list("number", flat=True)[5_000 // 2 :][:1].get()
    order_reference = Order.objects.order_by("-pk").values_list("reference", flat=True)[1_234:][:1].get()
    sku = Item.objects.order_by("-pk").values_list("sku", flat=True)[17:][:1].get()
    lists = [
        ("invoices", Invoice, "associate", ""),
        ("refund cases", RefundCase, "associate", ""),
        ("stock ledger", LedgerEntry, "associate", ""),
        ("audit events", AuditEvent, "auditor", ""),
        ("record changes", LogEntry, "auditor", ""),
        ("invoices: search by number", Invoice, "associate", invoice_number),
        ("refund cases: search by order reference", RefundCase, "associate", order_reference),
        ("stock ledger: search by SKU", LedgerEntry, "associate", sku),
    ]
    for model in {model for _, model, _, _ in lists}:
        if not floor_site.is_registered(model):
            floor_site.register(model, BareChangeListAdmin)
    with override_settings(ROOT_URLCONF=_floor_urls()):
        for label, model, role, term in lists:
            client = Client()
            client.force_login(users[role])
            opts = model._meta
            url = f"/admin/{opts.app_label}/{opts.model_name}/" + (f"?q={term}" if term else "")
            floor_url = f"/bench-floor/{opts.app_label}/{opts.model_name}/"
            model_admin = admin.site.get_model_admin(model)

            def get(u=url, c=client):
                response = c.get(u)
                assert response.status_code == 200, (u, response.status_code)

            counts, problems = [], []
            get()  # warm: content types cached as in a running server
            for per_page in (20, 100):
                saved = model_admin.list_per_page
                model_admin.list_per_page = per_page
                try:
                    sqls = captured(get)  # every query of the request: session, user, permissions, header, list
                finally:
                    model_admin.list_per_page = saved
                counts.append(len(sqls))
                if full_counts(sqls, opts.db_table):
                    problems.append("full COUNT")
                if distincts(sqls, opts.db_table):
                    problems.append("DISTINCT")
            if term:
                main = [s for s in sqls if "UPPER(" in s and f'FROM "{opts.db_table}"' in s and "LIMIT" in s]
                if not main or any(seq_scans(s, opts.db_table) for s in main):
                    problems.append(f"seq scan on {opts.db_table}")
            median, floor = timed_side_by_side(get, lambda c=client, u=floor_url: c.get(u), runs)
            ok = (
                not problems
                and counts[0] == counts[1]
                and max(counts) <= ADMIN_QUERY_LIMIT
                and median <= ADMIN_RATIO_LIMIT * floor
            )
            note = ", ".join(problems) or ("answered from an index" if term else "")
            results.add(f"admin: {label}", median, floor, f"{counts[0]} / {counts[1]}", ok, note)


# --- Aging --------------------------------------------------------------------------------------

AP_AGING_SQL = """
SELECT o.vendor_id, v.code, v.legal_name, o.currency,
       SUM(CASE WHEN o.due_date >= %(as_of)s THEN o.open ELSE 0 END),
       SUM(CASE WHEN o.due_date < %(as_of)s AND o.due_date >= %(d30)s THEN o.open ELSE 0 END),
       SUM(CASE WHEN o.due_date < %(d30)s AND o.due_date >= %(d60)s THEN o.open ELSE 0 END),
       SUM(CASE WHEN o.due_date < %(d60)s AND o.due_date >= %(d90)s THEN o.open ELSE 0 END),
       SUM(CASE WHEN o.due_date < %(d90)s THEN o.open ELSE 0 END),
       SUM(o.open)
FROM (
    SELECT i.vendor_id, i.currency, i.due_date,
           i.total - COALESCE(p.amount, 0) - COALESCE(c.amount, 0) AS open
    FROM invoices_invoice i
    LEFT JOIN (SELECT invoice_id, SUM(amount) AS amount FROM invoices_payment
               WHERE payment_date <= %(as_of)s GROUP BY invoice_id) p ON p.invoice_id = i.id
    LEFT JOIN (SELECT invoice_id, SUM(amount) AS amount FROM invoices_creditmemo
               WHERE memo_date <= %(as_of)s GROUP BY invoice_id) c ON c.invoice_id = i.id
    WHERE i.invoice_date <= %(as_of)s AND i.status NOT IN ('draft', 'cancelled')
) o JOIN vendors_vendor v ON v.id = o.vendor_id
WHERE o.open <> 0
GROUP BY o.vendor_id, v.code, v.legal_name, o.currency
ORDER BY v.code, o.currency
"""

CASE_AGING_SQL = """
SELECT type, currency, COUNT(id),
       SUM(CASE WHEN due_date >= %(as_of)s THEN amount ELSE 0 END),
       SUM(CASE WHEN due_date <= %(d1)s AND due_date >= %(d30)s THEN amount ELSE 0 END),
       SUM(CASE WHEN due_date <= %(d31)s AND due_date >= %(d60)s THEN amount ELSE 0 END),
       SUM(CASE WHEN due_date <= %(d61)s AND due_date >= %(d90)s THEN amount ELSE 0 END),
       SUM(CASE WHEN due_date < %(d90)s THEN amount ELSE 0 END),
       SUM(amount)
FROM refunds_refundcase
WHERE (requested_at AT TIME ZONE %(tz)s)::date <= %(as_of)s AND (resolved_on IS NULL OR resolved_on > %(as_of)s)
GROUP BY type, currency ORDER BY type, currency
"""


def _raw(sql: str, params: dict):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def bench_aging(results: Results, runs: int) -> None:
    from django.utils import timezone

    from apps.invoices.selectors import ap_aging
    from apps.refunds.selectors import case_aging

    as_of = timezone.localdate()
    day = timedelta(days=1)
    for label, fn, sql, params in (
        (
            "AP aging",
            lambda: ap_aging(as_of=as_of),
            AP_AGING_SQL,
            {"as_of": as_of, "d30": as_of - 30 * day, "d60": as_of - 60 * day, "d90": as_of - 90 * day},
        ),
        (
            "refund aging",
            lambda: case_aging(as_of=as_of),
            CASE_AGING_SQL,
            {
                "as_of": as_of,
                "tz": timezone.get_current_timezone_name(),
                **{f"d{n}": as_of - n * day for n in (1, 30, 31, 60, 61, 90)},
            },
        ),
    ):
        queries = len(captured(fn))
        median = timed(fn, runs)
        floor = timed(lambda s=sql, p=params: _raw(s, p), runs)
        results.add(label, median, floor, f"{queries}", queries == 1 and median <= AGING_RATIO_LIMIT * floor)


# --- API lists ----------------------------------------------------------------------------------


def bench_api(results: Results, users: dict, runs: int) -> None:
    client = Client()
    endpoints = [
        ("invoices", "/api/v1/invoices/", "associate"),
        ("refund cases", "/api/v1/refunds/", "associate"),
        ("orders", "/api/v1/orders/", "associate"),
        ("stock ledger", "/api/v1/stock-ledger/", "associate"),
        ("audit events", "/api/v1/audit-events/", "auditor"),
    ]
    from django.urls import Resolver404, resolve

    for label, url, role in endpoints:
        try:
            resolve(url)
        except Resolver404:
            continue
        client.force_login(users[role])

        def page(u):
            response = client.get(u)
            assert response.status_code == 200, (u, response.status_code, response.content[:300])
            return response.json()

        page(f"{url}?page_size=20")  # warm: permissions cached as in a running server
        counts = [len(captured(lambda u=f"{url}?page_size={size}": page(u))) for size in (20, 100)]
        second = page(f"{url}?page_size=100").get("next")
        cursor = "next" in page(f"{url}?page_size=20") and "cursor=" in (second or "")
        median = timed(lambda u=second or f"{url}?page_size=100": page(u), runs)
        ok = cursor and counts[0] == counts[1] and median <= API_PAGE_MS
        note = "cursor pages" if cursor else "not cursor-paginated"
        results.add(f"API: {label}, 100-row page", median, None, f"{counts[0]} / {counts[1]}", ok, note)


# --- Dashboard ----------------------------------------------------------------------------------


def bench_dashboard(results: Results, users: dict, runs: int) -> None:
    if not (ROOT / "apps" / "core" / "dashboard.py").exists():
        print("  dashboard: not built yet, left out")
        return
    client = Client()
    client.force_login(users["associate"])

    def get():
        response = client.get("/admin/")
        assert response.status_code == 200

    first = len(captured(get))  # the panels' figures are computed and cached here if the cache lacks them
    queries = len(captured(get))
    note = f"{first} queries on the first request, the figures not yet cached" if first != queries else ""
    median = timed(get, runs)
    results.add("dashboard (GET /admin/ as associate)", median, None, f"{queries}", median <= DASHBOARD_MS, note)


# --- Scheduled tasks, each in its own process ---------------------------------------------------

TASKS = ["reminder digest", "AP aging report run", "refund aging report run", "reorder alerts", "count scheduling"]


def run_task(name: str) -> dict:
    """Run one scheduled task's work in this process and roll it back; time and peak memory of the process."""
    from django.utils import timezone

    today = timezone.localdate()
    started = time.perf_counter()
    with transaction.atomic():
        if name == "reminder digest":
            from apps.core.services.reminders import reminders_send_digests

            detail = reminders_send_digests(today=today)
        elif name == "AP aging report run":
            from apps.invoices.models import AgingReportRun
            from apps.invoices.reports import aging_run_generate

            run = AgingReportRun.objects.create(as_of=today)
            run = aging_run_generate(run_id=run.pk)
            detail = {"status": run.status, "rows": run.row_count}
        elif name == "refund aging report run":
            from apps.refunds.models import ReportRun
            from apps.refunds.services.reports import report_run_generate

            run = ReportRun.objects.create(kind=ReportRun.Kind.AGING, as_of=today)
            run = report_run_generate(run_id=run.pk)
            detail = {"status": run.status}
        elif name == "reorder alerts":
            from apps.inventory.services import reorder_alerts_refresh

            detail = reorder_alerts_refresh()
        elif name == "count scheduling":
            from apps.inventory.services import cycle_counts_schedule_due

            detail = {"counts": len(cycle_counts_schedule_due(today=today))}
        else:
            raise ValueError(name)
        transaction.set_rollback(True)
    seconds = time.perf_counter() - started
    from peak_memory import peak_rss_mb  # this process's own peak, not its parent's (see peak_memory)

    return {"seconds": seconds, "peak_mb": peak_rss_mb(), "detail": detail}


def bench_tasks(results: Results) -> None:
    for name in TASKS:
        command = [sys.executable, __file__, "--task", name]
        child = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())  # noqa: S603
        if child.returncode != 0:
            results.add(f"task: {name}", 0, None, "", False, f"failed: {child.stderr.strip().splitlines()[-1:]}")
            continue
        outcome = json.loads(child.stdout.strip().splitlines()[-1])
        ok = outcome["seconds"] <= TASK_SECONDS and outcome["peak_mb"] <= TASK_MEGABYTES
        detail = re.sub(r"[{}'\"]", "", json.dumps(outcome["detail"], default=str))
        results.add(
            f"task: {name}",
            outcome["seconds"] * 1000,
            None,
            "",
            ok,
            f"peak {outcome['peak_mb']:.0f} MB; {detail}",
        )


# --- Main ---------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows per big table (default 1,000,000)")
    parser.add_argument("--runs", type=int, default=15, help="runs per measurement; the median is reported")
    parser.add_argument(
        "--only",
        choices=["admin", "aging", "api", "dashboard", "tasks"],
        action="append",
        help="measure only these parts (repeatable); default: all",
    )
    parser.add_argument("--task", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.task:
        print(json.dumps(run_task(args.task), default=str))
        return 0

    from django.core.management import call_command

    sys.path.insert(0, str(ROOT / "bench"))
    from seed_scale import bench_users, seed

    if connection.vendor != "postgresql":
        print("The scale benchmark needs PostgreSQL: set DATABASE_URL=postgres://...", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    if seed(args.rows):
        print(f"Seeded in {time.perf_counter() - started:.0f} s")
    else:
        print("Data set already seeded: reusing it")
    users = bench_users()
    from apps.invoices.models import Invoice

    rows = Invoice.objects.count()
    results = Results()
    parts = {
        "admin": ("Admin lists", lambda: bench_changelists(results, users, args.runs)),
        "aging": ("Aging", lambda: bench_aging(results, args.runs)),
        "api": ("API", lambda: bench_api(results, users, args.runs)),
        "dashboard": ("Dashboard", lambda: bench_dashboard(results, users, args.runs)),
        "tasks": ("Scheduled tasks", lambda: bench_tasks(results)),
    }
    for key, (title, measure) in parts.items():
        if args.only and key not in args.only:
            continue
        print(f"{title} ...")
        measure()
    header = (
        f"Scale benchmark, {date.today():%Y-%m-%d}: {rows:,} invoices (and as many refund cases, ledger entries "
        f"and audit events), PostgreSQL {connection.pg_version // 10000}, median of {args.runs} runs"
    )
    print()
    print(results.markdown(header))
    return 0 if all(row["ok"] == "yes" for row in results.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
