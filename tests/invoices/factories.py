from datetime import date, timedelta
from decimal import Decimal

import factory

from apps.invoices.models import GoodsReceipt, PurchaseOrder, PurchaseOrderLine
from tests.vendors.factories import VendorFactory


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrder

    vendor = factory.SubFactory(VendorFactory)
    number = factory.Sequence(lambda n: f"PO-{n:05d}")
    order_date = date(2026, 9, 1)
    currency = factory.LazyAttribute(lambda o: o.vendor.default_currency)


class PurchaseOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrderLine

    purchase_order = factory.SubFactory(PurchaseOrderFactory)
    line_number = factory.Sequence(lambda n: n + 1)
    description = "Steel brackets"
    quantity = Decimal("100")
    unit_price = Decimal("10.00")
    promised_date = factory.LazyAttribute(lambda o: o.purchase_order.order_date + timedelta(days=14))


class ReceiptFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoodsReceipt

    po_line = factory.SubFactory(PurchaseOrderLineFactory)
    received_date = date(2026, 9, 10)
    quantity_received = Decimal("100")
    quantity_damaged = Decimal("0")
