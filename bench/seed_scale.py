"""
The large data set of the scale benchmark, written with PostgreSQL COPY from in-memory generators.

``seed(rows)`` fills an empty benchmark database with ``rows`` invoices (about three quarters paid, with
their payments), ``rows`` orders with one refund case each, ``rows`` stock ledger entries (receipts, with
the stock levels they add up to) and ``rows`` audit events, plus the vendors, items, bins and users they
refer to. Old records are settled; only the last weeks hold open invoices and cases, as in a real ledger.
It runs once per database: a second call sees the marker vendor and returns at once.
"""

import io
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import connection, transaction

MARKER_VENDOR = "BENCH-MARKER"
SPAN_DAYS = 3 * 365
CHUNK = 20_000
BENCH_PASSWORD_UNUSABLE = None  # bench users sign in with force_login only

INVOICE_OPEN_STATUSES = ["submitted", "matched", "exception", "approved", "scheduled", "on_hold", "disputed"]
CASE_TYPES = ["refund", "store_credit", "return", "chargeback"]
AUDIT_ACTIONS = [
    "auth.login",
    "auth.login_failed",
    "invoice.approved",
    "invoice.submitted",
    "invoice.scheduled",
    "refund.approved",
    "refund.processed",
    "records.exported",
    "import.confirmed",
    "cycle_count.approved",
    "api.denied",
    "vendor.bank_details_confirmed",
]
PATHS = ["admin", "admin_action", "api", "import", "task", "command", "system"]


def _text(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    return str(value)


def copy_rows(model, columns: list[str], rows, *, total: int, label: str, out) -> None:
    """COPY ``rows`` (tuples in ``columns`` order) into ``model``'s table; NOT NULL columns left out get defaults."""
    with connection.cursor() as cursor:
        existing = {c.name for c in connection.introspection.get_table_description(cursor, model._meta.db_table)}
    extra = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.attname in columns or field.null or field.column not in existing:
            continue
        extra.append((field.column, _text(field.get_default() if field.has_default() else "")))
    names = [model._meta.get_field(c).column if c != "id" else "id" for c in columns] + [c for c, _ in extra]
    tail = "".join(f"\t{value}" for _, value in extra)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({', '.join(names)}) FROM STDIN"
    started = time.perf_counter()
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        buffer = io.StringIO()
        for n, row in enumerate(rows, 1):
            buffer.write("\t".join(map(_text, row)) + tail + "\n")
            if n % CHUNK == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    out(f"  {label}: {total:,} rows in {time.perf_counter() - started:.1f} s")


def _day(i: int, rows: int, today: date) -> date:
    """Row ``i`` of ``rows`` dated between SPAN_DAYS ago and today, in id order."""
    return today - timedelta(days=SPAN_DAYS - (i * SPAN_DAYS) // max(rows, 1))


def _moment(i: int, rows: int, now: datetime) -> datetime:
    return now - timedelta(seconds=(SPAN_DAYS * 86400) * (rows - i) // max(rows, 1))


def is_seeded() -> bool:
    from apps.vendors.models import Vendor

    return Vendor.objects.filter(code=MARKER_VENDOR).exists()


def bench_users() -> dict:
    """An associate and an auditor (roles as in production) who open the lists of the benchmark."""
    from django.contrib.auth.models import Group

    from apps.core import roles
    from apps.core.services.roles import roles_sync

    roles_sync()
    users = {}
    for key, role in (("associate", roles.ASSOCIATE), ("auditor", roles.AUDITOR), ("approver", roles.APPROVER)):
        user, _ = get_user_model().objects.get_or_create(
            username=f"bench_{key}", defaults={"is_staff": True, "email": f"bench_{key}@example.com"}
        )
        user.groups.add(Group.objects.get(name=role))
        users[key] = user
    return users


def seed(rows: int, *, out=print) -> bool:
    """Fill the benchmark database once; False when it already holds the data set."""
    from apps.core.models import AuditEvent
    from apps.inventory.models import Item, LedgerEntry, Location, StockLevel, Warehouse
    from apps.invoices.models import Invoice, Payment
    from apps.refunds.models import Channel, Order, ReasonCode, RefundCase
    from apps.vendors.models import Vendor

    users = bench_users()
    if is_seeded():
        return False
    out(f"Seeding {rows:,} rows per big table (COPY) ...")
    today = date.today()
    now = datetime.now(UTC).replace(microsecond=0)
    stamp = now.isoformat()
    associate = users["associate"].pk
    with transaction.atomic():
        # --- Vendors ---
        vendor_count = max(50, rows // 500)
        copy_rows(
            Vendor,
            [
                "created_at",
                "updated_at",
                "code",
                "legal_name",
                "tax_id",
                "status",
                "payment_terms_days",
                "default_currency",
                "category",
            ],
            (
                (
                    stamp,
                    stamp,
                    MARKER_VENDOR if v == 0 else f"V{v:06d}",
                    f"Vendor {v} Ltd",
                    f"TX{v:08d}",
                    "active",
                    30,
                    "USD" if v % 5 else "EUR",
                    "goods",
                )
                for v in range(vendor_count)
            ),
            total=vendor_count,
            label="vendors",
            out=out,
        )
        vendor_ids = list(Vendor.objects.order_by("pk").values_list("pk", "default_currency"))

        # --- Invoices and their payments ---
        recent = today - timedelta(days=45)

        def invoice(i):
            day = _day(i, rows, today)
            subtotal = Decimal(100 + (i * 37) % 9_900)
            tax = (subtotal * Decimal("0.08")).quantize(Decimal("0.01"))
            if day >= recent and i % 10 < 6:
                status = INVOICE_OPEN_STATUSES[i % len(INVOICE_OPEN_STATUSES)]
            else:
                status = "cancelled" if i % 50 == 0 else "paid"
            return day, subtotal, tax, subtotal + tax, status

        def invoices():
            for i in range(rows):
                vendor_id, currency = vendor_ids[i % len(vendor_ids)]
                day, subtotal, tax, total, status = invoice(i)
                paid = total if status == "paid" else Decimal("0")
                yield (
                    stamp,
                    stamp,
                    f"INV-{i:08d}",
                    vendor_id,
                    day,
                    day + timedelta(days=30),
                    currency,
                    subtotal,
                    tax,
                    total,
                    paid,
                    Decimal("0"),
                    status,
                    "matched",
                    stamp if status == "paid" else None,
                )

        copy_rows(
            Invoice,
            [
                "created_at",
                "updated_at",
                "number",
                "vendor_id",
                "invoice_date",
                "due_date",
                "currency",
                "subtotal",
                "tax",
                "total",
                "paid_amount",
                "credited_amount",
                "status",
                "match_result",
                "paid_at",
            ],
            invoices(),
            total=rows,
            label="invoices",
            out=out,
        )
        first_invoice = Invoice.objects.order_by("pk").values_list("pk", flat=True).first()

        def payments():
            for i in range(rows):
                day, _, _, total, status = invoice(i)
                if status == "paid":
                    yield (
                        stamp,
                        stamp,
                        first_invoice + i,
                        min(day + timedelta(days=25), today),
                        total,
                        "ach",
                        f"PAY-{i:08d}",
                    )

        copy_rows(
            Payment,
            ["created_at", "updated_at", "invoice_id", "payment_date", "amount", "method", "reference"],
            payments(),
            total=Invoice.objects.filter(status="paid").count(),
            label="payments",
            out=out,
        )

        # --- Orders and refund cases ---
        channel, _ = Channel.objects.get_or_create(code="bench-web", defaults={"name": "Web", "return_window_days": 30})
        reasons = {
            kind: ReasonCode.objects.get_or_create(
                code=f"bench-{kind}", defaults={"label": f"Bench {kind}", "case_type": kind}
            )[0].pk
            for kind in CASE_TYPES
        }
        copy_rows(
            Order,
            [
                "created_at",
                "updated_at",
                "reference",
                "customer_name",
                "customer_email",
                "order_date",
                "channel_id",
                "currency",
                "total",
                "amount_paid",
                "committed_amount",
            ],
            (
                (
                    stamp,
                    stamp,
                    f"SO-{i:08d}",
                    f"Customer {i % 50_000}",
                    f"customer{i % 50_000}@example.com",
                    _day(i, rows, today),
                    channel.pk,
                    "USD",
                    Decimal(20 + i % 480),
                    Decimal(20 + i % 480),
                    Decimal("0"),
                )
                for i in range(rows)
            ),
            total=rows,
            label="orders",
            out=out,
        )
        first_order = Order.objects.order_by("pk").values_list("pk", flat=True).first()
        open_since = now - timedelta(days=30)

        def cases():
            for i in range(rows):
                kind = CASE_TYPES[i % len(CASE_TYPES)]
                requested = _moment(i, rows, now)
                is_open = requested >= open_since and i % 3 != 0
                status = ("requested" if i % 2 else "approved") if is_open else "closed"
                due = requested.date() + timedelta(days=14)
                resolved = None if is_open else min(due, today)
                yield (
                    stamp,
                    stamp,
                    f"RC-{i:08d}",
                    first_order + i,
                    kind,
                    status,
                    Decimal(10 + i % 190),
                    "USD",
                    reasons[kind],
                    associate,
                    requested.isoformat(),
                    due,
                    1,
                    f"00000000-0000-4000-8000-{i:012d}",
                    due if kind == "chargeback" else None,
                    Decimal("0"),
                    resolved,
                    None if is_open else requested.isoformat(),
                )

        copy_rows(
            RefundCase,
            [
                "created_at",
                "updated_at",
                "reference",
                "order_id",
                "type",
                "status",
                "amount",
                "currency",
                "reason_id",
                "requested_by_id",
                "requested_at",
                "due_date",
                "approvals_required",
                "idempotency_key",
                "evidence_due_date",
                "fee",
                "resolved_on",
                "processed_at",
            ],
            cases(),
            total=rows,
            label="refund cases",
            out=out,
        )

        # --- Items, bins, the stock ledger and the stock levels it adds up to ---
        warehouses = [
            Warehouse.objects.get_or_create(code=f"BW{w}", defaults={"name": f"Bench {w}"})[0] for w in range(4)
        ]
        copy_rows(
            Location,
            ["created_at", "updated_at", "warehouse_id", "zone", "bin", "code", "is_active"],
            (
                (stamp, stamp, warehouses[b % 4].pk, f"Z{b // 40}", f"B{b:03d}", f"BW{b % 4}-Z{b // 40}-B{b:03d}", True)
                for b in range(200)
            ),
            total=200,
            label="bins",
            out=out,
        )
        item_count = max(100, rows // 100)
        abc = ["A"] * 1 + ["B"] * 3 + ["C"] * 6
        copy_rows(
            Item,
            [
                "created_at",
                "updated_at",
                "sku",
                "description",
                "unit_of_measure",
                "unit_cost",
                "currency",
                "abc_class",
                "reorder_point",
                "reorder_quantity",
                "is_critical",
                "is_active",
                "last_counted_on",
            ],
            (
                (
                    stamp,
                    stamp,
                    f"SKU-{n:07d}",
                    f"Bench item {n}",
                    "EA",
                    Decimal(1 + n % 99),
                    "USD",
                    abc[n % 10],
                    Decimal(5),
                    Decimal(50),
                    n % 97 == 0,
                    True,
                    today - timedelta(days=n % 400),
                )
                for n in range(item_count)
            ),
            total=item_count,
            label="items",
            out=out,
        )
        item_ids = list(Item.objects.filter(sku__startswith="SKU-").order_by("pk").values_list("pk", flat=True))
        location_ids = list(Location.objects.filter(code__startswith="BW").order_by("pk").values_list("pk", flat=True))
        pairs = [
            (item, location_ids[(k * 7 + j) % len(location_ids)]) for k, item in enumerate(item_ids) for j in (0, 1)
        ]
        balances = [0] * len(pairs)

        def ledger():
            for i in range(rows):
                p = i % len(pairs)
                quantity = 1 + i % 7
                balances[p] += quantity
                item_id, location_id = pairs[p]
                unit_cost = Decimal(1 + (item_id % 99))
                yield (
                    stamp,
                    stamp,
                    item_id,
                    location_id,
                    "receipt",
                    quantity,
                    balances[p],
                    unit_cost,
                    unit_cost * quantity,
                    "USD",
                    f"GRN-{i:08d}",
                    _moment(i, rows, now).isoformat(),
                )

        copy_rows(
            LedgerEntry,
            [
                "created_at",
                "updated_at",
                "item_id",
                "location_id",
                "kind",
                "quantity",
                "balance_after",
                "unit_cost",
                "value",
                "currency",
                "reference",
                "posted_at",
            ],
            ledger(),
            total=rows,
            label="ledger entries",
            out=out,
        )
        copy_rows(
            StockLevel,
            ["created_at", "updated_at", "item_id", "location_id", "quantity", "reserved_quantity", "last_movement_at"],
            ((stamp, stamp, item, location, balances[p], 0, stamp) for p, (item, location) in enumerate(pairs)),
            total=len(pairs),
            label="stock levels",
            out=out,
        )

        # --- Audit events ---
        copy_rows(
            AuditEvent,
            [
                "timestamp",
                "action",
                "outcome",
                "actor_id",
                "username",
                "path",
                "request_path",
                "target_id",
                "target_repr",
                "message",
                "data",
            ],
            (
                (
                    _moment(i, rows, now).isoformat(),
                    AUDIT_ACTIONS[i % len(AUDIT_ACTIONS)],
                    "denied" if i % 40 == 0 else "success",
                    associate,
                    "bench_associate",
                    PATHS[i % len(PATHS)],
                    "/admin/",
                    str(i),
                    f"record {i}",
                    "",
                    "{}",
                )
                for i in range(rows)
            ),
            total=rows,
            label="audit events",
            out=out,
        )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    out(f"  ANALYZE in {time.perf_counter() - started:.1f} s")
    return True
