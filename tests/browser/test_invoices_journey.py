"""An invoice from entry through a match exception, override, approval and payment; then the AP aging report."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from apps.invoices.models import Invoice
from tests.browser.conftest import log_in
from tests.invoices.factories import PurchaseOrderFactory, PurchaseOrderLineFactory, ReceiptFactory
from tests.vendors.factories import VendorFactory

pytestmark = pytest.mark.browser


def run_action(page, description, reason=None, confirm=None):
    page.locator("select[name=action]").select_option(label=description)
    page.get_by_role("button", name="Go").click()
    expect(page.locator("body.confirm-transition")).to_have_count(1)
    if reason:
        page.locator("#id_reason").fill(reason)
    page.locator(".submit-row input[type=submit]").click()
    if confirm:
        expect(page.locator(".messagelist")).to_contain_text(confirm)


def log_out(page):
    page.locator("#logout-form button").click()


def test_invoice_from_entry_through_exception_override_approval_and_payment(page, demo_users):
    today = timezone.localdate()
    associate = get_user_model().objects.get(username="associate")
    vendor = VendorFactory(code="ACME-01", legal_name="Acme Industrial Supply", payment_terms_days=30)
    order = PurchaseOrderFactory(vendor=vendor, number="PO-4711", order_date=today - timedelta(days=40))
    line = PurchaseOrderLineFactory(
        purchase_order=order, line_number=1, quantity=Decimal("100"), unit_price=Decimal("10.00"), created_by=associate
    )
    ReceiptFactory(po_line=line, received_date=today - timedelta(days=30), quantity_received=Decimal("100"))
    invoice_date = today - timedelta(days=35)  # due 5 days ago: overdue 1-30

    # The associate enters the invoice: 105 units billed against 100 ordered.
    log_in(page, "associate")
    page.goto("/admin/invoices/invoice/add/")
    page.locator(".field-vendor .select2-selection").click()
    page.locator(".select2-search__field").fill("ACME")
    page.locator(".select2-results__option", has_text="ACME-01").click()
    page.locator("#id_number").fill("INV-2026-001")
    page.locator("#id_purchase_order").fill(str(order.pk))
    page.locator("#id_invoice_date").fill(invoice_date.isoformat())
    page.locator("#id_tax").fill("0.00")
    page.locator("#lines-group .add-row a").click()
    page.locator("#id_lines-0-po_line").fill(str(line.pk))
    page.locator("#id_lines-0-description").fill("Steel brackets")
    page.locator("#id_lines-0-quantity").fill("105")
    page.locator("#id_lines-0-unit_price").fill("10.00")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    invoice = Invoice.objects.get(number="INV-2026-001")
    assert invoice.due_date == invoice_date + timedelta(days=30)

    # ... and submits it: the match puts it into the exception queue.
    page.locator(f"input[name=_selected_action][value='{invoice.pk}']").check()
    run_action(page, "Submit selected invoices", confirm="Submitted: 1 invoice")
    expect(page.locator("#result_list")).to_contain_text("Match exception")
    log_out(page)

    # The approver works the exception queue: override with a reason, then approve and schedule.
    log_in(page, "approver")
    page.goto("/admin/invoices/invoiceexception/")
    expect(page.locator("#result_list")).to_contain_text("INV-2026-001")
    expect(page.locator("#result_list")).to_contain_text("Quantity above ordered")
    page.locator(f"input[name=_selected_action][value='{invoice.pk}']").check()
    run_action(
        page,
        "Override match exception of selected invoices",
        reason="Five spare units accepted by the warehouse",
        confirm="Overridden: 1",
    )
    page.goto("/admin/invoices/invoice/")
    page.locator(f"input[name=_selected_action][value='{invoice.pk}']").check()
    run_action(page, "Approve selected invoices for payment", confirm="Approved: 1 invoice")
    page.locator(f"input[name=_selected_action][value='{invoice.pk}']").check()
    run_action(page, "Schedule selected invoices for payment", confirm="Scheduled: 1 invoice")

    # The aging report shows it 1-30 days past due.
    page.goto("/admin/invoices/invoice/ap-aging/")
    row = page.locator("#aging-table tbody tr[data-vendor='ACME-01']")
    expect(row).to_contain_text("1050.00")
    expect(page.locator("#aging-table tfoot tr[data-currency='USD']")).to_contain_text("1050.00")
    log_out(page)

    # The associate records the payment from the invoice page.
    log_in(page, "associate")
    page.goto(f"/admin/invoices/invoice/{invoice.pk}/change/")
    expect(page.locator(".field-exception_reasons_display")).to_contain_text("Quantity above ordered")
    page.get_by_role("link", name="Record payment").click()
    expect(page.locator("#id_amount")).to_have_value("1050.00")
    page.locator("#id_reference").fill("ACH-0001")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")

    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.PAID
    assert invoice.open_balance == Decimal("0.00")
    page.goto("/admin/invoices/invoice/ap-aging/")
    expect(page.locator("#aging-table")).to_contain_text("Nothing open as of this day.")
    page.locator("#id_as_of").fill((today - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#aging-table tbody tr[data-vendor='ACME-01']")).to_contain_text("1050.00")
    assert page.console_errors == []
