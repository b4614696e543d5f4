from datetime import date
from decimal import Decimal

import pytest

from apps.invoices import services
from tests.invoices.factories import PurchaseOrderLineFactory, ReceiptFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Report files go to a temporary folder, not the portal's media folder."""
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def associate(make_user):
    return make_user("associate")


@pytest.fixture
def approver(make_user):
    return make_user("approver")


@pytest.fixture
def approver2(make_user):
    return make_user("approver")


@pytest.fixture
def po_line(db):
    """An order line of 100 units at 10.00, all 100 received in good condition."""
    line = PurchaseOrderLineFactory()
    ReceiptFactory(po_line=line)
    return line


@pytest.fixture
def enter(associate):
    """enter(po_line, quantity, price) — a draft invoice against the line, entered by the associate."""

    def make(po_line=None, quantity="100", price="10.00", *, number=None, actor=None, tax="0", **fields):
        make.count += 1
        vendor = po_line.purchase_order.vendor if po_line else fields.pop("vendor")
        return services.invoice_create(
            actor=actor or associate,
            vendor_id=vendor.pk,
            number=number or f"INV-{make.count}",
            invoice_date=fields.pop("invoice_date", date(2026, 10, 1)),
            purchase_order=po_line.purchase_order if po_line else None,
            tax=Decimal(tax),
            lines=[{"po_line": po_line, "description": "Brackets", "quantity": quantity, "unit_price": price}],
            **fields,
        )

    make.count = 0
    return make


@pytest.fixture
def submitted(enter, associate):
    """submitted(po_line, quantity, price) — entered and submitted by the associate."""

    def make(*args, **kwargs):
        invoice = enter(*args, **kwargs)
        return services.invoice_submit(invoice_id=invoice.pk, actor=associate)

    return make
