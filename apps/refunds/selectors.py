"""Reads: case lists with their order, the order's refund history, aging and the recovery summary."""

from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Count, DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from apps.refunds.models import Order, RefundCase

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
BUCKETS = ("current", "d1_30", "d31_60", "d61_90", "d90_plus")
BUCKET_LABELS = {
    "current": "current (not yet due)",
    "d1_30": "1-30 days past due",
    "d31_60": "31-60 days past due",
    "d61_90": "61-90 days past due",
    "d90_plus": "over 90 days past due",
}


def case_list() -> QuerySet[RefundCase]:
    return RefundCase.objects.select_related("order", "order__channel", "reason", "requested_by")


def order_list() -> QuerySet[Order]:
    """Orders with what chargebacks already took (``chargeback_lost``), for the refundable amount, in one query."""
    lost = (
        RefundCase.objects.filter(order=OuterRef("pk"), type=RefundCase.Type.CHARGEBACK, amount_lost__isnull=False)
        .exclude(status__in=[RefundCase.Status.REJECTED, RefundCase.Status.CANCELLED])
        .values("order")
        .annotate(lost=Sum("amount_lost"))
        .values("lost")
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    return Order.objects.select_related("channel").annotate(
        chargeback_lost=Coalesce(Subquery(lost, output_field=money), Value(ZERO), output_field=money)
    )


def order_history(order: Order) -> QuerySet[RefundCase]:
    """Every case on the order, newest first."""
    return order.cases.select_related("reason", "requested_by").order_by("-requested_at", "-id")


def bucket_filters(as_of: date) -> dict[str, Q]:
    """Days past the due date as of ``as_of``: current (not yet due), 1-30, 31-60, 61-90, 90+.

    The five conditions split every due date into exactly one bucket.
    """
    return {
        "current": Q(due_date__gte=as_of),
        "d1_30": Q(due_date__lte=as_of - timedelta(days=1), due_date__gte=as_of - timedelta(days=30)),
        "d31_60": Q(due_date__lte=as_of - timedelta(days=31), due_date__gte=as_of - timedelta(days=60)),
        "d61_90": Q(due_date__lte=as_of - timedelta(days=61), due_date__gte=as_of - timedelta(days=90)),
        "d90_plus": Q(due_date__lt=as_of - timedelta(days=90)),
    }


def bucket_of(*, due_date: date, as_of: date) -> str:
    for name, (low, high) in {
        "current": (None, 0),
        "d1_30": (1, 30),
        "d31_60": (31, 60),
        "d61_90": (61, 90),
        "d90_plus": (91, None),
    }.items():
        days = (as_of - due_date).days
        if (low is None or days >= low) and (high is None or days <= high):
            return name
    raise AssertionError("unreachable")


def open_cases_as_of(as_of: date) -> QuerySet[RefundCase]:
    """Cases requested by ``as_of`` and not yet processed, rejected or cancelled on that day."""
    return RefundCase.objects.filter(requested_at__date__lte=as_of).filter(
        Q(resolved_on__isnull=True) | Q(resolved_on__gt=as_of)
    )


def _money_sum(condition: Q | None = None):
    return Coalesce(
        Sum("amount", filter=condition), Value(ZERO), output_field=DecimalField(max_digits=14, decimal_places=2)
    )


def case_aging(*, as_of: date, case_type: str | None = None) -> dict:
    """Open cases by days past due, per case type and currency, in one query.

    Returns ``{"as_of", "rows": [{type, currency, count, current, d1_30, d31_60, d61_90, d90_plus, total}],
    "totals": [{currency, count, ...}]}``; in every row the buckets add up exactly to ``total``.
    """
    cases = open_cases_as_of(as_of)
    if case_type:
        cases = cases.filter(type=case_type)
    buckets = {name: _money_sum(condition) for name, condition in bucket_filters(as_of).items()}
    rows = [
        _cents(row, (*BUCKETS, "total"))
        for row in cases.values("type", "currency")
        .annotate(count=Count("id"), **buckets, total=_money_sum())
        .order_by("type", "currency")
    ]
    totals: dict[str, dict] = {}
    for row in rows:
        total = totals.setdefault(
            row["currency"], {"currency": row["currency"], "count": 0, **dict.fromkeys(BUCKETS, ZERO), "total": ZERO}
        )
        total["count"] += row["count"]
        for key in (*BUCKETS, "total"):
            total[key] += row[key]
    return {"as_of": as_of, "type": case_type or "", "rows": rows, "totals": sorted(totals.values(), key=_currency)}


def _currency(row):
    return row["currency"]


def _cents(row: dict, keys) -> dict:
    """Amounts as exact cents (SQLite sums decimals in floating point; PostgreSQL is exact already)."""
    return {**row, **{key: Decimal(row[key]).quantize(CENT) for key in keys}}


def chargeback_recovery(*, date_from: date, date_to: date) -> list[dict]:
    """Chargebacks settled between the two days (inclusive), per currency: won / lost / accepted and money.

    ``recovered`` is what the disputes kept (disputed - lost); ``fees`` what the networks charged.
    """
    settled = RefundCase.objects.filter(
        type=RefundCase.Type.CHARGEBACK,
        processed_at__isnull=False,
        resolved_on__gte=date_from,
        resolved_on__lte=date_to,
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    rows = (
        settled.values("currency")
        .annotate(
            count=Count("id"),
            won=Count("id", filter=Q(outcome=RefundCase.Outcome.WON)),
            lost=Count("id", filter=Q(outcome=RefundCase.Outcome.LOST)),
            accepted=Count("id", filter=Q(outcome=RefundCase.Outcome.ACCEPTED)),
            disputed=Coalesce(Sum("amount"), Value(ZERO), output_field=money),
            amount_lost=Coalesce(Sum("amount_lost"), Value(ZERO), output_field=money),
            fees=Coalesce(Sum("fee"), Value(ZERO), output_field=money),
        )
        .order_by("currency")
    )
    money_keys = ("disputed", "amount_lost", "fees")
    return [{**row, "recovered": row["disputed"] - row["amount_lost"]} for row in (_cents(r, money_keys) for r in rows)]


# --- Dashboard ----------------------------------------------------------------------------------


def open_backlog_by_age(*, today: date) -> list[dict]:
    """Open cases by days past due (the list's age filter), per currency: a count and an amount per bucket."""
    from apps.refunds.filters import open_in_bucket

    annotations = {}
    for name in BUCKETS:
        condition = open_in_bucket(name, today)
        annotations[f"{name}_count"] = Count("id", filter=condition)
        annotations[name] = _money_sum(condition)
    rows = (
        RefundCase.objects.filter(status__in=RefundCase.OPEN_STATUSES)
        .values("currency")
        .annotate(**annotations, count=Count("id"), total=_money_sum())
        .order_by("currency")
    )
    return [_cents(row, (*BUCKETS, "total")) for row in rows]


def sla_attainment(*, date_from: date, date_to: date) -> dict:
    """Cases processed in the period and how many of them on or before their due date (the SLA)."""
    processed = RefundCase.objects.filter(
        processed_at__isnull=False, resolved_on__gte=date_from, resolved_on__lte=date_to
    ).aggregate(total=Count("id"), within=Count("id", filter=Q(resolved_on__lte=F("due_date"))))
    percent = (
        (Decimal(processed["within"]) * 100 / Decimal(processed["total"])).quantize(Decimal("0.1"))
        if processed["total"]
        else None
    )
    return {**processed, "percent": percent}
