"""Vendor KPIs measured from accounts payable data, proposed when a vendor review is drafted."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q

from apps.invoices.models import GoodsReceipt, Invoice
from apps.vendors.kpis import Measurement

HUNDRED = Decimal("100")


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def on_time_delivery(*, vendor_id: int, start: date, end: date) -> Measurement | None:
    """Receipts in the period on or before their order line's promised date."""
    counts = GoodsReceipt.objects.filter(
        po_line__purchase_order__vendor_id=vendor_id, received_date__gte=start, received_date__lte=end
    ).aggregate(total=Count("id"), on_time=Count("id", filter=Q(received_date__lte=F("po_line__promised_date"))))
    if not counts["total"]:
        return None
    return Measurement(
        score=_percent(counts["on_time"], counts["total"]),
        basis=f"{counts['on_time']} of {counts['total']} receipts on or before the promised date",
    )


def _matched_invoices(vendor_id: int, start: date, end: date):
    return Invoice.objects.filter(vendor_id=vendor_id, invoice_date__gte=start, invoice_date__lte=end).exclude(
        match_result=Invoice.MatchResult.PENDING
    )


def invoice_accuracy(*, vendor_id: int, start: date, end: date) -> Measurement | None:
    """Invoices in the period that matched without an exception (overridden exceptions count as exceptions)."""
    counts = _matched_invoices(vendor_id, start, end).aggregate(
        total=Count("id"), clean=Count("id", filter=Q(match_result=Invoice.MatchResult.MATCHED))
    )
    if not counts["total"]:
        return None
    return Measurement(
        score=_percent(counts["clean"], counts["total"]),
        basis=f"{counts['clean']} of {counts['total']} invoices matched without an exception",
    )


def dispute_rate(*, vendor_id: int, start: date, end: date) -> Measurement | None:
    """The share of the period's invoices that were never disputed (100 = no disputes)."""
    counts = _matched_invoices(vendor_id, start, end).aggregate(
        total=Count("id"), disputed=Count("id", filter=Q(was_disputed=True))
    )
    if not counts["total"]:
        return None
    return Measurement(
        score=HUNDRED - _percent(counts["disputed"], counts["total"]),
        basis=f"{counts['disputed']} of {counts['total']} invoices disputed",
    )
