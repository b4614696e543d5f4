"""Services: every policy rule, every transition, who may, and the boundaries of the numbers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import AuditEvent
from apps.refunds import hooks, services
from apps.refunds.models import CaseApproval, Order, Payout, RefundCase
from tests.refunds.factories import ApproverLimitFactory, ChannelFactory, OrderFactory, OrderLineFactory

Status = RefundCase.Status


def errors_of(excinfo) -> dict:
    return excinfo.value.message_dict


# --- Request: bad input -------------------------------------------------------------------------


def test_a_refund_reserves_its_amount_on_the_order(order, request_case, associate):
    case = request_case(order, "250.00")

    order.refresh_from_db()
    assert case.status == Status.REQUESTED
    assert case.reference == f"RF-{case.pk:06d}"
    assert case.currency == "EUR"
    assert case.requested_by == associate
    assert case.due_date == timezone.localdate() + timedelta(days=5)
    assert order.committed_amount == Decimal("250.00")
    assert AuditEvent.objects.filter(action="refundcase.requested", target_id=str(case.pk)).exists()


def test_the_reserved_amount_is_in_the_orders_change_log(order, request_case, associate):
    case = request_case(order, "250.00")
    services.case_cancel(case_id=case.pk, actor=associate, reason="Customer kept the goods")

    entries = LogEntry.objects.get_for_object(order).filter(action=LogEntry.Action.UPDATE).order_by("id")
    assert [entry.changes["committed_amount"] for entry in entries] == [["0.00", "250.00"], ["250.00", "0.00"]]


def test_the_whole_paid_amount_may_be_refunded_but_not_one_cent_more(order, request_case):
    request_case(order, "600.00")
    request_case(order, "400.00")  # exactly what is left

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "0.01")

    assert "exceeds the refundable amount remaining" in errors_of(excinfo)["amount"][0]
    assert RefundCase.objects.count() == 2
    order.refresh_from_db()
    assert order.committed_amount == order.amount_paid


def test_a_refund_above_the_remaining_amount_names_the_rule_and_saves_nothing(order, request_case):
    request_case(order, "900.00")

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "100.01")

    assert errors_of(excinfo)["amount"] == [
        f"100.01 EUR exceeds the refundable amount remaining on order {order.reference}: 100.00 EUR of 1000.00 paid."
    ]
    assert RefundCase.objects.count() == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "The amount must be greater than zero."),
        ("0.00", "The amount must be greater than zero."),
        ("-5.00", "The amount must be greater than zero."),
        ("10.001", "Amounts have at most two decimals."),
        ("ten", "'ten' is not an amount."),
    ],
)
def test_bad_amounts_are_refused(order, request_case, amount, message):
    with pytest.raises(ValidationError) as excinfo:
        request_case(order, amount)

    assert errors_of(excinfo)["amount"] == [message]
    assert not RefundCase.objects.exists()


def test_trailing_zeros_are_two_decimals(order, request_case):
    assert request_case(order, "10.100").amount == Decimal("10.10")


def test_a_float_amount_is_refused(order, request_case):
    with pytest.raises(ValidationError) as excinfo:
        request_case(order, 10.5)
    assert "not a floating-point number" in errors_of(excinfo)["amount"][0]


def test_a_currency_other_than_the_orders_is_refused(order, request_case):
    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "10.00", currency="USD")

    assert errors_of(excinfo)["currency"] == ["The case must be in the order's currency, EUR, not USD."]
    assert not RefundCase.objects.exists()


def test_an_unknown_order_is_refused(associate, setup):
    with pytest.raises(ValidationError) as excinfo:
        services.case_request(actor=associate, order_id=999999, type="refund", amount="1.00", reason_code="damaged")

    assert errors_of(excinfo)["order"] == ["No order with id 999999."]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "A reason code is required."),
        ("nope", "'nope' is not an active reason code."),
        ("retired", "'retired' is not an active reason code."),
        ("fraud", "Reason fraud is for chargeback cases only."),
    ],
)
def test_a_reason_code_is_required_active_and_of_the_type(order, request_case, code, message):
    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "10.00", reason_code=code)

    assert errors_of(excinfo)["reason"] == [message]


def test_someone_without_add_permission_cannot_request(order, make_user, request_case):
    with pytest.raises(PermissionDenied):
        request_case(order, "10.00", actor=make_user("approver"))


# --- Request: return window ---------------------------------------------------------------------


@pytest.mark.parametrize(("age", "needs_override"), [(29, False), (30, False), (31, True)])
def test_the_return_window_boundary(setup, request_case, age, needs_override):
    order = OrderFactory(order_date=timezone.localdate() - timedelta(days=age))

    if needs_override:
        with pytest.raises(ValidationError) as excinfo:
            request_case(order, "10.00")
        assert errors_of(excinfo)["override_reason"] == [
            f"Order {order.reference} is 31 days old, beyond the 30-day window of the Web shop channel: "
            "an override reason is required."
        ]
        case = request_case(order, "10.00", override_reason="Manager agreed")
        assert case.override_reason == "Manager agreed"
    else:
        assert request_case(order, "10.00").status == Status.REQUESTED


def test_the_return_window_is_per_channel(setup, request_case):
    store = ChannelFactory(code="store", name="Stores", return_window_days=14)
    order = OrderFactory(channel=store, order_date=timezone.localdate() - timedelta(days=15))

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "10.00")
    assert "14-day window of the Stores channel" in errors_of(excinfo)["override_reason"][0]


def test_chargebacks_ignore_the_return_window(setup, request_case):
    order = OrderFactory(order_date=timezone.localdate() - timedelta(days=200))
    assert request_case(order, "10.00", type="chargeback").type == "chargeback"


# --- Request: chargebacks and returns -----------------------------------------------------------


def test_a_chargeback_carries_network_code_and_evidence_due_date(order, request_case):
    due = timezone.localdate() + timedelta(days=7)
    case = request_case(order, "300.00", type="chargeback", evidence_due_date=due, fee="15.00")

    order.refresh_from_db()
    assert (case.network, case.network_reason_code, case.fee) == ("visa", "10.4", Decimal("15.00"))
    assert case.due_date == due  # the SLA of a chargeback is its evidence due date
    assert case.reference.startswith("CB-")
    assert order.committed_amount == Decimal("0.00")  # imposed by the network, not a refund we grant


def test_a_chargeback_without_its_network_details_is_refused(order, request_case):
    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "10.00", type="chargeback", network="", network_reason_code="", evidence_due_date=None)

    assert set(errors_of(excinfo)) == {"network", "network_reason_code", "evidence_due_date"}


def test_no_refund_while_a_chargeback_is_open(order, request_case):
    request_case(order, "100.00", type="chargeback")

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "10.00")
    assert "open chargeback" in errors_of(excinfo)["order"][0]


def test_money_lost_to_a_chargeback_is_no_longer_refundable(order, request_case, associate, approver):
    chargeback = request_case(order, "300.00", type="chargeback")
    services.chargeback_record_outcome(case_id=chargeback.pk, actor=associate, outcome="lost")
    services.case_approve(case_id=chargeback.pk, actor=approver)
    services.case_process(case_id=chargeback.pk, actor=associate)

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "700.01")
    assert "700.00 EUR of 1000.00 paid" in errors_of(excinfo)["amount"][0]
    assert request_case(order, "700.00").amount == Decimal("700.00")


def test_a_return_needs_lines_within_what_was_ordered(order, request_case):
    line = OrderLineFactory(order=order, quantity=2, unit_price=Decimal("100.00"))

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "100.00", type="return")
    assert "at least one line" in errors_of(excinfo)["return_lines"][0]

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "100.00", type="return", return_lines=[{"order_line_id": line.pk, "quantity": 3}])
    assert errors_of(excinfo)["return_lines"] == [
        f"3 x {line.sku} is more than can come back: 2 ordered, 0 already on other returns."
    ]
    assert not RefundCase.objects.exists()

    case = request_case(order, "200.00", type="return", return_lines=[{"order_line_id": line.pk, "quantity": 2}])
    assert case.return_lines.get().quantity == 2
    assert case.due_date == timezone.localdate() + timedelta(days=14)


def test_earlier_returns_count_against_the_quantity(order, request_case):
    line = OrderLineFactory(order=order, quantity=2)
    request_case(order, "100.00", type="return", return_lines=[{"order_line_id": line.pk, "quantity": 1}])

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "100.00", type="return", return_lines=[{"order_line_id": line.pk, "quantity": 2}])
    assert "1 already on other returns" in errors_of(excinfo)["return_lines"][0]


def test_a_return_refund_cannot_exceed_the_value_of_the_items(order, request_case):
    line = OrderLineFactory(order=order, quantity=2, unit_price=Decimal("100.00"))

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "100.01", type="return", return_lines=[{"order_line_id": line.pk, "quantity": 1}])
    assert "exceeds the value of the returned items, 100.00" in errors_of(excinfo)["amount"][0]


def test_a_line_of_another_order_is_refused(order, request_case):
    other = OrderLineFactory()

    with pytest.raises(ValidationError) as excinfo:
        request_case(order, "10.00", type="return", return_lines=[{"order_line_id": other.pk, "quantity": 1}])
    assert f"is not on order {order.reference}" in errors_of(excinfo)["return_lines"][0]


# --- Approval -----------------------------------------------------------------------------------


def test_one_approval_up_to_the_threshold(order, request_case, approver):
    case = request_case(order, "500.00")

    case = services.case_approve(case_id=case.pk, actor=approver)

    assert case.approvals_required == 1
    assert case.status == Status.APPROVED
    assert case.decided_by == approver
    event = AuditEvent.objects.get(action="refundcase.approved")
    assert event.data["level"] == 1 and event.data["fully_approved"] is True


@pytest.mark.parametrize(("amount", "required"), [("499.99", 1), ("500.00", 1), ("500.01", 2)])
def test_the_dual_approval_threshold_boundary(order, request_case, amount, required):
    assert request_case(order, amount).approvals_required == required


def test_above_the_threshold_two_distinct_approvers(order, request_case, approver, approver2):
    case = request_case(order, "500.01")

    case = services.case_approve(case_id=case.pk, actor=approver)
    assert case.status == Status.REQUESTED  # one of two

    with pytest.raises(PermissionDenied, match="already approved"):
        services.case_approve(case_id=case.pk, actor=approver)

    case = services.case_approve(case_id=case.pk, actor=approver2)
    assert case.status == Status.APPROVED
    assert list(case.approvals.values_list("approver", "level")) == [(approver.pk, 1), (approver2.pk, 2)]


def test_the_dual_approval_threshold_is_configurable(order, request_case, setup):
    setup.dual_approval_threshold = Decimal("100.00")
    setup.save()
    assert request_case(order, "100.01").approvals_required == 2


@pytest.mark.parametrize(("amount", "allowed"), [("999.99", True), ("1000.00", True), ("1000.01", False)])
def test_the_approvers_limit_boundary(setup, request_case, approver, approver2, amount, allowed):
    case = request_case(OrderFactory(total=Decimal("5000.00"), amount_paid=Decimal("5000.00")), amount)
    services.case_approve(case_id=case.pk, actor=approver2)  # first approval by someone with room

    if allowed:
        assert services.case_approve(case_id=case.pk, actor=approver).status == Status.APPROVED
    else:
        with pytest.raises(PermissionDenied) as excinfo:
            services.case_approve(case_id=case.pk, actor=approver)
        assert str(excinfo.value) == (
            "1000.01 EUR is above your approval limit of 1000.00: an approver with a higher limit must approve it."
        )
        assert CaseApproval.objects.filter(case=case).count() == 1


def test_an_approver_without_a_limit_cannot_approve(order, request_case, make_user):
    case = request_case(order, "10.00")
    with pytest.raises(PermissionDenied, match="no refund approval limit"):
        services.case_approve(case_id=case.pk, actor=make_user("approver"))


def test_nobody_approves_their_own_request(order, make_user, setup):
    # an approver who may also request: the request is theirs, so is the refusal
    both = make_user("approver")
    both.groups.add(make_user("associate").groups.first())
    ApproverLimitFactory(user=both)
    case = services.case_request(actor=both, order_id=order.pk, type="refund", amount="10.00", reason_code="damaged")

    with pytest.raises(PermissionDenied, match="you requested or entered"):
        services.case_approve(case_id=case.pk, actor=both)
    case.refresh_from_db()
    assert case.status == Status.REQUESTED


def test_superusers_cannot_approve_their_own_request_either(order, make_user, setup):
    root = make_user(None, is_superuser=True)
    ApproverLimitFactory(user=root, max_amount=Decimal("100000.00"))
    case = services.case_request(actor=root, order_id=order.pk, type="refund", amount="600.00", reason_code="damaged")

    with pytest.raises(PermissionDenied, match="you requested or entered"):
        services.case_approve(case_id=case.pk, actor=root)
    with pytest.raises(PermissionDenied, match="you requested or entered"):
        services.case_reject(case_id=case.pk, actor=root, reason="no")


def test_a_superuser_second_approval_must_be_a_different_person(order, request_case, make_user):
    root = make_user(None, is_superuser=True)
    ApproverLimitFactory(user=root, max_amount=Decimal("100000.00"))
    case = request_case(order, "600.00")
    services.case_approve(case_id=case.pk, actor=root)

    with pytest.raises(PermissionDenied, match="already approved"):
        services.case_approve(case_id=case.pk, actor=root)


def test_associates_cannot_approve(order, request_case, associate2):
    case = request_case(order, "10.00")
    with pytest.raises(PermissionDenied, match="may not approve"):
        services.case_approve(case_id=case.pk, actor=associate2)


def test_approving_twice_is_a_conflict(approved_case, approver2):
    with pytest.raises(TransitionNotAllowed):
        services.case_approve(case_id=approved_case.pk, actor=approver2)


def test_the_approval_records_the_sop_version_in_force(order, request_case, approver):
    previous = hooks.set_sop_version_provider(lambda *, area: f"{area}-SOP v3")
    try:
        case = services.case_approve(case_id=request_case(order, "10.00").pk, actor=approver)
    finally:
        hooks.set_sop_version_provider(previous)

    assert case.approvals.get().sop_version == "refunds-SOP v3"
    assert AuditEvent.objects.get(action="refundcase.approved").data["sop_version"] == "refunds-SOP v3"


# --- Reject and cancel --------------------------------------------------------------------------


def test_reject_needs_a_reason_and_releases_the_amount(order, request_case, approver):
    case = request_case(order, "400.00")

    with pytest.raises(ValidationError) as excinfo:
        services.case_reject(case_id=case.pk, actor=approver, reason="  ")
    assert errors_of(excinfo)["reason"] == ["Say why the case is rejected."]

    case = services.case_reject(case_id=case.pk, actor=approver, reason="No damage on the photos")
    order.refresh_from_db()
    assert case.status == Status.REJECTED
    assert (case.decided_by, case.decision_reason) == (approver, "No damage on the photos")
    assert case.rejected_at is not None
    assert case.resolved_on == timezone.localdate()
    assert order.committed_amount == Decimal("0.00")


def test_cancel_before_processing_releases_the_amount(approved_case, associate):
    case = services.case_cancel(case_id=approved_case.pk, actor=associate, reason="Customer kept the item")

    case.order.refresh_from_db()
    assert case.status == Status.CANCELLED
    assert case.order.committed_amount == Decimal("0.00")


def test_a_processed_case_cannot_be_cancelled(approved_case, associate):
    services.case_process(case_id=approved_case.pk, actor=associate)

    with pytest.raises(TransitionNotAllowed, match="only cases not yet processed"):
        services.case_cancel(case_id=approved_case.pk, actor=associate, reason="late")


def test_someone_else_without_change_permission_cannot_cancel(order, request_case, approver):
    case = request_case(order, "10.00")
    with pytest.raises(PermissionDenied):
        services.case_cancel(case_id=case.pk, actor=approver, reason="x")


# --- Processing: money out exactly once ---------------------------------------------------------


def test_process_pays_out_once_and_a_retry_is_a_no_op(approved_case, associate, associate2):
    first = services.case_process(case_id=approved_case.pk, actor=associate)
    again = services.case_process(case_id=approved_case.pk, actor=associate2)

    payout = Payout.objects.get()
    assert first.status == again.status == Status.PROCESSED
    assert again.processed_by == associate  # the same result as the first call
    assert payout.amount == Decimal("100.00") and payout.method == "original_payment"
    assert payout.idempotency_key == approved_case.idempotency_key
    assert AuditEvent.objects.filter(action="refundcase.processed").count() == 1


def test_a_requested_case_cannot_be_processed(order, request_case, associate):
    case = request_case(order, "10.00")
    with pytest.raises(TransitionNotAllowed, match="only approved cases are processed"):
        services.case_process(case_id=case.pk, actor=associate)
    assert not Payout.objects.exists()


def test_approvers_cannot_process(approved_case, approver2):
    with pytest.raises(PermissionDenied, match="may not process"):
        services.case_process(case_id=approved_case.pk, actor=approver2)


def test_store_credit_pays_out_as_store_credit(order, request_case, approver, associate):
    case = request_case(order, "50.00", type="store_credit", reason_code="goodwill")
    services.case_approve(case_id=case.pk, actor=approver)
    services.case_process(case_id=case.pk, actor=associate)
    assert Payout.objects.get(case=case).method == "store_credit"


def test_close_after_processing_only(approved_case, associate):
    with pytest.raises(TransitionNotAllowed):
        services.case_close(case_id=approved_case.pk, actor=associate)
    services.case_process(case_id=approved_case.pk, actor=associate)

    case = services.case_close(case_id=approved_case.pk, actor=associate)

    assert case.status == Status.CLOSED and case.closed_at is not None
    # processing a closed case again still changes nothing
    assert services.case_process(case_id=case.pk, actor=associate).status == Status.CLOSED
    assert Payout.objects.count() == 1


def test_processed_within_or_after_the_sla(approved_case, associate):
    services.case_process(case_id=approved_case.pk, actor=associate)
    assert AuditEvent.objects.get(action="refundcase.processed").data["within_sla"] is True
    approved_case.refresh_from_db()
    assert approved_case.over_sla is False


# --- Chargebacks --------------------------------------------------------------------------------


def test_a_chargeback_is_settled_after_its_outcome(order, request_case, approver, associate):
    case = request_case(order, "300.00", type="chargeback", fee="15.00")
    services.chargeback_submit_evidence(case_id=case.pk, actor=associate)
    services.case_approve(case_id=case.pk, actor=approver)

    with pytest.raises(ValidationError) as excinfo:
        services.case_process(case_id=case.pk, actor=associate)
    assert "outcome" in errors_of(excinfo)

    services.chargeback_record_outcome(case_id=case.pk, actor=associate, outcome="lost", amount_lost="120.00")
    case = services.case_process(case_id=case.pk, actor=associate)

    payout = Payout.objects.get(case=case)
    assert (payout.method, payout.amount) == ("network_debit", Decimal("135.00"))  # lost + fee


def test_a_won_chargeback_loses_nothing(order, request_case, associate):
    case = request_case(order, "300.00", type="chargeback")
    case = services.chargeback_record_outcome(case_id=case.pk, actor=associate, outcome="won", amount_lost="50.00")
    assert case.amount_lost == Decimal("0.00")


def test_a_chargeback_cannot_lose_more_than_disputed(order, request_case, associate):
    case = request_case(order, "300.00", type="chargeback")
    with pytest.raises(ValidationError) as excinfo:
        services.chargeback_record_outcome(case_id=case.pk, actor=associate, outcome="lost", amount_lost="300.01")
    assert "amount_lost" in errors_of(excinfo)


def test_evidence_is_submitted_once_and_only_on_chargebacks(order, request_case, associate):
    refund = request_case(order, "10.00")
    with pytest.raises(TransitionNotAllowed, match="not a chargeback"):
        services.chargeback_submit_evidence(case_id=refund.pk, actor=associate)

    other = OrderFactory()
    case = request_case(other, "10.00", type="chargeback")
    services.chargeback_submit_evidence(case_id=case.pk, actor=associate)
    with pytest.raises(TransitionNotAllowed, match="already submitted"):
        services.chargeback_submit_evidence(case_id=case.pk, actor=associate)


# --- Returns ------------------------------------------------------------------------------------


def test_a_return_is_processed_after_inspection_and_restock_posts_through_the_hook(
    order, request_case, approver, associate
):
    keep = OrderLineFactory(order=order, quantity=1)
    bin_ = OrderLineFactory(order=order, quantity=1)
    case = request_case(
        order,
        "200.00",
        type="return",
        return_lines=[{"order_line_id": keep.pk, "quantity": 1}, {"order_line_id": bin_.pk, "quantity": 1}],
    )
    services.case_approve(case_id=case.pk, actor=approver)
    received = []

    def receive(*, case, lines, actor):
        received.append((case.pk, [line.order_line.sku for line in lines], actor))

    with pytest.raises(ValidationError) as excinfo:
        services.case_process(case_id=case.pk, actor=associate)
    assert "Inspect every returned item first" in errors_of(excinfo)["return_lines"][0]

    lines = {line.order_line_id: line for line in case.return_lines.all()}
    services.return_line_inspect(line_id=lines[keep.pk].pk, actor=associate, condition="new", disposition="restock")
    services.return_line_inspect(line_id=lines[bin_.pk].pk, actor=associate, condition="damaged", disposition="scrap")
    hooks.register_restock_handler(receive)
    try:
        services.case_process(case_id=case.pk, actor=associate)
    finally:
        hooks.unregister_restock_handler(receive)

    assert received == [(case.pk, [keep.sku], associate)]
    lines[keep.pk].refresh_from_db()
    lines[bin_.pk].refresh_from_db()
    assert lines[keep.pk].stock_posted_at is not None
    assert lines[bin_.pk].stock_posted_at is None


def test_inspection_refuses_unknown_values(order, request_case, associate):
    line = OrderLineFactory(order=order, quantity=1)
    case = request_case(order, "10.00", type="return", return_lines=[{"order_line_id": line.pk, "quantity": 1}])
    with pytest.raises(ValidationError) as excinfo:
        services.return_line_inspect(
            line_id=case.return_lines.get().pk, actor=associate, condition="shiny", disposition="burn"
        )
    assert set(errors_of(excinfo)) == {"condition", "disposition"}


# --- Orders -------------------------------------------------------------------------------------


def test_order_paid_cannot_drop_below_what_is_committed(order, request_case, make_user):
    request_case(order, "600.00")
    with pytest.raises(ValidationError) as excinfo:
        services.order_update(order_id=order.pk, actor=make_user("associate"), amount_paid="599.99")
    assert "600.00 EUR is already refunded or committed" in errors_of(excinfo)["amount_paid"][0]
    order.refresh_from_db()
    assert order.amount_paid == Decimal("1000.00")


def test_order_create_checks_paid_against_total(setup, make_user):
    channel = ChannelFactory()
    with pytest.raises(ValidationError) as excinfo:
        services.order_create(
            actor=make_user("associate"),
            reference="SO-X1",
            customer_name="A B",
            customer_email="a@example.com",
            order_date=timezone.localdate(),
            channel_id=channel.pk,
            currency="EUR",
            total="10.00",
            amount_paid="10.01",
        )
    assert errors_of(excinfo)["amount_paid"] == ["The amount paid cannot exceed the order total."]
    assert not Order.objects.filter(reference="SO-X1").exists()


def test_the_database_refuses_committing_more_than_paid(order):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.filter(pk=order.pk).update(committed_amount=Decimal("1000.01"))
