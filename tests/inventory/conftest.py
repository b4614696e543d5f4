from decimal import Decimal

import pytest

from apps.inventory.models import CycleCount
from apps.inventory.services import cycle_count_create
from tests.inventory.factories import ItemFactory, LocationFactory, WarehouseFactory, stock


@pytest.fixture
def people(make_user):
    """One person per part of the journey: two counters, a controller, an approver, an auditor."""
    return {
        "counter": make_user("associate", username="counter"),
        "recounter": make_user("associate", username="recounter"),
        "controller": make_user("inventory_controller", username="controller"),
        "approver": make_user("approver", username="approver"),
        "auditor": make_user("auditor", username="auditor"),
    }


@pytest.fixture
def warehouse(db):
    return WarehouseFactory(code="WH1")


@pytest.fixture
def shelf(warehouse):
    """Three items in three bins of one zone: 100, 20 and 0 on hand, unit cost 10.00."""
    bins = [LocationFactory(warehouse=warehouse, zone="A", bin=f"0{n}") for n in range(1, 4)]
    items = [ItemFactory(sku=f"SKU-{n}", unit_cost=Decimal("10.00"), abc_class="B") for n in range(1, 4)]
    for item, location, quantity in zip(items, bins, (100, 20, 0), strict=True):
        stock(item, location, quantity)
    return {"items": items, "bins": bins}


@pytest.fixture
def open_count(people, shelf):
    """A count of the shelf assigned to the counter, not started."""
    (count,) = cycle_count_create(
        actor=people["controller"],
        kind=CycleCount.Kind.LOCATION,
        location_ids=[b.pk for b in shelf["bins"]],
        counter_id=people["counter"].pk,
    )
    return count


def entries(count, quantities):
    """``{"SKU-1": "98"}`` → service entries naming lines by SKU."""
    return [{"sku": sku, "quantity": quantity} for sku, quantity in quantities.items()]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Report files go to a temporary folder."""
    settings.MEDIA_ROOT = tmp_path
