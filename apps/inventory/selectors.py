"""
Reads for the admin, the API, the reminders and the reports.

Blind counting lives here: ``can_see_expected`` says whether a person may see a count's expected
quantities, and the ``*_for`` querysets drop what would give the expected quantity away (stock
levels, ledger rows and alerts of the items and bins a person is counting).
"""

from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from apps.inventory.models import (
    CycleCount,
    CycleCountLine,
    Item,
    LedgerEntry,
    ReorderAlert,
    StockLevel,
)

ZERO = Decimal("0")
QTY = DecimalField(max_digits=14, decimal_places=3)
OPEN = CycleCount.OPEN


# --- Blind counting ---------------------------------------------------------------------------


def is_counting(*, user, count: CycleCount) -> bool:
    return user.pk is not None and user.pk in (count.counter_id, count.recounter_id)


def can_see_expected(*, user, count: CycleCount) -> bool:
    """Whether ``user`` may see the expected quantities (and variances) of ``count``.

    Once a count is approved or cancelled its numbers are history and anyone who may view it sees
    them. While it is open only people allowed to review counts see them, and never its counter or
    recounter — superusers included.
    """
    if count.status not in OPEN:
        return True
    if is_counting(user=user, count=count):
        return False
    return user.has_perm("inventory.view_expected_quantity")


def expected_visible_q(user, prefix: str = "") -> Q:
    """The ``can_see_expected`` rule as a filter on count lines (``prefix`` for related lookups)."""
    closed = ~Q(**{f"{prefix}count__status__in": OPEN})
    if not user.has_perm("inventory.view_expected_quantity"):
        return closed
    counting = Q(**{f"{prefix}count__counter_id": user.pk}) | Q(**{f"{prefix}count__recounter_id": user.pk})
    return closed | ~counting


def _counting_lines(user):
    """Lines of open counts whose expected quantity ``user`` may not see: the stock of their bins is
    hidden from them too, for it is the expected quantity (counters, recounters and would-be recounters)."""
    return CycleCountLine.objects.filter(count__status__in=OPEN).exclude(expected_visible_q(user))


def counts_to_work_by(*, user) -> QuerySet[CycleCount]:
    """Counts waiting for ``user`` to count (the counter of a scheduled or started count) or to
    recount (the recounter of a count sent back for a recount)."""
    S = CycleCount.Status
    return CycleCount.objects.filter(
        Q(counter=user, status__in=[S.SCHEDULED, S.COUNTING]) | Q(recounter=user, status=S.RECOUNT)
    )


def stock_levels_for(*, user) -> QuerySet[StockLevel]:
    qs = StockLevel.objects.select_related("item", "location", "location__warehouse").annotate(
        available_quantity=F("quantity") - F("reserved_quantity")
    )
    blind = _counting_lines(user).filter(item_id=OuterRef("item_id"), location_id=OuterRef("location_id"))
    return qs.exclude(Exists(blind))


BLIND_PAIRS_INLINE = 500


def ledger_for(*, user) -> QuerySet[LedgerEntry]:
    """The ledger without the bins ``user`` is counting blind.

    The bins are looked up first (usually none or a few), so the list of millions of entries is filtered by a
    short condition its indexes can serve; beyond ``BLIND_PAIRS_INLINE`` bins it is filtered by NOT EXISTS.
    """
    qs = LedgerEntry.objects.select_related("item", "location", "location__warehouse", "posted_by", "count_line")
    blind = _counting_lines(user)
    pairs = list(blind.values_list("item_id", "location_id").distinct()[: BLIND_PAIRS_INLINE + 1])
    if not pairs:
        return qs
    if len(pairs) <= BLIND_PAIRS_INLINE:
        hidden = Q()
        for item_id, location_id in pairs:
            hidden |= Q(item_id=item_id, location_id=location_id)
        return qs.exclude(hidden)
    return qs.exclude(Exists(blind.filter(item_id=OuterRef("item_id"), location_id=OuterRef("location_id"))))


def reorder_alerts_for(*, user) -> QuerySet[ReorderAlert]:
    qs = ReorderAlert.objects.select_related("item")
    return qs.exclude(Exists(_counting_lines(user).filter(item_id=OuterRef("item_id"))))


def items_for(*, user) -> QuerySet[Item]:
    """Items with their on-hand and available totals; empty for items the person is counting."""
    on_hand = (
        StockLevel.objects.filter(item_id=OuterRef("pk"))
        .values("item_id")
        .annotate(total=Sum("quantity"), available=Sum(F("quantity") - F("reserved_quantity")))
    )
    counting = Exists(_counting_lines(user).filter(item_id=OuterRef("pk")))
    return Item.objects.annotate(
        is_blind=counting,
        on_hand_total=Case(
            When(is_blind=True, then=Value(None, output_field=QTY)),
            default=Coalesce(Subquery(on_hand.values("total"), output_field=QTY), Value(ZERO, output_field=QTY)),
        ),
        available_total=Case(
            When(is_blind=True, then=Value(None, output_field=QTY)),
            default=Coalesce(Subquery(on_hand.values("available"), output_field=QTY), Value(ZERO, output_field=QTY)),
        ),
    )


def counts_with_progress(qs=None) -> QuerySet[CycleCount]:
    """Counts with ``lines_total``, ``lines_counted`` and ``lines_awaiting_recount`` for lists."""
    qs = qs if qs is not None else CycleCount.objects.all()
    return qs.select_related("warehouse", "counter", "recounter", "approved_by").annotate(
        lines_total=Count("lines", distinct=True),
        lines_counted=Count("lines", filter=Q(lines__counted_quantity__isnull=False), distinct=True),
        lines_awaiting_recount=Count(
            "lines", filter=Q(lines__recount_required=True, lines__recount_quantity__isnull=True), distinct=True
        ),
        # Only shown to people who may see expected quantities (see ``can_see_expected``).
        variance_value_total=Sum(
            (Coalesce("lines__recount_quantity", "lines__counted_quantity") - F("lines__expected_quantity"))
            * F("lines__unit_cost"),
            output_field=DecimalField(max_digits=20, decimal_places=5),
        ),
    )


# --- Stock ------------------------------------------------------------------------------------


def available_by_item(*, item_ids=None) -> dict[int, Decimal]:
    qs = StockLevel.objects.all()
    if item_ids is not None:
        qs = qs.filter(item_id__in=list(item_ids))
    rows = qs.values("item_id").annotate(available=Sum(F("quantity") - F("reserved_quantity")))
    return {row["item_id"]: row["available"] or ZERO for row in rows}


def items_below_reorder_point(*, item_ids=None) -> list[tuple[Item, Decimal]]:
    """Active items with a reorder point whose available quantity is at or below it."""
    items = Item.objects.filter(is_active=True, reorder_point__gt=0)
    if item_ids is not None:
        items = items.filter(pk__in=list(item_ids))
    available = available_by_item(item_ids=item_ids)
    return [
        (item, available.get(item.pk, ZERO)) for item in items if available.get(item.pk, ZERO) <= item.reorder_point
    ]


def ledger_matches_stock_levels() -> list[tuple[int, int, Decimal, Decimal]]:
    """Stock levels whose quantity differs from the sum of their ledger: empty when all is well."""
    sums = {
        (row["item_id"], row["location_id"]): row["total"]
        for row in LedgerEntry.objects.values("item_id", "location_id").annotate(total=Sum("quantity"))
    }
    mismatches = []
    for level in StockLevel.objects.values("item_id", "location_id", "quantity"):
        key = (level["item_id"], level["location_id"])
        total = sums.pop(key, ZERO)
        if total != level["quantity"]:
            mismatches.append((*key, level["quantity"], total))
    mismatches.extend((*key, ZERO, total) for key, total in sums.items() if total != 0)
    return mismatches


# --- People -----------------------------------------------------------------------------------


def users_with_perm(perm: str):
    """Active users holding ``app_label.codename`` through a group or directly (not merely as superusers)."""
    app_label, codename = perm.split(".")
    permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
    if permission is None:
        return get_user_model().objects.none()
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(groups__permissions=permission) | Q(user_permissions=permission))
        .distinct()
    )


# --- KPIs and reports -------------------------------------------------------------------------


def count_accuracy(*, date_from: date, date_to: date) -> dict:
    """Share of first counts within tolerance, over lines of counts approved in the period."""
    lines = CycleCountLine.objects.filter(
        count__status=CycleCount.Status.APPROVED,
        count__approved_at__date__gte=date_from,
        count__approved_at__date__lte=date_to,
        first_count_within_tolerance__isnull=False,
    )

    def summarise(rows):
        result = []
        for row in rows:
            total, within = row["total"], row["within"]
            result.append({**row, "accuracy_percent": _percent(within, total)})
        return result

    aggregate = lines.aggregate(total=Count("id"), within=Count("id", filter=Q(first_count_within_tolerance=True)))
    by_month = lines.annotate(month=TruncMonth("count__approved_at")).values("month")
    by_warehouse = lines.values(warehouse=F("count__warehouse__code"))
    by_class = lines.values(abc_class=F("item__abc_class"))
    counted = {"total": Count("id"), "within": Count("id", filter=Q(first_count_within_tolerance=True))}
    return {
        "total": aggregate["total"],
        "within": aggregate["within"],
        "accuracy_percent": _percent(aggregate["within"], aggregate["total"]),
        "by_month": summarise(by_month.annotate(**counted).order_by("month")),
        "by_warehouse": summarise(by_warehouse.annotate(**counted).order_by("warehouse")),
        "by_abc_class": summarise(by_class.annotate(**counted).order_by("abc_class")),
    }


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"))


def shrinkage(*, date_from: date, date_to: date) -> dict:
    """Count adjustments in the period: losses (shrinkage), gains and net value, by month, warehouse, class."""
    entries = LedgerEntry.objects.filter(
        kind=LedgerEntry.Kind.COUNT_ADJUSTMENT, posted_at__date__gte=date_from, posted_at__date__lte=date_to
    )
    money = DecimalField(max_digits=14, decimal_places=2)
    sums = {
        "shrinkage_value": Coalesce(-Sum("value", filter=Q(value__lt=0)), Value(ZERO, output_field=money)),
        "gain_value": Coalesce(Sum("value", filter=Q(value__gt=0)), Value(ZERO, output_field=money)),
        "net_value": Coalesce(Sum("value"), Value(ZERO, output_field=money)),
        "adjustments": Count("id"),
    }
    return {
        "by_month": list(
            entries.annotate(month=TruncMonth("posted_at"))
            .values("month", "currency")
            .annotate(**sums)
            .order_by("month")
        ),
        "by_warehouse": list(
            entries.values("currency", warehouse=F("location__warehouse__code")).annotate(**sums).order_by("warehouse")
        ),
        "by_abc_class": list(
            entries.values("currency", abc_class=F("item__abc_class")).annotate(**sums).order_by("abc_class")
        ),
        "total": entries.values("currency").annotate(**sums).order_by("currency"),
    }


def items_with_repeated_variances(*, since: date, minimum: int = 2):
    """Items with at least ``minimum`` count adjustments since ``since``, most frequent first."""
    return (
        Item.objects.filter(
            ledger_entries__kind=LedgerEntry.Kind.COUNT_ADJUSTMENT, ledger_entries__posted_at__date__gte=since
        )
        .annotate(
            adjustments=Count("ledger_entries"),
            net_quantity=Sum("ledger_entries__quantity"),
            net_value=Sum("ledger_entries__value"),
        )
        .filter(adjustments__gte=minimum)
        .order_by("-adjustments", "sku")
    )


def recent_variance_item_ids(*, days: int = 90, today: date | None = None) -> list[int]:
    since = (today or timezone.localdate()) - timedelta(days=days)
    return list(
        LedgerEntry.objects.filter(kind=LedgerEntry.Kind.COUNT_ADJUSTMENT, posted_at__date__gte=since)
        .values_list("item_id", flat=True)
        .distinct()
    )
