"""Reads for accounts payable: invoice lists, the exception queue and the AP aging report."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import (
    Avg,
    Count,
    DecimalField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from apps.core.money import DECIMAL_PLACES, MAX_DIGITS
from apps.invoices.models import CreditMemo, Invoice, Payment

BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90_plus")
BUCKET_LABELS = {
    "current": "current",
    "d1_30": "1-30",
    "d31_60": "31-60",
    "d61_90": "61-90",
    "d90_plus": "90+",
}
ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=MAX_DIGITS, decimal_places=DECIMAL_PLACES)


def invoice_list():
    """Invoices with what their list pages show, in one query per page."""
    return Invoice.objects.select_related("vendor", "purchase_order")


def invoices_awaiting_approval_by(user):
    """Matched invoices ``user`` may approve: not ones they entered or submitted, gave the first of two
    approvals, or whose vendor's bank details they changed (the rules of ``invoice_approve``)."""
    return (
        Invoice.objects.filter(status=Invoice.Status.MATCHED)
        .exclude(created_by=user)
        .exclude(submitted_by=user)
        .exclude(approved_by=user)
        .exclude(vendor__bank_details_changed_by=user, vendor__bank_details_changed_at__isnull=False)
    )


def exception_queue():
    """Invoices waiting for a match exception to be resolved, oldest first."""
    return invoice_list().filter(status=Invoice.Status.EXCEPTION).order_by("exception_since", "id")


def _aging_buckets(prefix: str, amount, as_of: date) -> dict:
    """Sums of ``amount`` per bucket of days past the due date (``prefix + "due_date"``), and in total."""
    day = timedelta(days=1)
    due = f"{prefix}due_date"
    conditions = {
        "current": Q(**{f"{due}__gte": as_of}),
        "d1_30": Q(**{f"{due}__lt": as_of, f"{due}__gte": as_of - 30 * day}),
        "d31_60": Q(**{f"{due}__lt": as_of - 30 * day, f"{due}__gte": as_of - 60 * day}),
        "d61_90": Q(**{f"{due}__lt": as_of - 60 * day, f"{due}__gte": as_of - 90 * day}),
        "d90_plus": Q(**{f"{due}__lt": as_of - 90 * day}),
    }
    sums = {
        name: Coalesce(Sum(amount, filter=condition), Value(ZERO), output_field=MONEY)
        for name, condition in conditions.items()
    }
    return {**sums, "total": Coalesce(Sum(amount), Value(ZERO), output_field=MONEY)}


def _aging_part(queryset, prefix: str, amount, as_of: date):
    """One part of the aging: amounts per vendor, currency and bucket of the invoice's days past due."""
    return (
        queryset.values(f"{prefix}vendor", f"{prefix}vendor__code", f"{prefix}vendor__legal_name", f"{prefix}currency")
        .annotate(**_aging_buckets(prefix, amount, as_of))
        .order_by()
    )


def _entered_by(as_of: date, prefix: str = "", *, vendor_id=None, currency=None) -> Q:
    """Invoices entered (not draft or cancelled) and dated by ``as_of``, optionally of one vendor or currency."""
    condition = Q(**{f"{prefix}invoice_date__lte": as_of}) & ~Q(
        **{f"{prefix}status__in": [Invoice.Status.DRAFT, Invoice.Status.CANCELLED]}
    )
    if vendor_id:
        condition &= Q(**{f"{prefix}vendor_id": vendor_id})
    if currency:
        condition &= Q(**{f"{prefix}currency": currency})
    return condition


@dataclass(frozen=True)
class AgingReport:
    as_of: date
    rows: list[dict]
    totals: list[dict]


def ap_aging(*, as_of: date, vendor_id: int | None = None, currency: str | None = None) -> AgingReport:
    """AP aging as of a day, per vendor and currency, in ONE query.

    An invoice's open balance on ``as_of`` is its total less the payments and credits dated by then: its
    open balance today (``total - paid_amount - credited_amount``, kept by the payment and credit services)
    plus the payments and credits dated after ``as_of``. The query adds three grouped sums (UNION ALL):
    invoices open today, payments after ``as_of`` and credits after ``as_of``, each bucketed by the
    invoice's days past due: current (0 or less, not yet due), 1-30, 31-60, 61-90, 90+. Settled invoices
    add nothing and payments after a recent day are few, so it costs one pass over the invoices. Every open
    invoice falls in exactly one bucket, so the buckets add up to the open balance; vendors with nothing
    open are left out.
    """
    scope = {"vendor_id": vendor_id, "currency": currency}
    open_today = ExpressionWrapper(F("total") - F("paid_amount") - F("credited_amount"), output_field=MONEY)
    invoices = Invoice.objects.filter(_entered_by(as_of, **scope)).exclude(
        total=F("paid_amount") + F("credited_amount")
    )
    paid_later = Payment.objects.filter(_entered_by(as_of, "invoice__", **scope), payment_date__gt=as_of)
    credited_later = CreditMemo.objects.filter(_entered_by(as_of, "invoice__", **scope), memo_date__gt=as_of)
    parts = _aging_part(invoices, "", open_today, as_of).union(
        _aging_part(paid_later, "invoice__", "amount", as_of),
        _aging_part(credited_later, "invoice__", "amount", as_of),
        all=True,
    )
    grouped: dict[tuple, dict] = {}
    for part in parts:
        key = (part["vendor"], part["currency"])
        row = grouped.setdefault(
            key,
            {
                "vendor": part["vendor"],
                "vendor__code": part["vendor__code"],
                "vendor__legal_name": part["vendor__legal_name"],
                "currency": part["currency"],
                **dict.fromkeys((*BUCKETS, "total"), ZERO),
            },
        )
        for name in (*BUCKETS, "total"):
            row[name] += Decimal(str(part[name])).quantize(ZERO)
    rows = sorted(
        (row for row in grouped.values() if any(row[name] for name in BUCKETS)),
        key=lambda row: (row["vendor__code"], row["currency"]),
    )
    totals: dict[str, dict] = {}
    for row in rows:
        bucket = totals.setdefault(
            row["currency"], {"currency": row["currency"], **dict.fromkeys((*BUCKETS, "total"), ZERO)}
        )
        for name in (*BUCKETS, "total"):
            bucket[name] += row[name]
    return AgingReport(as_of=as_of, rows=rows, totals=[totals[c] for c in sorted(totals)])


def aging_as_json(report: AgingReport) -> dict:
    """The report in the API's shape: amounts as decimal strings."""

    def amounts(entry):
        return {name: f"{entry[name]:.2f}" for name in (*BUCKETS, "total")}

    return {
        "as_of": report.as_of.isoformat(),
        "rows": [
            {
                "vendor": row["vendor"],
                "vendor_code": row["vendor__code"],
                "vendor_name": row["vendor__legal_name"],
                "currency": row["currency"],
                **amounts(row),
            }
            for row in report.rows
        ],
        "totals": [{"currency": total["currency"], **amounts(total)} for total in report.totals],
    }


AGING_HEADERS = ["vendor code", "vendor", "currency", "current", "1-30", "31-60", "61-90", "90+", "total"]


def aging_table(report: AgingReport) -> list[list]:
    """Rows for a spreadsheet: one per vendor and currency, then one total per currency."""
    table = [
        [row["vendor__code"], row["vendor__legal_name"], row["currency"], *(row[n] for n in (*BUCKETS, "total"))]
        for row in report.rows
    ]
    table += [["TOTAL", "", t["currency"], *(t[n] for n in (*BUCKETS, "total"))] for t in report.totals]
    return table


# --- Dashboard ----------------------------------------------------------------------------------


def overdue_by_currency() -> list[dict]:
    """Open invoices past their due date (the list's "overdue" filter), per currency: count and open balance."""
    from apps.invoices.filters import overdue

    open_balance = ExpressionWrapper(F("total") - F("paid_amount") - F("credited_amount"), output_field=MONEY)
    rows = (
        overdue(Invoice.objects.all(), True)
        .values("currency")
        .annotate(count=Count("id"), amount=Coalesce(Sum(open_balance), Value(ZERO), output_field=MONEY))
        .order_by("currency")
    )
    return [{**row, "amount": Decimal(row["amount"]).quantize(ZERO)} for row in rows]


def _average_days(duration) -> Decimal | None:
    if duration is None:
        return None
    return (Decimal(duration.total_seconds()) / Decimal(86400)).quantize(Decimal("0.1"))


def invoice_cycle_kpis(*, date_from: date, date_to: date) -> dict:
    """Exception rate of invoices submitted in the period, and average days submitted -> approved -> paid.

    The exception rate counts invoices whose match found an exception (overridden ones included) among the
    period's matched invoices; cycle times average over invoices approved (or paid) in the period.
    """
    M = Invoice.MatchResult
    matched = (
        Invoice.objects.filter(submitted_at__date__gte=date_from, submitted_at__date__lte=date_to)
        .exclude(match_result=M.PENDING)
        .aggregate(total=Count("id"), exceptions=Count("id", filter=Q(match_result__in=[M.EXCEPTION, M.OVERRIDDEN])))
    )
    approval = Invoice.objects.filter(
        approved_at__date__gte=date_from, approved_at__date__lte=date_to, submitted_at__isnull=False
    ).aggregate(count=Count("id"), average=Avg(F("approved_at") - F("submitted_at"), output_field=DurationField()))
    payment = Invoice.objects.filter(
        paid_at__date__gte=date_from, paid_at__date__lte=date_to, approved_at__isnull=False
    ).aggregate(count=Count("id"), average=Avg(F("paid_at") - F("approved_at"), output_field=DurationField()))
    rate = (
        (Decimal(matched["exceptions"]) * 100 / Decimal(matched["total"])).quantize(Decimal("0.1"))
        if matched["total"]
        else None
    )
    return {
        "matched": matched["total"],
        "exceptions": matched["exceptions"],
        "exception_rate_percent": rate,
        "approved": approval["count"],
        "days_to_approve": _average_days(approval["average"]),
        "paid": payment["count"],
        "days_to_pay": _average_days(payment["average"]),
    }
