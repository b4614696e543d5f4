from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import AuditEvent
from apps.invoices import services
from apps.invoices.models import ExceptionReason, Invoice, MatchMode, Payment
from apps.vendors import services as vendor_services
from tests.invoices.factories import PurchaseOrderFactory, PurchaseOrderLineFactory, ReceiptFactory
from tests.vendors.factories import VendorFactory

pytestmark = pytest.mark.django_db
S = Invoice.Status
PAST = date(2026, 11, 1)


def approved(invoice, approver):
    return services.invoice_approve(invoice_id=invoice.pk, actor=approver)


def scheduled(invoice, approver):
    approved(invoice, approver)
    return services.invoice_schedule(invoice_id=invoice.pk, actor=approver)


# --- Entering -----------------------------------------------------------------------------------


def test_due_date_defaults_to_invoice_date_plus_vendor_terms(enter, po_line):
    po_line.purchase_order.vendor.payment_terms_days = 45
    po_line.purchase_order.vendor.save()

    invoice = enter(po_line, tax="12.50")

    assert invoice.due_date == date(2026, 10, 1) + timedelta(days=45)
    assert invoice.subtotal == Decimal("1000.00")
    assert invoice.total == Decimal("1012.50")
    assert invoice.currency == po_line.purchase_order.currency
    assert invoice.status == S.DRAFT
    assert invoice.created_by is not None


def test_a_given_due_date_is_kept(enter, po_line):
    assert enter(po_line, due_date=date(2026, 10, 5)).due_date == date(2026, 10, 5)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quantity": "-1"}, "lines"),
        ({"quantity": "0"}, "lines"),
        ({"price": "-0.01"}, "lines"),
        ({"tax": "-1"}, "tax"),
        ({"due_date": date(2026, 9, 30)}, "due_date"),
        ({"currency": "EUR"}, "currency"),
        ({"currency": "XXX"}, "currency"),
        ({"number": "  "}, "number"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_is_saved(enter, po_line, change, field):
    with pytest.raises(ValidationError) as refused:
        enter(po_line, **change)

    assert field in refused.value.message_dict
    assert Invoice.objects.count() == 0


def test_an_unknown_vendor_is_refused(associate):
    with pytest.raises(ValidationError) as refused:
        services.invoice_create(actor=associate, vendor_id=999999, number="X", invoice_date=date(2026, 10, 1), lines=[])
    assert refused.value.message_dict == {"vendor": ["Unknown vendor."]}


def test_a_purchase_order_of_another_vendor_is_refused(po_line, associate):
    other = VendorFactory()
    with pytest.raises(ValidationError) as refused:
        services.invoice_create(
            actor=associate,
            vendor_id=other.pk,
            number="X",
            invoice_date=date(2026, 10, 1),
            purchase_order=po_line.purchase_order,
            lines=[],
        )
    assert "purchase_order" in refused.value.message_dict


def test_someone_without_add_permission_cannot_enter_invoices(make_user, po_line, enter):
    with pytest.raises(PermissionDenied):
        enter(po_line, actor=make_user("auditor"))


def test_invoice_number_is_unique_per_vendor_except_cancelled(enter, po_line, associate):
    first = enter(po_line, number="A-1")
    with pytest.raises(ValidationError) as refused:
        enter(po_line, number="A-1")
    assert "number" in refused.value.message_dict

    services.invoice_cancel(invoice_id=first.pk, actor=associate, reason="Entered twice")
    again = enter(po_line, number="A-1")

    assert again.pk != first.pk
    other_vendor_line = PurchaseOrderLineFactory()
    assert enter(other_vendor_line, number="A-1").number == "A-1"


def test_the_database_refuses_a_second_live_invoice_number(enter, po_line):
    first = enter(po_line, number="A-1")
    clone = Invoice.objects.get(pk=first.pk)
    clone.pk = None
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


def test_a_likely_duplicate_is_flagged_and_needs_a_reason_to_submit(enter, po_line, associate):
    original = enter(po_line, "10", number="A-1")
    twin = enter(po_line, "10", number="A-1b")
    assert twin.suspected_duplicate_of == original

    with pytest.raises(ValidationError) as refused:
        services.invoice_submit(invoice_id=twin.pk, actor=associate)
    assert "duplicate_reason" in refused.value.message_dict
    assert Invoice.objects.get(pk=twin.pk).status == S.DRAFT

    done = services.invoice_submit_duplicate(invoice_id=twin.pk, actor=associate, reason="Two deliveries that day")
    assert done.status == S.MATCHED
    assert done.duplicate_override_reason == "Two deliveries that day"
    assert AuditEvent.objects.filter(action="invoice.duplicate_overridden", target_id=str(twin.pk)).exists()


def test_same_total_on_another_date_is_not_a_duplicate(enter, po_line):
    enter(po_line, "10", number="A-1")
    assert enter(po_line, "10", number="A-2", invoice_date=date(2026, 10, 2)).suspected_duplicate_of is None


# --- Matching -----------------------------------------------------------------------------------


def test_an_exact_invoice_matches(submitted, po_line):
    invoice = submitted(po_line, "100", "10.00")
    assert invoice.status == S.MATCHED
    assert invoice.match_result == Invoice.MatchResult.MATCHED
    assert invoice.lines.get().match_detail == "within tolerance"


def test_quantity_above_ordered_is_an_exception_with_a_reason(submitted, po_line):
    invoice = submitted(po_line, "101", "10.00")
    line = invoice.lines.get()
    assert invoice.status == S.EXCEPTION
    assert line.match_reason == ExceptionReason.QUANTITY_OVER_ORDERED
    assert "invoiced 101 of 100 ordered" in line.match_detail
    assert ExceptionReason.QUANTITY_OVER_ORDERED in invoice.exception_reasons


def test_matching_is_cumulative_over_earlier_invoices_on_the_same_line(submitted, po_line):
    assert submitted(po_line, "60").status == S.MATCHED
    assert submitted(po_line, "40").status == S.MATCHED
    third = submitted(po_line, "1")
    assert third.status == S.EXCEPTION
    assert "invoiced 101 of 100" in third.lines.get().match_detail


def test_cancelled_and_draft_invoices_do_not_count_towards_the_line(submitted, enter, po_line, associate):
    first = submitted(po_line, "60")
    services.invoice_cancel(invoice_id=first.pk, actor=associate, reason="Wrong")
    enter(po_line, "50")  # a draft
    assert submitted(po_line, "100").status == S.MATCHED


def test_three_way_refuses_more_than_accepted_received(submitted, associate):
    line = PurchaseOrderLineFactory()
    ReceiptFactory(po_line=line, quantity_received=Decimal("50"), quantity_damaged=Decimal("5"))
    invoice = submitted(line, "46")
    assert invoice.status == S.EXCEPTION
    assert invoice.lines.get().match_reason == ExceptionReason.QUANTITY_OVER_RECEIVED
    assert submitted(PurchaseOrderLineFactory(), "1").lines.get().match_reason == ExceptionReason.NOT_RECEIVED


def test_two_way_ignores_receipts(submitted, approver):
    line = PurchaseOrderLineFactory()
    services.matching_policy_save(actor=approver, vendor_id=line.purchase_order.vendor_id, match_mode=MatchMode.TWO_WAY)
    assert submitted(line, "100").status == S.MATCHED


@pytest.mark.parametrize(
    ("price", "result"),
    [("10.20", S.MATCHED), ("10.21", S.EXCEPTION), ("9.00", S.MATCHED)],  # 2% of 10.00 = 0.20 (stricter than 5.00)
)
def test_price_tolerance_edges_with_the_global_percent(submitted, po_line, price, result):
    assert submitted(po_line, "100", price).status == result


@pytest.mark.parametrize(("price", "result"), [("1005.00", S.MATCHED), ("1005.01", S.EXCEPTION)])
def test_price_tolerance_absolute_limit_is_the_stricter_one(submitted, price, result):
    line = PurchaseOrderLineFactory(unit_price=Decimal("1000.00"), quantity=Decimal("1"))
    ReceiptFactory(po_line=line, quantity_received=Decimal("1"))
    assert submitted(line, "1", price).status == result  # 2% = 20.00, absolute 5.00 wins


@pytest.mark.parametrize(("quantity", "result"), [("105", S.MATCHED), ("105.001", S.EXCEPTION)])
def test_vendor_quantity_tolerance_override_edges(submitted, approver, quantity, result):
    line = PurchaseOrderLineFactory()
    ReceiptFactory(po_line=line, quantity_received=Decimal("110"))
    services.matching_policy_save(
        actor=approver,
        vendor_id=line.purchase_order.vendor_id,
        quantity_tolerance_percent=Decimal("5"),
        quantity_tolerance_absolute=Decimal("10"),
    )
    assert submitted(line, quantity).status == result


def test_global_tolerance_comes_from_settings(submitted, po_line, settings):
    settings.INVOICE_PRICE_TOLERANCE_PERCENT = "10"
    settings.INVOICE_PRICE_TOLERANCE_ABSOLUTE = "1.00"
    assert submitted(po_line, "100", "11.00").status == S.MATCHED


def test_an_invoice_without_a_purchase_order_is_an_exception(submitted):
    invoice = submitted(None, "1", "99.00", vendor=VendorFactory())
    assert invoice.status == S.EXCEPTION
    assert invoice.exception_reasons == ExceptionReason.NO_PURCHASE_ORDER


def test_an_approver_overrides_an_exception_with_a_recorded_reason(submitted, po_line, approver):
    invoice = submitted(po_line, "101")
    with pytest.raises(ValidationError):
        services.invoice_override_match(invoice_id=invoice.pk, actor=approver, reason=" ")

    done = services.invoice_override_match(invoice_id=invoice.pk, actor=approver, reason="Vendor sent one spare")

    assert done.status == S.MATCHED
    assert done.match_result == Invoice.MatchResult.OVERRIDDEN
    assert done.match_overridden_by == approver
    event = AuditEvent.objects.get(action="invoice.match_overridden")
    assert event.message == "Vendor sent one spare"


def test_an_associate_cannot_override_a_match(submitted, po_line, make_user):
    invoice = submitted(po_line, "101")
    with pytest.raises(PermissionDenied):
        services.invoice_override_match(invoice_id=invoice.pk, actor=make_user("associate"), reason="x")


def test_override_is_only_for_exceptions(submitted, po_line, approver):
    with pytest.raises(TransitionNotAllowed):
        services.invoice_override_match(invoice_id=submitted(po_line).pk, actor=approver, reason="x")


# --- Approval controls --------------------------------------------------------------------------


def test_an_approver_approves_a_matched_invoice(submitted, po_line, approver):
    invoice = approved(submitted(po_line), approver)
    assert invoice.status == S.APPROVED
    assert invoice.approved_by == approver
    assert AuditEvent.objects.filter(action="invoice.approved", actor=approver).exists()


def test_an_exception_cannot_be_approved_before_override(submitted, po_line, approver):
    with pytest.raises(TransitionNotAllowed, match="only matched invoices can be approved"):
        approved(submitted(po_line, "101"), approver)


@pytest.mark.parametrize("who", ["entered", "submitted"])
def test_the_person_who_entered_or_submitted_cannot_approve_even_as_superuser(make_user, po_line, enter, who):
    boss = make_user("approver", is_superuser=True)
    clerk = make_user("associate")
    invoice = enter(po_line, actor=boss if who == "entered" else clerk)
    services.invoice_submit(invoice_id=invoice.pk, actor=clerk if who == "entered" else boss)

    with pytest.raises(PermissionDenied, match="a different person must approve"):
        approved(invoice, boss)
    assert Invoice.objects.get(pk=invoice.pk).status == S.MATCHED


def test_self_override_is_refused_too(make_user, po_line, enter):
    boss = make_user("approver", is_superuser=True)
    invoice = enter(po_line, "101", actor=boss)
    services.invoice_submit(invoice_id=invoice.pk, actor=boss)
    with pytest.raises(PermissionDenied):
        services.invoice_override_match(invoice_id=invoice.pk, actor=boss, reason="mine")


def test_who_changed_the_vendors_bank_details_cannot_approve(submitted, po_line, make_user):
    manager = make_user("approver", is_superuser=True)
    invoice = submitted(po_line)
    vendor = po_line.purchase_order.vendor
    vendor_services.vendor_save(actor=manager, vendor_id=vendor.pk, bank_account_number="DE00 1234")
    vendor_services.vendor_confirm_bank_details(vendor_id=vendor.pk, actor=make_user("approver"))

    with pytest.raises(PermissionDenied, match="bank details"):
        approved(invoice, manager)


def test_above_the_threshold_a_second_distinct_approver_is_needed(submitted, po_line, approver, approver2, settings):
    settings.INVOICE_SECOND_APPROVAL_THRESHOLD = "999.99"
    invoice = submitted(po_line)  # 1000.00

    first = approved(invoice, approver)
    assert first.status == S.MATCHED
    assert first.approved_by == approver
    with pytest.raises(PermissionDenied, match="second, different approver"):
        approved(invoice, approver)

    second = approved(invoice, approver2)
    assert second.status == S.APPROVED
    assert second.second_approved_by == approver2


@pytest.mark.parametrize(
    ("threshold", "needs_second"),
    [
        ("1000.01", False),
        ("1000.00", False),
        ("999.99", True),
    ],  # a 1000.00 invoice at limit + 0.01, limit, limit - 0.01
)
def test_the_second_approval_threshold_boundary(submitted, po_line, approver, settings, threshold, needs_second):
    settings.INVOICE_SECOND_APPROVAL_THRESHOLD = threshold
    invoice = approved(submitted(po_line), approver)  # 1000.00
    assert invoice.status == (S.MATCHED if needs_second else S.APPROVED)


@pytest.mark.parametrize("block", ["hold", "block", "bank"])
def test_a_blocked_vendor_cannot_be_approved_or_scheduled(submitted, po_line, approver, make_user, block):
    manager = make_user("vendor_manager")
    ready = submitted(po_line)
    vendor = po_line.purchase_order.vendor
    second = PurchaseOrderLineFactory(purchase_order=po_line.purchase_order, line_number=2)
    ReceiptFactory(po_line=second)
    to_schedule = approved(submitted(second, invoice_date=date(2026, 10, 2)), approver)
    if block == "hold":
        vendor_services.vendor_hold(vendor_id=vendor.pk, actor=manager, reason="Audit")
    elif block == "block":
        vendor_services.vendor_block(vendor_id=vendor.pk, actor=manager, reason="Sanctions")
    else:
        vendor_services.vendor_save(actor=manager, vendor_id=vendor.pk, bank_account_number="NL00 9999")

    with pytest.raises(TransitionNotAllowed, match=vendor.code):
        approved(ready, approver)
    with pytest.raises(TransitionNotAllowed, match=vendor.code):
        services.invoice_schedule(invoice_id=to_schedule.pk, actor=approver)


def test_a_money_change_after_approval_returns_it_to_submitted_and_rematches(submitted, po_line, approver, associate):
    invoice = scheduled(submitted(po_line), approver)

    changed = services.invoice_update(invoice_id=invoice.pk, actor=associate, tax=Decimal("5.00"))

    assert changed.total == Decimal("1005.00")
    assert changed.status == S.MATCHED  # back through submission and matching
    assert changed.approved_by is None
    assert changed.scheduled_payment_date is None
    assert AuditEvent.objects.filter(action="invoice.returned_to_submitted", target_id=str(invoice.pk)).exists()


def test_a_non_money_change_after_approval_keeps_the_approval(submitted, po_line, approver, associate):
    invoice = approved(submitted(po_line), approver)
    kept = services.invoice_update(invoice_id=invoice.pk, actor=associate, notes="Paid from the EUR account")
    assert kept.status == S.APPROVED
    assert kept.approved_by == approver


def test_a_line_change_after_approval_returns_it_too(submitted, po_line, approver, associate):
    invoice = approved(submitted(po_line), approver)
    changed = services.invoice_update(
        invoice_id=invoice.pk,
        actor=associate,
        lines=[{"po_line": po_line, "description": "Brackets", "quantity": "100", "unit_price": "10.50"}],
    )
    assert changed.status == S.EXCEPTION
    assert changed.approved_by is None


# --- Holds, disputes, cancel --------------------------------------------------------------------


def test_hold_and_release_return_to_the_same_step(submitted, po_line, approver, associate):
    invoice = approved(submitted(po_line), approver)
    held = services.invoice_hold(invoice_id=invoice.pk, actor=associate, reason="Checking the delivery")
    assert held.status == S.ON_HOLD
    with pytest.raises(TransitionNotAllowed):
        services.invoice_schedule(invoice_id=invoice.pk, actor=approver)
    assert services.invoice_release(invoice_id=invoice.pk, actor=associate).status == S.APPROVED


def test_a_dispute_logs_vendor_contacts_and_is_remembered(submitted, po_line, associate):
    invoice = submitted(po_line, "101")
    services.invoice_dispute(invoice_id=invoice.pk, actor=associate, reason="Billed for 101, 100 delivered")
    contact = services.dispute_contact_log(
        invoice_id=invoice.pk, actor=associate, contact_name="Jane at AR", note="Will send a credit memo"
    )
    released = services.invoice_release(invoice_id=invoice.pk, actor=associate, reason="Credit promised")

    assert contact.invoice_id == invoice.pk
    assert released.status == S.EXCEPTION
    assert released.was_disputed is True
    with pytest.raises(TransitionNotAllowed):
        services.dispute_contact_log(invoice_id=invoice.pk, actor=associate, contact_name="x", note="y")


def test_a_dispute_needs_a_reason(submitted, po_line, associate):
    with pytest.raises(ValidationError):
        services.invoice_dispute(invoice_id=submitted(po_line).pk, actor=associate, reason="")


def test_a_paid_invoice_cannot_be_cancelled_or_held(submitted, po_line, approver, associate):
    invoice = scheduled(submitted(po_line), approver)
    services.payment_record(invoice_id=invoice.pk, actor=associate, amount="1000.00", payment_date=PAST, reference="P1")
    with pytest.raises(TransitionNotAllowed):
        services.invoice_cancel(invoice_id=invoice.pk, actor=associate, reason="x")
    with pytest.raises(TransitionNotAllowed):
        services.invoice_hold(invoice_id=invoice.pk, actor=associate, reason="x")


def test_submit_twice_is_a_conflict(submitted, po_line, associate):
    invoice = submitted(po_line)
    with pytest.raises(TransitionNotAllowed, match="only draft invoices can be submitted"):
        services.invoice_submit(invoice_id=invoice.pk, actor=associate)


# --- Payments and credits -----------------------------------------------------------------------


def test_partial_payments_then_the_rest_settle_the_invoice(submitted, po_line, approver, associate):
    invoice = scheduled(submitted(po_line), approver)

    services.payment_record(invoice_id=invoice.pk, actor=associate, amount="400.00", payment_date=PAST, reference="P1")
    middle = Invoice.objects.get(pk=invoice.pk)
    assert (middle.status, middle.open_balance) == (S.SCHEDULED, Decimal("600.00"))

    services.payment_record(invoice_id=invoice.pk, actor=associate, amount="600.00", payment_date=PAST, reference="P2")
    done = Invoice.objects.get(pk=invoice.pk)
    assert (done.status, done.open_balance, done.paid_amount) == (S.PAID, Decimal("0.00"), Decimal("1000.00"))


def test_payments_and_credits_leave_the_balances_before_and_after_in_the_change_log(
    submitted, po_line, approver, associate
):
    invoice = scheduled(submitted(po_line), approver)
    services.credit_memo_apply(
        actor=associate, invoice_id=invoice.pk, number="CM-1", memo_date=PAST, amount="100.00", reason="Damaged"
    )
    services.payment_record(invoice_id=invoice.pk, actor=associate, amount="400.00", payment_date=PAST, reference="P1")

    entries = LogEntry.objects.get_for_object(invoice).filter(action=LogEntry.Action.UPDATE).order_by("id")
    balances = [
        {name: entry.changes[name] for name in ("paid_amount", "credited_amount") if name in entry.changes}
        for entry in entries
    ]
    assert {"credited_amount": ["0.00", "100.00"]} in balances
    assert {"paid_amount": ["0.00", "400.00"]} in balances


@pytest.mark.parametrize(("amount", "field"), [("1000.01", "amount"), ("0", "amount"), ("-5", "amount")])
def test_paying_more_than_the_open_balance_or_nothing_is_refused(
    submitted, po_line, approver, associate, amount, field
):
    invoice = scheduled(submitted(po_line), approver)
    with pytest.raises(ValidationError) as refused:
        services.payment_record(invoice_id=invoice.pk, actor=associate, amount=amount, payment_date=PAST, reference="P")
    assert field in refused.value.message_dict
    assert Payment.objects.count() == 0


def test_a_credit_memo_reduces_the_open_balance_and_the_payable(submitted, po_line, approver, associate):
    invoice = scheduled(submitted(po_line), approver)
    services.credit_memo_apply(
        actor=associate, invoice_id=invoice.pk, number="CM-1", memo_date=PAST, amount="100.00", reason="Damaged"
    )
    with pytest.raises(ValidationError):
        services.payment_record(
            invoice_id=invoice.pk, actor=associate, amount="1000.00", payment_date=PAST, reference="P"
        )
    services.payment_record(invoice_id=invoice.pk, actor=associate, amount="900.00", payment_date=PAST, reference="P")
    assert Invoice.objects.get(pk=invoice.pk).status == S.PAID


def test_a_credit_above_the_open_balance_or_in_another_currency_is_refused(submitted, po_line, associate):
    invoice = submitted(po_line)
    with pytest.raises(ValidationError) as refused:
        services.credit_memo_apply(
            actor=associate, invoice_id=invoice.pk, number="CM", memo_date=PAST, amount="1000.01", reason="x"
        )
    assert "amount" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        services.credit_memo_apply(
            actor=associate, invoice_id=invoice.pk, number="CM", memo_date=PAST, amount="1", reason="x", currency="EUR"
        )
    assert "currency" in refused.value.message_dict


def test_only_scheduled_invoices_are_paid(submitted, po_line, approver, associate):
    invoice = approved(submitted(po_line), approver)
    with pytest.raises(TransitionNotAllowed):
        services.payment_record(invoice_id=invoice.pk, actor=associate, amount="1", payment_date=PAST, reference="P")


# --- Purchase orders and receipts ---------------------------------------------------------------


def test_a_purchase_order_takes_the_vendor_currency_and_refuses_negative_lines(associate):
    vendor = VendorFactory(default_currency="EUR")
    order = services.purchase_order_create(
        actor=associate,
        vendor_id=vendor.pk,
        number="PO-1",
        order_date=date(2026, 9, 1),
        lines=[{"description": "Paper", "quantity": "10", "unit_price": "4.50", "promised_date": date(2026, 9, 9)}],
    )
    assert order.currency == "EUR"
    assert order.lines.get().amount == Decimal("45.00")
    with pytest.raises(ValidationError):
        services.purchase_order_create(
            actor=associate,
            vendor_id=vendor.pk,
            number="PO-2",
            order_date=date(2026, 9, 1),
            lines=[{"description": "Paper", "quantity": "-1", "unit_price": "4.50", "promised_date": date(2026, 9, 9)}],
        )


def test_a_receipt_cannot_damage_more_than_it_received(associate):
    line = PurchaseOrderLineFactory(purchase_order=PurchaseOrderFactory())
    with pytest.raises(ValidationError) as refused:
        services.receipt_record(
            actor=associate, po_line_id=line.pk, received_date=PAST, quantity_received="5", quantity_damaged="6"
        )
    assert "quantity_damaged" in refused.value.message_dict
    receipt = services.receipt_record(
        actor=associate, po_line_id=line.pk, received_date=PAST, quantity_received="5", quantity_damaged="1"
    )
    assert receipt.quantity_accepted == Decimal("4")


def test_changing_the_purchase_order_after_submission_rematches(submitted, po_line, associate):
    invoice = submitted(po_line)
    other = PurchaseOrderFactory(vendor=po_line.purchase_order.vendor)

    changed = services.invoice_update(
        invoice_id=invoice.pk,
        actor=associate,
        purchase_order=other,
        lines=[{"description": "Brackets", "quantity": "100", "unit_price": "10.00"}],
    )

    assert changed.purchase_order == other
    assert changed.status == S.EXCEPTION
    assert changed.exception_reasons == ExceptionReason.NO_PURCHASE_ORDER


def test_an_approver_who_changes_an_amount_cannot_then_approve_it(submitted, po_line, approver, approver2):
    invoice = approved(submitted(po_line), approver)
    services.invoice_update(invoice_id=invoice.pk, actor=approver2, tax=Decimal("1.00"))
    with pytest.raises(PermissionDenied):
        approved(invoice, approver2)
    assert approved(invoice, approver).status == S.APPROVED
