"""Property: after any sequence of operations, every stock level equals the sum of its ledger entries.

Random sequences (seeded, so a failure names its seed) of receipts, shipments, restocks, corrections,
counts started, entered, submitted, recounted, approved, rejected and cancelled, including refused ones.
"""

import random
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from apps.core.exceptions import TransitionNotAllowed
from apps.inventory import selectors
from apps.inventory.models import CycleCount, LedgerEntry, StockLevel
from apps.inventory.services import (
    cycle_count_approve,
    cycle_count_cancel,
    cycle_count_create,
    cycle_count_enter,
    cycle_count_reject,
    cycle_count_request_recount,
    cycle_count_start,
    cycle_count_submit,
    stock_move,
)
from tests.inventory.factories import ItemFactory, LocationFactory, stock

pytestmark = pytest.mark.django_db
REFUSED = (ValidationError, PermissionDenied, TransitionNotAllowed)


def _random_step(rng, people, items, bins):
    """One operation: mostly moving an open count forward, sometimes stock moves, new counts, refusals."""
    item, location = rng.choice(items), rng.choice(bins)
    roll = rng.random()
    if roll < 0.25:
        kind = rng.choice(["receipt", "shipment", "return_restock", "manual_correction"])
        quantity = rng.randint(-5, 30) if kind == "manual_correction" else rng.randint(0, 30)
        stock_move(
            item_id=item.pk,
            location_id=location.pk,
            kind=kind,
            quantity=quantity,
            actor=people["controller"],
            reason="x",
        )
        return
    if roll < 0.35:
        cycle_count_create(
            actor=people["controller"],
            kind=rng.choice(["location", "item"]),
            location_ids=[location.pk],
            item_ids=[item.pk],
            counter_id=rng.choice([people["counter"], people["recounter"]]).pk,
        )
        return
    open_counts = list(CycleCount.objects.filter(status__in=CycleCount.OPEN).order_by("pk"))
    if not open_counts:
        return
    count = rng.choice(open_counts)
    if roll < 0.38:
        cycle_count_cancel(count_id=count.pk, actor=people["controller"], reason="stop")
    elif count.status == "scheduled":
        cycle_count_start(count_id=count.pk, actor=count.counter if rng.random() < 0.9 else people["approver"])
    elif count.status in ("counting", "recount"):
        recount = count.status == "recount"
        who = people["controller"] if recount else count.counter
        lines = [line for line in count.lines.all() if line.recount_required or not recount]
        chosen = rng.sample(lines, rng.randint(1, len(lines)))
        cycle_count_enter(
            count_id=count.pk,
            actor=who,
            entries=[
                {
                    "line_id": line.pk,
                    "quantity": max(0, int(line.expected_quantity) + rng.choice([0, 0, 1, -1, -9, 12])),
                }
                for line in chosen
            ],
        )
        if rng.random() < 0.6:
            cycle_count_submit(count_id=count.pk, actor=who)
    else:
        action = rng.random()
        if action < 0.8:
            cycle_count_approve(count_id=count.pk, actor=rng.choice([people["approver"], count.counter]))
        elif action < 0.9:
            cycle_count_reject(count_id=count.pk, actor=people["approver"], reason="again")
        else:
            cycle_count_request_recount(
                count_id=count.pk, actor=people["approver"], line_ids=list(count.lines.values_list("pk", flat=True))[:1]
            )


@pytest.mark.parametrize("seed", range(6))
def test_stock_levels_equal_the_sum_of_their_ledger_after_any_sequence(seed, people, warehouse):
    rng = random.Random(seed)
    bins = [LocationFactory(warehouse=warehouse, zone="P", bin=f"{n:02d}") for n in range(3)]
    items = [ItemFactory(unit_cost=Decimal(rng.randint(1, 50))) for _ in range(3)]
    for item in items:
        for location in bins:
            stock(item, location, rng.randint(0, 40))
    refused = 0
    for _ in range(120):
        try:
            _random_step(rng, people, items, bins)
        except REFUSED:
            refused += 1
        assert selectors.ledger_matches_stock_levels() == [], f"seed {seed}"
    assert LedgerEntry.objects.count() > 9
    assert StockLevel.objects.filter(quantity__lt=0).count() == 0
    # Every approved count posted exactly one entry per line.
    for count in CycleCount.objects.filter(status="approved"):
        assert LedgerEntry.objects.filter(count_line__count=count).count() == count.lines.count()
    assert refused < 120
    assert CycleCount.objects.filter(status="approved").exists(), "the walk should reach approvals"
