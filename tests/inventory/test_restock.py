"""A processed return with restocked lines puts the items back in stock: one ledger receipt per line."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from apps.core.models import AuditEvent
from apps.inventory.models import LedgerEntry, StockLevel
from apps.inventory.restock import restock_returned_lines
from apps.refunds import services as refunds
from tests.inventory.factories import ItemFactory, LocationFactory, stock
from tests.refunds.factories import (
    ApproverLimitFactory,
    OrderFactory,
    OrderLineFactory,
    PolicyFactory,
    ReasonCodeFactory,
)


@pytest.fixture
def shop(make_user, warehouse):
    """An order of three SKUs, two kept in inventory (one with stock in two bins), and the people."""
    PolicyFactory()
    ReasonCodeFactory()
    associate, approver = make_user("associate"), make_user("approver")
    ApproverLimitFactory(user=approver, max_amount=Decimal("1000.00"))
    lamp, chair = ItemFactory(sku="LAMP-1"), ItemFactory(sku="CHAIR-1")
    small, big = LocationFactory(warehouse=warehouse, code="WH1-A-01"), LocationFactory(warehouse=warehouse)
    stock(lamp, small, 2)
    stock(lamp, big, 10)
    stock(chair, small, 1)
    order = OrderFactory()
    lines = {
        sku: OrderLineFactory(order=order, sku=sku, quantity=3, unit_price=Decimal("10.00"))
        for sku in ("LAMP-1", "CHAIR-1", "GIFT-CARD")
    }
    return {"associate": associate, "approver": approver, "order": order, "lines": lines, "bins": (small, big)}


def process_return(shop, dispositions: dict[str, str], quantity=2):
    case = refunds.case_request(
        actor=shop["associate"],
        order_id=shop["order"].pk,
        type="return",
        amount="10.00",
        reason_code="damaged",
        return_lines=[{"order_line_id": shop["lines"][sku].pk, "quantity": quantity} for sku in dispositions],
    )
    refunds.case_approve(case_id=case.pk, actor=shop["approver"])
    for line in case.return_lines.select_related("order_line"):
        refunds.return_line_inspect(
            line_id=line.pk, actor=shop["associate"], condition="new", disposition=dispositions[line.order_line.sku]
        )
    return refunds.case_process(case_id=case.pk, actor=shop["associate"])


def ledger_total(item_sku, location):
    entries = LedgerEntry.objects.filter(item__sku=item_sku, location=location)
    return entries.aggregate(total=Sum("quantity"))["total"]


def test_restocked_lines_post_one_receipt_each_to_the_fullest_bin(shop):
    small, big = shop["bins"]

    case = process_return(shop, {"LAMP-1": "restock", "CHAIR-1": "scrap"})

    restock = LedgerEntry.objects.get(kind=LedgerEntry.Kind.RETURN_RESTOCK)
    line = case.return_lines.get(order_line__sku="LAMP-1")
    assert (restock.item.sku, restock.location, restock.quantity) == ("LAMP-1", big, Decimal("2"))
    assert restock.reference == f"{case.reference} line {line.pk}" and restock.posted_by == shop["associate"]
    assert (
        StockLevel.objects.get(item__sku="LAMP-1", location=big).quantity
        == Decimal("12")
        == ledger_total("LAMP-1", big)
    )
    assert StockLevel.objects.get(item__sku="CHAIR-1", location=small).quantity == Decimal("1")  # scrapped
    line.refresh_from_db()
    assert line.stock_posted_at is not None

    refunds.case_process(case_id=case.pk, actor=shop["associate"])  # a repeated "process" changes nothing
    restock_returned_lines(case=case, lines=[line], actor=shop["associate"])  # nor does the handler again
    assert LedgerEntry.objects.filter(kind=LedgerEntry.Kind.RETURN_RESTOCK).count() == 1
    assert StockLevel.objects.get(item__sku="LAMP-1", location=big).quantity == Decimal("12")


def test_the_returns_bin_from_settings_is_used_when_set(shop, settings):
    small, _ = shop["bins"]
    settings.INVENTORY_RETURNS_LOCATION = small.code

    process_return(shop, {"CHAIR-1": "restock"}, quantity=1)

    assert StockLevel.objects.get(item__sku="CHAIR-1", location=small).quantity == Decimal("2")
    assert ledger_total("CHAIR-1", small) == Decimal("2")


def test_items_the_inventory_does_not_keep_are_not_restocked_and_the_return_still_completes(shop):
    case = process_return(shop, {"GIFT-CARD": "restock"})

    assert case.status == "processed"
    assert not LedgerEntry.objects.filter(kind=LedgerEntry.Kind.RETURN_RESTOCK).exists()
    event = AuditEvent.objects.get(action="stock.return_not_restocked")
    assert "GIFT-CARD" in event.message and event.actor == shop["associate"]
