"""Demo inventory: about 800 items over 3 warehouses, a year of count history, a few items to reorder.

History is written in bulk (it is the past) but obeys the rules: every quantity is the sum of its
ledger, every approved count was approved by someone who did not count it, lines above tolerance
were recounted by a second person. Today's open counts go through the services.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from auditlog.context import disable_auditlog
from django.db.models import Max
from django.utils import timezone

from apps.inventory.models import (
    CountPolicy,
    CycleCount,
    CycleCountLine,
    Item,
    LedgerEntry,
    Location,
    StockLevel,
    Warehouse,
)
from apps.inventory.policies import Policies

WAREHOUSES = [
    ("DC-EAST", "East distribution centre"),
    ("DC-WEST", "West distribution centre"),
    ("DC-NORTH", "North depot"),
]
ZONES = ["A", "B", "C", "D"]
BINS_PER_ZONE = 25
ITEM_COUNT = 800
NOUNS = [
    "bolt",
    "bracket",
    "cable",
    "filter",
    "gasket",
    "hinge",
    "label roll",
    "pallet wrap",
    "sensor",
    "valve",
    "bearing",
    "carton",
    "fuse",
    "glove box",
    "hose",
    "lamp",
    "motor",
    "nozzle",
    "pump",
    "switch",
]
ADJECTIVES = ["steel", "brass", "heavy-duty", "compact", "industrial", "spare", "premium", "standard", "mini", "large"]
UNITS = ["EA", "EA", "EA", "BOX", "CASE", "PACK", "KG", "M"]


def _aware(day, hour=10):
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def seed(*, users) -> None:
    if Item.objects.filter(sku="INV-0001").exists():
        return
    rng = random.Random(20261122)
    with disable_auditlog():  # the year of history is bulk-written; today's work below is audited
        items, balance = _history(rng, users)
        _reorder_points(rng, items, balance)
    warehouses = list(Warehouse.objects.filter(code__in=[code for code, _ in WAREHOUSES]).order_by("code"))
    _open_counts(users, warehouses)
    from apps.inventory.services import reorder_alerts_refresh

    reorder_alerts_refresh()


def _history(rng, users):
    counters = [users["associate"], users["associate2"]]
    approvers = [users["inventory_controller"], users["approver"]]
    today = timezone.localdate()
    start = today - timedelta(days=365)

    for abc, days, units, percent, value in (
        ("", None, "5", "5.00", "100.00"),
        ("A", 30, "2", "2.00", "250.00"),
        ("B", 90, None, None, None),
        ("C", 365, "10", "10.00", None),
    ):
        CountPolicy.objects.get_or_create(
            abc_class=abc,
            defaults={
                "frequency_days": days,
                "tolerance_units": Decimal(units) if units else None,
                "tolerance_percent": Decimal(percent) if percent else None,
                "tolerance_value": Decimal(value) if value else None,
            },
        )
    warehouses = [Warehouse.objects.get_or_create(code=code, defaults={"name": name})[0] for code, name in WAREHOUSES]
    Location.objects.bulk_create(
        [
            Location(warehouse=wh, zone=zone, bin=f"{n:02d}", code=f"{wh.code}-{zone}-{n:02d}")
            for wh in warehouses
            for zone in ZONES
            for n in range(1, BINS_PER_ZONE + 1)
        ],
        ignore_conflicts=True,
    )
    locations = list(Location.objects.filter(warehouse__in=warehouses).select_related("warehouse"))

    items = []
    for n in range(1, ITEM_COUNT + 1):
        abc = "A" if n % 10 < 2 else "B" if n % 10 < 5 else "C"
        cost = (
            Decimal(
                rng.randint(2000, 40000)
                if abc == "A"
                else rng.randint(300, 6000)
                if abc == "B"
                else rng.randint(20, 900)
            )
            / 100
        )
        items.append(
            Item(
                sku=f"INV-{n:04d}",
                description=f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {n}",
                unit_of_measure=rng.choice(UNITS),
                unit_cost=cost.quantize(Decimal("0.01")),
                currency="USD",
                abc_class=abc,
                is_critical=n % 97 == 0,
            )
        )
    Item.objects.bulk_create(items, ignore_conflicts=True)
    items = list(Item.objects.filter(sku__startswith="INV-").order_by("sku"))

    # Where each item sits: one or two bins, perhaps in two warehouses.
    levels = {}
    for item in items:
        for location in rng.sample(locations, 2 if rng.random() < 0.4 else 1):
            levels[(item.pk, location.pk)] = Decimal(rng.randint(20, 400))
    StockLevel.objects.bulk_create([StockLevel(item_id=i, location_id=loc) for i, loc in levels], ignore_conflicts=True)

    item_by_pk = {item.pk: item for item in items}
    location_by_pk = {loc.pk: loc for loc in locations}
    policies = Policies()
    ledger = []
    balance = dict.fromkeys(levels, Decimal("0"))

    def post(key, kind, quantity, at, actor, **extra):
        item = item_by_pk[key[0]]
        balance[key] += quantity
        ledger.append(
            LedgerEntry(
                item_id=key[0],
                location_id=key[1],
                kind=kind,
                quantity=quantity,
                balance_after=balance[key],
                unit_cost=extra.pop("unit_cost", item.unit_cost),
                value=(quantity * item.unit_cost).quantize(Decimal("0.01")),
                currency=item.currency,
                posted_at=at,
                posted_by=actor,
                created_by=actor,
                updated_by=actor,
                **extra,
            )
        )

    controller = users["inventory_controller"]
    for key, opening in levels.items():
        post(key, "receipt", opening, _aware(start, 8), controller, reference="OPENING")

    # A year, month by month: receipts and shipments, then the counts that fall due.
    count_plan = []
    for month in range(12):
        first = start + timedelta(days=30 * month)
        for key in levels:
            if rng.random() < 0.18:
                out = min(balance[key], Decimal(rng.randint(5, 60)))
                if out > 0:
                    post(
                        key,
                        "shipment",
                        -out,
                        _aware(first + timedelta(days=rng.randint(1, 12)), 11),
                        controller,
                        reference=f"SO-{rng.randint(10000, 99999)}",
                    )
            if rng.random() < 0.14:
                post(
                    key,
                    "receipt",
                    Decimal(rng.randint(10, 80)),
                    _aware(first + timedelta(days=rng.randint(1, 12)), 9),
                    controller,
                    reference=f"PO-{rng.randint(10000, 99999)}",
                )
        count_day = first + timedelta(days=20)
        for key in levels:
            item = item_by_pk[key[0]]
            every = max(1, round(policies.frequency_days(item) / 30))
            if (month + item.pk) % every == 0:
                count_plan.append((count_day, key))
        # Counts of this month settle before next month's movements.
        _settle_counts(rng, count_plan, balance, post, policies, item_by_pk, location_by_pk, counters, approvers)
        count_plan = []

    LedgerEntry.objects.bulk_create(ledger, batch_size=2000)
    for (item_id, location_id), quantity in balance.items():
        StockLevel.objects.filter(item_id=item_id, location_id=location_id).update(quantity=quantity)
    last_counted = (
        CycleCountLine.objects.filter(count__status="approved")
        .values("item_id")
        .annotate(last=Max("count__approved_at"))
    )
    for row in last_counted:
        Item.objects.filter(pk=row["item_id"]).update(last_counted_on=row["last"].date())

    return items, balance


def _settle_counts(rng, plan, balance, post, policies, item_by_pk, location_by_pk, counters, approvers):
    """Write approved counts for this month's plan, one per warehouse zone, with their adjustments."""
    by_zone = {}
    for day, key in plan:
        location = location_by_pk[key[1]]
        by_zone.setdefault((day, location.warehouse_id, location.zone), []).append(key)
    for (day, warehouse_id, zone), keys in sorted(by_zone.items()):
        counter = rng.choice(counters)
        recounter = counters[1] if counter == counters[0] else counters[0]
        approver = rng.choice(approvers)
        count = CycleCount.objects.create(
            number=f"tmp-{rng.getrandbits(60):x}"[:20],
            warehouse_id=warehouse_id,
            zone=zone,
            status="approved",
            due_date=day,
            counter=counter,
            started_at=_aware(day, 8),
            submitted_at=_aware(day, 15),
            approved_at=_aware(day + timedelta(days=1), 10),
            approved_by=approver,
            created_by=approver,
        )
        count.number = f"CC-{count.pk:06d}"
        lines, variances = [], []
        for key in keys:
            item = item_by_pk[key[0]]
            expected = balance[key]
            roll = rng.random()
            if roll < 0.80 or expected == 0:
                counted = expected
            elif roll < 0.93:
                counted = max(Decimal("0"), expected - rng.randint(1, 3))
            elif roll < 0.97:
                counted = expected + rng.randint(1, 2)
            else:
                counted = max(Decimal("0"), expected - rng.randint(4, 12))
            exceeded = policies.tolerance(item).exceeded_by(
                expected=expected, counted=counted, unit_cost=item.unit_cost
            )
            recount = None
            if exceeded:
                recount = counted if rng.random() < 0.6 else expected - (expected - counted) // 2
            final = recount if exceeded else counted
            lines.append(
                CycleCountLine(
                    count=count,
                    item_id=key[0],
                    location_id=key[1],
                    expected_quantity=expected,
                    snapshot_at=_aware(day, 8),
                    unit_cost=item.unit_cost,
                    counted_quantity=counted,
                    counted_by=counter,
                    counted_at=_aware(day, 12),
                    recount_required=exceeded,
                    recount_reason="variance" if exceeded else "",
                    recount_quantity=recount,
                    recounted_by=recounter if exceeded else None,
                    recounted_at=_aware(day, 14) if exceeded else None,
                    first_count_within_tolerance=not exceeded,
                    first_variance_quantity=counted - expected,
                    status="adjusted" if final != expected else "confirmed",
                )
            )
            variances.append(final - expected)
        if any(line.recount_required for line in lines):
            count.recounter = recounter
        count.save()
        lines = CycleCountLine.objects.bulk_create(lines)
        if any(line.pk is None for line in lines):
            lines = list(CycleCountLine.objects.filter(count=count).order_by("pk"))
        for line, variance in zip(lines, variances, strict=True):
            key = (line.item_id, line.location_id)
            kind = "count_adjustment" if variance else "count_confirmation"
            post(
                key,
                kind,
                variance,
                count.approved_at,
                approver,
                count_line=line,
                reference=count.number,
                reason=f"Cycle count {count.number}",
                unit_cost=line.unit_cost,
            )


def _reorder_points(rng, items, balance):
    on_hand = {}
    for (item_id, _), quantity in balance.items():
        on_hand[item_id] = on_hand.get(item_id, Decimal("0")) + quantity
    for n, item in enumerate(items):
        total = on_hand.get(item.pk, Decimal("0"))
        item.reorder_point = (total * Decimal("0.25")).quantize(Decimal("1"))
        if n % 110 == 7:  # a few below their reorder point
            item.reorder_point = total + rng.randint(5, 30)
        item.reorder_quantity = max(item.reorder_point * 2, Decimal("10"))
    Item.objects.bulk_update(items, ["reorder_point", "reorder_quantity"], batch_size=500)


def _open_counts(users, warehouses):
    """Today's work: a scheduled count, one being counted, one awaiting approval."""
    from apps.inventory.services import cycle_count_create, cycle_count_enter, cycle_count_start, cycle_count_submit

    controller = users["inventory_controller"]
    zone_bins = [
        list(Location.objects.filter(warehouse=warehouses[0], zone=zone, stock_levels__isnull=False).distinct()[:6])
        for zone in ("A", "B", "C")
    ]
    due = timezone.localdate() + timedelta(days=2)
    cycle_count_create(
        actor=controller,
        kind="location",
        location_ids=[b.pk for b in zone_bins[0]],
        counter_id=users["associate"].pk,
        due_date=due,
        notes="Zone A spot check",
    )
    (counting,) = cycle_count_create(
        actor=controller,
        kind="location",
        location_ids=[b.pk for b in zone_bins[1]],
        counter_id=users["associate"].pk,
        due_date=due,
    )
    cycle_count_start(count_id=counting.pk, actor=users["associate"])
    first = counting.lines.select_related("item").first()
    cycle_count_enter(
        count_id=counting.pk,
        actor=users["associate"],
        entries=[{"line_id": first.pk, "quantity": first.expected_quantity}],
    )
    (submitted,) = cycle_count_create(
        actor=controller,
        kind="location",
        location_ids=[b.pk for b in zone_bins[2]],
        counter_id=users["associate2"].pk,
        due_date=due,
    )
    cycle_count_start(count_id=submitted.pk, actor=users["associate2"])
    submitted_lines = list(submitted.lines.all())
    cycle_count_enter(
        count_id=submitted.pk,
        actor=users["associate2"],
        entries=[
            {"line_id": line.pk, "quantity": max(Decimal("0"), line.expected_quantity - (1 if n == 0 else 0))}
            for n, line in enumerate(submitted_lines)
        ],
    )
    cycle_count_submit(count_id=submitted.pk, actor=users["associate2"])
