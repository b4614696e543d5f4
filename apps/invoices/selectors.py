"""Reads for accounts payable: invoice lists, the exception queue and the AP aging report."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Case, DecimalField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum, Value, When
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


def exception_queue():
    """Invoices waiting for a match exception to be resolved, oldest first."""
    return invoice_list().filter(status=Invoice.Status.EXCEPTION).order_by("exception_since", "id")


def _sum_until(model, date_field: str, as_of: date):
    """The sum of ``model.amount`` per invoice dated on or before ``as_of``, as a correlated subquery."""
    return Coalesce(
        Subquery(
            model.objects.filter(invoice=OuterRef("pk"), **{f"{date_field}__lte": as_of})
            .order_by()
            .values("invoice")
            .annotate(amount_sum=Sum("amount"))
            .values("amount_sum")[:1],
            output_field=MONEY,
        ),
        Value(ZERO),
        output_field=MONEY,
    )


def _open_invoices_as_of(as_of: date, *, vendor_id=None, currency=None):
    """Invoices entered (not draft or cancelled) and dated by ``as_of``, with their open balance on that day."""
    queryset = Invoice.objects.filter(invoice_date__lte=as_of).exclude(
        status__in=[Invoice.Status.DRAFT, Invoice.Status.CANCELLED]
    )
    if vendor_id:
        queryset = queryset.filter(vendor_id=vendor_id)
    if currency:
        queryset = queryset.filter(currency=currency)
    open_balance = ExpressionWrapper(
        F("total") - _sum_until(Payment, "payment_date", as_of) - _sum_until(CreditMemo, "memo_date", as_of),
        output_field=MONEY,
    )
    return queryset.annotate(open_as_of=open_balance).exclude(open_as_of=0)


def _bucket(condition: Q):
    return Coalesce(
        Sum(Case(When(condition, then=F("open_as_of")), default=Value(ZERO), output_field=MONEY)),
        Value(ZERO),
        output_field=MONEY,
    )


@dataclass(frozen=True)
class AgingReport:
    as_of: date
    rows: list[dict]
    totals: list[dict]


def ap_aging(*, as_of: date, vendor_id: int | None = None, currency: str | None = None) -> AgingReport:
    """AP aging as of a day, per vendor and currency, in ONE query (conditional aggregation).

    Days past due = ``as_of`` minus the due date: current (0 or less, not yet due), 1-30, 31-60, 61-90, 90+.
    Every open invoice falls in exactly one bucket, so the buckets add up to the open balance.
    """
    day = timedelta(days=1)
    rows = list(
        _open_invoices_as_of(as_of, vendor_id=vendor_id, currency=currency)
        .values("vendor", "vendor__code", "vendor__legal_name", "currency")
        .annotate(
            current=_bucket(Q(due_date__gte=as_of)),
            d1_30=_bucket(Q(due_date__lt=as_of, due_date__gte=as_of - 30 * day)),
            d31_60=_bucket(Q(due_date__lt=as_of - 30 * day, due_date__gte=as_of - 60 * day)),
            d61_90=_bucket(Q(due_date__lt=as_of - 60 * day, due_date__gte=as_of - 90 * day)),
            d90_plus=_bucket(Q(due_date__lt=as_of - 90 * day)),
            total=Coalesce(Sum("open_as_of"), Value(ZERO), output_field=MONEY),
        )
        .order_by("vendor__code", "currency")
    )
    totals: dict[str, dict] = {}
    for row in rows:
        for name in (*BUCKETS, "total"):
            row[name] = Decimal(row[name]).quantize(ZERO)
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
