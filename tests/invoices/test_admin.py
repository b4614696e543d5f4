from datetime import date
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.invoices import services
from apps.invoices.models import Invoice, Payment
from tests.invoices.factories import PurchaseOrderLineFactory, ReceiptFactory

pytestmark = pytest.mark.django_db
S = Invoice.Status
LIST = "admin:invoices_invoice_changelist"


def login(client, user):
    client.force_login(user)
    return client


def many_invoices(associate, count):
    line = PurchaseOrderLineFactory(quantity=Decimal("100000"))
    ReceiptFactory(po_line=line, quantity_received=Decimal("100000"))
    invoices = []
    for n in range(count):
        invoice = services.invoice_create(
            actor=associate,
            vendor_id=line.purchase_order.vendor_id,
            number=f"BULK-{n}",
            invoice_date=date(2026, 10, 1 + n % 28),
            purchase_order=line.purchase_order,
            lines=[{"po_line": line, "quantity": "1", "unit_price": f"{10 + n}.00"}],
        )
        invoices.append(services.invoice_submit(invoice_id=invoice.pk, actor=associate))
    return invoices


@pytest.mark.parametrize("count", [5, 40])
def test_invoice_list_queries_do_not_grow_with_rows(client, associate, django_assert_max_num_queries, count):
    many_invoices(associate, count)
    login(client, associate)

    with django_assert_max_num_queries(14):
        response = client.get(reverse(LIST))

    assert response.status_code == 200
    assert response.content.count(b'class="action-select"') == count
    assert b"AP aging" in response.content


def test_list_filters_search_and_date_navigation(client, associate):
    many_invoices(associate, 3)
    exception = services.invoice_create(
        actor=associate,
        vendor_id=Invoice.objects.first().vendor_id,
        number="NOPO-1",
        invoice_date=date(2025, 5, 5),
        lines=[{"description": "Consulting", "quantity": "1", "unit_price": "99.00"}],
    )
    services.invoice_submit(invoice_id=exception.pk, actor=associate)
    login(client, associate)

    page = client.get(reverse(LIST) + "?exception_reason=no_po").content.decode()
    assert "NOPO-1" in page and "BULK-0" not in page
    page = client.get(reverse(LIST) + "?q=BULK-1").content.decode()
    assert "BULK-1" in page and "BULK-2" not in page
    page = client.get(reverse(LIST) + "?overdue=yes").content.decode()
    assert "NOPO-1" in page
    page = client.get(reverse(LIST) + "?invoice_date__year=2025").content.decode()
    assert "NOPO-1" in page and "BULK-0" not in page
    assert "invoice_date__year=2026" in client.get(reverse(LIST)).content.decode()


def test_the_exception_queue_lists_only_exceptions(client, associate, approver):
    many_invoices(associate, 2)
    line = PurchaseOrderLineFactory()
    ReceiptFactory(po_line=line)
    bad = services.invoice_create(
        actor=associate,
        vendor_id=line.purchase_order.vendor_id,
        number="OVER-1",
        invoice_date=date(2026, 10, 1),
        purchase_order=line.purchase_order,
        lines=[{"po_line": line, "quantity": "150", "unit_price": "10.00"}],
    )
    services.invoice_submit(invoice_id=bad.pk, actor=associate)
    login(client, approver)

    page = client.get(reverse("admin:invoices_invoiceexception_changelist")).content.decode()

    assert "OVER-1" in page and "BULK-0" not in page
    assert "Quantity above ordered" in page


def test_entering_an_invoice_with_lines_in_the_admin(client, associate, po_line):
    login(client, associate)
    order = po_line.purchase_order
    response = client.post(
        reverse("admin:invoices_invoice_add"),
        {
            "vendor": order.vendor_id,
            "number": "ADM-1",
            "purchase_order": order.pk,
            "invoice_date": "2026-10-01",
            "due_date": "",
            "currency": "",
            "tax": "10.00",
            "notes": "",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-po_line": po_line.pk,
            "lines-0-description": "Brackets",
            "lines-0-quantity": "100",
            "lines-0-unit_price": "10.00",
            **{f"{p}-TOTAL_FORMS": "0" for p in ("payments", "credit_memos", "dispute_contacts")},
            **{f"{p}-INITIAL_FORMS": "0" for p in ("payments", "credit_memos", "dispute_contacts")},
        },
    )
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.non_form_errors()
    invoice = Invoice.objects.get(number="ADM-1")
    assert invoice.total == Decimal("1010.00")
    assert invoice.created_by == associate
    assert invoice.due_date == date(2026, 10, 31)


def test_a_refused_entry_shows_the_reason_and_saves_nothing(client, associate, po_line):
    login(client, associate)
    order = po_line.purchase_order
    response = client.post(
        reverse("admin:invoices_invoice_add"),
        {
            "vendor": order.vendor_id,
            "number": "ADM-2",
            "purchase_order": order.pk,
            "invoice_date": "2026-10-01",
            "due_date": "2026-09-01",
            "tax": "0",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-po_line": po_line.pk,
            "lines-0-description": "Brackets",
            "lines-0-quantity": "1",
            "lines-0-unit_price": "10.00",
            **{f"{p}-TOTAL_FORMS": "0" for p in ("payments", "credit_memos", "dispute_contacts")},
            **{f"{p}-INITIAL_FORMS": "0" for p in ("payments", "credit_memos", "dispute_contacts")},
        },
    )
    assert response.status_code == 200
    assert "The due date cannot be before the invoice date." in response.content.decode()
    assert not Invoice.objects.exists()


def test_the_approve_action_asks_for_confirmation_then_approves(client, approver, submitted, po_line):
    invoice = submitted(po_line)
    login(client, approver)
    data = {"action": "invoice_approve_action", ACTION_CHECKBOX_NAME: [invoice.pk]}

    confirm = client.post(reverse(LIST), data)
    assert confirm.status_code == 200
    assert "Approve selected invoices for payment" in confirm.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == S.MATCHED

    client.post(reverse(LIST), {**data, "confirmed": "yes"})
    assert Invoice.objects.get(pk=invoice.pk).status == S.APPROVED


def test_the_approve_action_refuses_self_approval_with_a_message(client, make_user, po_line, enter):
    boss = make_user("approver", is_superuser=True)
    invoice = enter(po_line, actor=boss)
    services.invoice_submit(invoice_id=invoice.pk, actor=boss)
    login(client, boss)

    response = client.post(
        reverse(LIST),
        {"action": "invoice_approve_action", ACTION_CHECKBOX_NAME: [invoice.pk], "confirmed": "yes"},
        follow=True,
    )

    assert "a different person must approve" in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == S.MATCHED
    assert AuditEvent.objects.filter(action="invoice.approved", outcome="denied", target_id=str(invoice.pk)).exists()


def test_associates_do_not_get_the_approve_action(client, associate, submitted, po_line):
    invoice = submitted(po_line)
    login(client, associate)
    page = client.get(reverse(LIST)).content.decode()
    assert 'value="invoice_approve_action"' not in page
    assert 'value="invoice_submit_action"' in page
    client.post(
        reverse(LIST), {"action": "invoice_approve_action", ACTION_CHECKBOX_NAME: [invoice.pk], "confirmed": "yes"}
    )
    assert Invoice.objects.get(pk=invoice.pk).status == S.MATCHED


def test_override_needs_a_reason_on_the_confirmation_page(client, approver, submitted, po_line):
    invoice = submitted(po_line, "101")
    login(client, approver)
    data = {"action": "invoice_override_match_action", ACTION_CHECKBOX_NAME: [invoice.pk], "confirmed": "yes"}

    again = client.post(reverse("admin:invoices_invoiceexception_changelist"), data)
    assert "Override reason is required." in again.content.decode()

    client.post(reverse("admin:invoices_invoiceexception_changelist"), {**data, "reason": "One spare"})
    assert Invoice.objects.get(pk=invoice.pk).match_result == Invoice.MatchResult.OVERRIDDEN


def test_recording_a_payment_in_the_admin_and_refusing_too_much(client, associate, approver, submitted, po_line):
    invoice = submitted(po_line)
    services.invoice_approve(invoice_id=invoice.pk, actor=approver)
    services.invoice_schedule(invoice_id=invoice.pk, actor=approver)
    login(client, associate)
    add = reverse("admin:invoices_payment_add")
    assert 'value="1000.00"' in client.get(add + f"?invoice={invoice.pk}").content.decode()

    too_much = client.post(
        add,
        {"invoice": invoice.pk, "payment_date": "2026-11-01", "amount": "1000.01", "method": "ach", "reference": "A"},
    )
    assert too_much.status_code == 200
    assert "more than the open balance" in too_much.content.decode()
    assert not Payment.objects.exists()

    paid = client.post(
        add,
        {"invoice": invoice.pk, "payment_date": "2026-11-01", "amount": "1000.00", "method": "ach", "reference": "A"},
    )
    assert paid.status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).status == S.PAID


def test_the_invoice_page_shows_lines_match_detail_and_trail(client, approver, submitted, po_line):
    invoice = submitted(po_line, "101")
    login(client, approver)
    page = client.get(reverse("admin:invoices_invoice_change", args=[invoice.pk])).content.decode()
    assert "invoiced 101 of 100 ordered" in page
    assert "Events (approvals, transitions)" in page


def test_the_aging_page_and_report_run(
    client, approver, make_user, submitted, po_line, monkeypatch, django_capture_on_commit_callbacks
):
    from apps.invoices.tasks import generate_aging_report

    monkeypatch.setattr(generate_aging_report, "delay", lambda *args: generate_aging_report.apply(args=args))
    submitted(po_line)
    login(client, approver)
    url = reverse("admin:invoices_invoice_aging") + "?as_of=2026-11-30"

    page = client.get(url).content.decode()
    assert "1000.00" in page and "AP aging as of 30 Nov 2026" in page

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url)
    response = client.get(reverse("admin:invoices_agingreportrun_changelist"))
    run = response.context["cl"].result_list[0]
    assert run.status == "done"
    download_url = reverse("admin:reports_center_download", args=["ap_aging", run.pk, "csv"])
    assert download_url in response.content.decode()
    assert client.get(download_url).status_code == 403  # the file is an export: export_records
    login(client, make_user("auditor"))
    download = client.get(download_url)
    assert download.status_code == 200 and b"1000.00" in download.content


def test_auditors_see_the_aging_page_but_cannot_start_runs(client, make_user):
    login(client, make_user("auditor"))
    page = client.get(reverse("admin:invoices_invoice_aging")).content.decode()
    assert "Generate CSV and XLSX report run" not in page
