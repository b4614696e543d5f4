"""Demo data: realistic volumes, rules hold, and seeding twice changes nothing."""

import pytest

from apps.core.services.demo import demo_seed
from apps.inventory import selectors
from apps.inventory.models import CycleCount, Item, LedgerEntry, Location, ReorderAlert
from apps.inventory.services.alerts import reorder_alerts_refresh


@pytest.mark.django_db
def test_demo_inventory_is_realistic_consistent_and_idempotent(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        demo_seed(password="demo-password-1")
    items, ledger = Item.objects.count(), LedgerEntry.objects.count()

    assert 780 <= items <= 820
    assert Location.objects.values("warehouse").distinct().count() == 3
    assert set(Item.objects.values_list("abc_class", flat=True)) == {"A", "B", "C"}
    approved = CycleCount.objects.filter(status="approved")
    assert approved.count() > 50
    assert not approved.filter(approved_by=models_f("counter")).exists()
    assert LedgerEntry.objects.filter(kind="count_adjustment", value__lt=0).exists()  # shrinkage
    assert selectors.ledger_matches_stock_levels() == []
    assert 1 <= ReorderAlert.objects.filter(resolved_at__isnull=True).count() <= 30
    assert set(CycleCount.objects.filter(status__in=CycleCount.OPEN).values_list("status", flat=True)) == {
        "scheduled",
        "counting",
        "submitted",
    }

    with django_capture_on_commit_callbacks(execute=False):
        demo_seed(password="demo-password-1")
        reorder_alerts_refresh()
    assert (Item.objects.count(), LedgerEntry.objects.count()) == (items, ledger)


def models_f(name):
    from django.db.models import F

    return F(name)
