"""A cycle count from scheduling through blind entry, a recount by a second person, and approval."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def journey_stock(demo_users):
    """Two items in a bin of their own: 4817 and 250 on hand, through the ledger."""
    from apps.inventory.models import Item, Location, Warehouse
    from tests.inventory.factories import stock

    warehouse = Warehouse.objects.create(code="DC-EAST", name="East distribution centre")
    location = Location.objects.create(warehouse=warehouse, zone="Z", bin="01", code="DC-EAST-Z-01")
    first = Item.objects.create(sku="JRN-1", description="Journey gasket", abc_class="A", unit_cost=Decimal("4.00"))
    second = Item.objects.create(sku="JRN-2", description="Journey valve", abc_class="C", unit_cost=Decimal("1.00"))
    stock(first, location, 4817)
    stock(second, location, 250)
    return {"location": location, "items": [first, second]}


def _switch_to(page, username):
    page.context.clear_cookies()
    log_in(page, username)
    expect(page).to_have_url(re.compile(r"/admin/$"))


def _open_my_count(page, link):
    page.goto("/admin/inventory/cyclecount/?q=JRN-1")
    page.get_by_role("link", name=link, exact=True).first.click()


def test_count_from_schedule_to_approval_with_a_blind_recount(page, journey_stock):
    from apps.inventory.models import CycleCount, LedgerEntry, StockLevel

    # The controller schedules an ad-hoc count of the two items for the associate.
    _switch_to(page, "inventory_controller")
    page.goto("/admin/inventory/cyclecount/add/")
    page.get_by_label("Kind").select_option("item")
    page.get_by_label("SKUs").fill("JRN-1, JRN-2")
    page.get_by_label("Counter").select_option(label="associate")
    page.get_by_role("button", name="Create count").click()
    expect(page.locator(".messagelist")).to_contain_text("Created CC-")

    # The associate counts blind: nothing on the page gives 4817 or 250 away.
    _switch_to(page, "associate")
    _open_my_count(page, "Count")
    page.get_by_role("button", name="Start counting").click()
    expect(page.get_by_test_id("count-status")).to_have_text("counting")
    content = page.content()
    assert "4817" not in content and "250" not in content
    first = page.get_by_label("Quantity of JRN-1 at DC-EAST-Z-01")
    expect(first).to_be_focused()
    first.fill("4700")
    first.press("Enter")  # moves to the next line instead of submitting
    second = page.get_by_label("Quantity of JRN-2 at DC-EAST-Z-01")
    expect(second).to_be_focused()
    second.fill("250")
    page.get_by_role("button", name="Save and submit").click()
    expect(page.locator(".messagelist")).to_contain_text("Some lines need a recount by someone else.")
    assert "4817" not in page.content()

    # A second associate recounts the one line out of tolerance, blind to both numbers.
    _switch_to(page, "associate2")
    _open_my_count(page, "Recount")
    expect(page.get_by_label("Quantity of JRN-2 at DC-EAST-Z-01")).to_have_count(0)
    content = page.content()
    assert "4817" not in content and "4700" not in content
    page.get_by_label("Quantity of JRN-1 at DC-EAST-Z-01").fill("4810")
    page.get_by_role("button", name="Save and submit").click()
    expect(page.locator(".messagelist")).to_contain_text("submitted.")

    # The approver sees expected, counted, recount, variance and value side by side, and approves.
    _switch_to(page, "approver")
    _open_my_count(page, "Review")
    row = page.locator('#review-lines tr[data-sku="JRN-1"]')
    for value in ("4817.000", "4700.000", "4810.000", "-7.000", "-28.00"):
        expect(row).to_contain_text(value)
    page.get_by_role("button", name="Approve and post adjustments").click()
    expect(page.locator(".messagelist")).to_contain_text("approved: adjustments posted to the stock ledger")

    count = CycleCount.objects.get(lines__item__sku="JRN-1")
    assert count.status == "approved" and count.approved_by.username == "approver"
    assert StockLevel.objects.get(item__sku="JRN-1").quantity == Decimal("4810")
    assert StockLevel.objects.get(item__sku="JRN-2").quantity == Decimal("250")
    kinds = dict(LedgerEntry.objects.filter(count_line__count=count).values_list("item__sku", "kind"))
    assert kinds == {"JRN-1": "count_adjustment", "JRN-2": "count_confirmation"}
    assert page.console_errors == []
