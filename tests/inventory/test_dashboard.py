"""Inventory on the dashboard: count accuracy and shrinkage by month, counts assigned and awaiting approval."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.core.dashboard import Period
from apps.inventory import dashboard
from apps.inventory.models import CycleCount, CycleCountLine, LedgerEntry
from tests.inventory.factories import ItemFactory, LocationFactory

S = CycleCount.Status


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def place(db):
    location = LocationFactory()
    return {"location": location, "warehouse": location.warehouse, "item": ItemFactory()}


def _count(place, number, status, **fields):
    return CycleCount.objects.create(
        number=number, warehouse=place["warehouse"], status=status, due_date=timezone.localdate(), **fields
    )


def _lines(count, place, *within):
    for first_time_right in within:
        CycleCountLine.objects.create(
            count=count, item=ItemFactory(), location=place["location"], first_count_within_tolerance=first_time_right
        )


def _adjustment(place, value, currency, days_ago, kind=LedgerEntry.Kind.COUNT_ADJUSTMENT):
    """A ledger entry of ``value`` (10.00 a unit); a count adjustment hangs on a count line of its own."""
    quantity = Decimal(value) / 10
    line = None
    if kind == LedgerEntry.Kind.COUNT_ADJUSTMENT:
        holder = CycleCount.objects.filter(number="K-ADJ").first() or _count(place, "K-ADJ", S.COUNTING)
        line = CycleCountLine.objects.create(count=holder, item=ItemFactory(), location=place["location"])
    return LedgerEntry.objects.create(
        item=line.item if line else place["item"],
        location=place["location"],
        kind=kind,
        quantity=quantity,
        balance_after=abs(quantity),
        unit_cost=Decimal("10.00"),
        value=Decimal(value),
        currency=currency,
        count_line=line,
        posted_at=timezone.now() - timedelta(days=days_ago),
    )


@pytest.fixture
def counted(place):
    """Approved 2 days ago: 3 of 4 lines right first time; 40 days ago: 1 of 2. Adjustments: -50 and +20 USD,
    -30 EUR in the last 3 days, and a receipt that is no adjustment."""
    now = timezone.now()
    _lines(_count(place, "K1", S.APPROVED, approved_at=now - timedelta(days=2)), place, True, True, True, False)
    _lines(_count(place, "K2", S.APPROVED, approved_at=now - timedelta(days=40)), place, True, False)
    _adjustment(place, "-50.00", "USD", 1)
    _adjustment(place, "20.00", "USD", 1)
    _adjustment(place, "-30.00", "EUR", 3)
    _adjustment(place, "100.00", "USD", 1, kind=LedgerEntry.Kind.RECEIPT)


def _panel(days):
    return dashboard.accuracy_and_shrinkage_panel(period=Period(days=days, today=timezone.localdate()))


def test_count_accuracy_and_shrinkage_per_currency(counted):
    figures = _panel(30)

    assert [(f["label"], f["value"]) for f in figures["summary"]] == [
        ("Count accuracy (3 of 4 lines right first time)", "75.0 %"),
        ("Shrinkage (1 count adjustments)", "30.00 EUR"),
        ("Shrinkage (2 count adjustments)", "50.00 USD"),
    ]
    approved = timezone.localdate() - timedelta(days=2)
    assert figures["chart"]["datasets"][0]["data"][figures["chart"]["labels"].index(f"{approved:%b %Y}")] == "75.0"


def test_a_longer_period_takes_older_counts_in(counted):
    figures = _panel(90)
    assert figures["summary"][0] == {
        "label": "Count accuracy (4 of 6 lines right first time)",
        "value": "66.7 %",
        "url": "/admin/inventory/cyclecount/?status__exact=approved",
    }
    older = timezone.localdate() - timedelta(days=40)
    row = next(row for row in figures["table"]["rows"] if row[0] == f"{older:%b %Y}")
    assert row[1] != "—"


def test_the_shrinkage_link_lists_exactly_the_adjustments_counted(client, make_user, counted):
    client.force_login(make_user("inventory_controller"))
    url = _panel(30)["summary"][1]["url"]
    listed = client.get(url).context["cl"].result_list
    assert sorted(entry.value for entry in listed) == [Decimal("-50.00"), Decimal("-30.00"), Decimal("20.00")]


def test_counts_assigned_to_me_and_awaiting_approval(client, make_user, place):
    associate, other = make_user("associate"), make_user("associate")
    _count(place, "K3", S.COUNTING, counter=associate)
    _count(place, "K4", S.RECOUNT, counter=other, recounter=associate)
    _count(place, "K5", S.SCHEDULED, counter=other)
    _count(place, "K6", S.APPROVED, counter=associate)
    _count(place, "K7", S.SUBMITTED, counter=other)
    _count(place, "K8", S.RECOUNT, counter=associate, recounter=other)  # counted it: the recount is not mine

    client.force_login(associate)
    work = {q["key"]: q for q in client.get("/admin/").context["dashboard"]["work"]}
    assert work["inventory.assigned"]["count"] == 2 and "inventory.to_approve" not in work
    listed = client.get(work["inventory.assigned"]["url"]).context["cl"].result_list
    assert {count.number for count in listed} == {"K3", "K4"}

    client.force_login(make_user("inventory_controller"))
    work = {q["key"]: q for q in client.get("/admin/").context["dashboard"]["work"]}
    assert work["inventory.to_approve"]["count"] == 1
    assert [c.number for c in client.get(work["inventory.to_approve"]["url"]).context["cl"].result_list] == ["K7"]
