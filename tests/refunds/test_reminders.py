"""Reminders: who is told of what, and once a day through the core digest."""

from datetime import datetime, timedelta

from django.utils import timezone

from apps.core import reminders
from apps.core.models import Notification
from apps.core.services.reminders import reminders_send_digests
from apps.refunds import services
from apps.refunds.models import RefundCase
from apps.refunds.reminders import ApprovalOverdue, ApprovedNotProcessed, ChargebackEvidenceDue, ReturnOverdue
from tests.refunds.factories import OrderFactory, OrderLineFactory

TODAY = timezone.localdate()


def back_date(case, days):
    when = timezone.make_aware(datetime.combine(TODAY - timedelta(days=days), datetime.min.time()) + timedelta(hours=9))
    RefundCase.objects.filter(pk=case.pk).update(requested_at=when, approved_at=when if case.approved_at else None)


def test_the_sources_are_registered():
    keys = {source.key for source in reminders.sources()}
    assert {
        "refunds.approval_overdue",
        "refunds.approved_not_processed",
        "refunds.chargeback_evidence_due",
        "refunds.rma_overdue",
    } <= keys


def test_approvers_are_reminded_of_cases_waiting_beyond_the_sla(order, request_case, associate, approver, approver2):
    waiting = request_case(order, "100.00")
    fresh = request_case(OrderFactory(), "100.00")
    big = request_case(OrderFactory(total=5000, amount_paid=5000), "2000.00")  # above approver's 1000 limit
    back_date(waiting, 3)
    back_date(big, 3)

    found = list(ApprovalOverdue().collect(today=TODAY))

    assert {(r.recipient_id, r.object_key) for r in found} == {
        (approver.pk, f"refunds.refundcase:{waiting.pk}"),
        (approver2.pk, f"refunds.refundcase:{waiting.pk}"),
        (approver2.pk, f"refunds.refundcase:{big.pk}"),
    }
    assert associate.pk not in {r.recipient_id for r in found}
    assert all(f"refunds.refundcase:{fresh.pk}" != r.object_key for r in found)


def test_the_approval_sla_boundary(order, request_case, approver):
    case = request_case(order, "100.00")
    back_date(case, 2)  # exactly the SLA: not yet overdue
    assert list(ApprovalOverdue().collect(today=TODAY)) == []
    back_date(case, 3)
    assert len(list(ApprovalOverdue().collect(today=TODAY))) == 1


def test_an_approver_who_already_approved_is_not_reminded(setup, request_case, approver, approver2):
    case = request_case(OrderFactory(), "600.00")
    services.case_approve(case_id=case.pk, actor=approver)
    back_date(case, 5)

    assert {r.recipient_id for r in ApprovalOverdue().collect(today=TODAY)} == {approver2.pk}


def test_requesters_are_reminded_of_approved_cases_not_processed(approved_case, associate):
    assert list(ApprovedNotProcessed().collect(today=TODAY)) == []
    RefundCase.objects.filter(pk=approved_case.pk).update(approved_at=timezone.now() - timedelta(days=2))

    [reminder] = ApprovedNotProcessed().collect(today=TODAY)

    assert reminder.recipient_id == associate.pk
    assert reminder.url == f"/admin/refunds/refundcase/{approved_case.pk}/change/"


def test_chargeback_evidence_due_within_n_days_or_overdue(setup, request_case, associate):
    soon = request_case(OrderFactory(), "10.00", type="chargeback", evidence_due_date=TODAY + timedelta(days=3))
    later = request_case(OrderFactory(), "10.00", type="chargeback", evidence_due_date=TODAY + timedelta(days=4))
    late = request_case(OrderFactory(), "10.00", type="chargeback", evidence_due_date=TODAY - timedelta(days=1))
    sent = request_case(OrderFactory(), "10.00", type="chargeback", evidence_due_date=TODAY)
    services.chargeback_submit_evidence(case_id=sent.pk, actor=associate)

    found = {r.object_key: r for r in ChargebackEvidenceDue().collect(today=TODAY)}

    assert set(found) == {f"refunds.refundcase:{soon.pk}", f"refunds.refundcase:{late.pk}"}
    assert "was due" in found[f"refunds.refundcase:{late.pk}"].title
    assert f"refunds.refundcase:{later.pk}" not in found


def test_overdue_returns(setup, request_case, associate):
    order = OrderFactory()
    line = OrderLineFactory(order=order)
    case = request_case(order, "10.00", type="return", return_lines=[{"order_line_id": line.pk, "quantity": 1}])
    assert list(ReturnOverdue().collect(today=TODAY)) == []

    [reminder] = ReturnOverdue().collect(today=case.due_date + timedelta(days=1))

    assert reminder.recipient_id == associate.pk


def test_the_digest_reminds_once_a_day(order, request_case, approver, approver2):
    back_date(request_case(order, "100.00"), 5)

    first = reminders_send_digests(today=TODAY)
    second = reminders_send_digests(today=TODAY)

    assert first["sent"] >= 2
    assert second["sent"] == 0
    assert Notification.objects.filter(recipient=approver).count() == 1
    assert Notification.objects.filter(recipient=approver2).count() == 1
