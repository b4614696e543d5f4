"""The admin: lists with bounded queries, the case page, actions that move cases and refuse correctly."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.refunds import hooks, services
from apps.refunds.models import Payout, RefundCase
from tests.refunds.factories import OrderFactory, OrderLineFactory

CHANGELIST = "/admin/refunds/refundcase/"


@pytest.fixture
def many_cases(setup, request_case, approver):
    cases = []
    for n in range(12):
        order = OrderFactory()
        OrderLineFactory(order=order)
        cases.append(request_case(order, "10.00", type=["refund", "store_credit", "chargeback"][n % 3]))
    services.case_approve(case_id=cases[0].pk, actor=approver)
    return cases


def act(client, action, cases, url=CHANGELIST, **extra):
    return client.post(
        url,
        {"action": action, "_selected_action": [c.pk for c in cases], "confirmed": "yes", **extra},
        follow=True,
    )


@pytest.mark.parametrize(
    "url",
    [
        CHANGELIST,
        "/admin/refunds/refund/",
        "/admin/refunds/storecredit/",
        "/admin/refunds/chargeback/",
        "/admin/refunds/return/",
        "/admin/refunds/order/",
        "/admin/refunds/payout/",
        "/admin/refunds/caseapproval/",
        "/admin/refunds/reportrun/",
        f"{CHANGELIST}?status__exact=requested&type__exact=refund&age=current&sla=over",
        f"{CHANGELIST}?q=SO-T",
    ],
)
def test_lists_load_with_a_bounded_number_of_queries(client, make_user, many_cases, url, django_assert_max_num_queries):
    client.force_login(make_user("auditor"))
    with django_assert_max_num_queries(25):
        response = client.get(url)
    assert response.status_code == 200


def test_the_list_query_count_does_not_grow_with_rows(client, make_user, many_cases, request_case):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(make_user("auditor"))
    with CaptureQueriesContext(connection) as few:
        client.get(CHANGELIST)
    for _ in range(10):
        request_case(OrderFactory(), "5.00")
    with CaptureQueriesContext(connection) as more:
        client.get(CHANGELIST)
    assert len(more) == len(few)


def test_the_case_page_shows_history_remaining_and_approvals(client, make_user, setup, request_case, approver):
    order = OrderFactory()
    first = request_case(order, "300.00")
    second = request_case(order, "200.00")
    services.case_approve(case_id=second.pk, actor=approver)
    client.force_login(make_user("auditor"))

    previous = hooks.set_governing_sop_url_provider(lambda *, area: f"/admin/sops/?area={area}")
    try:
        page = client.get(reverse("admin:refunds_refundcase_change", args=[second.pk])).content.decode()
    finally:
        hooks.set_governing_sop_url_provider(previous)

    assert "refundable remaining 500.00" in page
    assert first.reference in page and second.reference in page  # the order's refund history
    assert "1 of 1 required" in page
    assert '<a href="/admin/sops/?area=refunds">Refunds SOP</a>' in page


def test_the_case_page_of_each_type_loads(client, make_user, many_cases, django_assert_max_num_queries):
    client.force_login(make_user("associate"))
    for case in many_cases[:3]:
        with django_assert_max_num_queries(40):
            assert client.get(reverse("admin:refunds_refundcase_change", args=[case.pk])).status_code == 200


def test_approve_action_with_confirmation(client, order, request_case, approver):
    case = request_case(order, "100.00")
    client.force_login(approver)

    confirm = client.post(CHANGELIST, {"action": "case_approve_action", "_selected_action": [case.pk]})
    assert b"Approve selected cases?" in confirm.content
    case.refresh_from_db()
    assert case.status == "requested"  # nothing before confirmation

    done = act(client, "case_approve_action", [case])
    assert "Approved: 1 case." in done.content.decode()
    case.refresh_from_db()
    assert case.status == "approved"


def test_self_approval_is_refused_in_a_bulk_action_and_recorded(client, order, make_user, setup):
    from tests.refunds.factories import ApproverLimitFactory

    both = make_user("approver")
    both.groups.add(make_user("associate").groups.first())
    ApproverLimitFactory(user=both)
    mine = services.case_request(actor=both, order_id=order.pk, type="refund", amount="10.00", reason_code="damaged")
    theirs = services.case_request(
        actor=make_user("associate"), order_id=OrderFactory().pk, type="refund", amount="10.00", reason_code="damaged"
    )
    client.force_login(both)

    page = act(client, "case_approve_action", [mine, theirs]).content.decode()

    assert "Approved: 1 case." in page
    assert f"Not approved: {mine}" in page and "you requested or entered" in page
    mine.refresh_from_db()
    assert mine.status == "requested"
    assert AuditEvent.objects.filter(action="refundcase.approved", outcome="denied", target_id=str(mine.pk)).exists()


def test_superuser_self_approval_is_refused_in_the_admin(client, order, make_user, setup):
    from tests.refunds.factories import ApproverLimitFactory

    root = make_user(None, is_superuser=True)
    ApproverLimitFactory(user=root)
    case = services.case_request(actor=root, order_id=order.pk, type="refund", amount="10.00", reason_code="damaged")
    client.force_login(root)

    act(client, "case_approve_action", [case])

    case.refresh_from_db()
    assert case.status == "requested"


def test_associates_do_not_get_the_approve_action(client, associate, order, request_case):
    request_case(order)
    client.force_login(associate)
    page = client.get(CHANGELIST).content.decode()
    assert "case_approve_action" not in page
    assert "case_process_action" in page


def test_process_reject_and_cancel_actions(client, order, request_case, approver, associate):
    approved = services.case_approve(case_id=request_case(order, "100.00").pk, actor=approver)
    to_reject = request_case(OrderFactory(), "10.00")
    to_cancel = request_case(OrderFactory(), "10.00")

    client.force_login(associate)
    assert "Processed: 1 case." in act(client, "case_process_action", [approved]).content.decode()
    assert "Processed: 1 case." in act(client, "case_process_action", [approved]).content.decode()  # no-op replay
    assert Payout.objects.count() == 1
    missing_reason = act(client, "case_cancel_action", [to_cancel]).content.decode()
    assert "Reason is required." in missing_reason
    act(client, "case_cancel_action", [to_cancel], reason="Withdrawn")

    client.force_login(approver)
    act(client, "case_reject_action", [to_reject], reason="No evidence")

    statuses = dict(RefundCase.objects.values_list("pk", "status"))
    assert statuses[approved.pk] == "processed"
    assert statuses[to_reject.pk] == "rejected"
    assert statuses[to_cancel.pk] == "cancelled"


def test_an_associate_adds_a_case_through_the_admin_form(client, associate, order):
    client.force_login(associate)
    reason = services.validate_case_request.__globals__["ReasonCode"].objects.get(code="damaged")

    refused = client.post(
        "/admin/refunds/refundcase/add/",
        {"order": order.pk, "type": "refund", "amount": "1000.01", "reason": reason.pk, "fee": "0"},
    )
    assert refused.status_code == 200
    assert "exceeds the refundable amount remaining" in refused.content.decode()
    assert not RefundCase.objects.exists()

    added = client.post(
        "/admin/refunds/refundcase/add/",
        {"order": order.pk, "type": "refund", "amount": "250.00", "reason": reason.pk, "fee": "0"},
    )
    assert added.status_code == 302
    case = RefundCase.objects.get()
    assert (case.requested_by, case.amount) == (associate, Decimal("250.00"))
    order.refresh_from_db()
    assert order.committed_amount == Decimal("250.00")


def test_a_return_is_added_with_its_items(client, associate, order):
    line = OrderLineFactory(order=order, sku="SKU-9", quantity=2)
    client.force_login(associate)
    reason = services.validate_case_request.__globals__["ReasonCode"].objects.get(code="damaged")

    response = client.post(
        "/admin/refunds/return/add/",
        {
            "order": order.pk,
            "type": "return",
            "amount": "100.00",
            "reason": reason.pk,
            "fee": "0",
            "return_items": "SKU-9 3",
        },
    )
    assert "more than can come back" in response.content.decode()

    client.post(
        "/admin/refunds/return/add/",
        {
            "order": order.pk,
            "type": "return",
            "amount": "100.00",
            "reason": reason.pk,
            "fee": "0",
            "return_items": "SKU-9 1",
        },
    )
    assert RefundCase.objects.get().return_lines.get().order_line == line


@pytest.mark.parametrize(("role", "masked"), [("approver", True), ("associate", False), ("auditor", False)])
def test_customer_details_in_the_order_list(client, make_user, setup, role, masked):
    OrderFactory(customer_name="Jane Doe", customer_email="jane.doe@example.com")
    client.force_login(make_user(role))

    page = client.get("/admin/refunds/order/").content.decode()

    assert ("j***@example.com" in page) is masked
    assert ("jane.doe@example.com" in page) is not masked


def test_order_export_needs_export_records(client, make_user, setup):
    OrderFactory(customer_name="Jane Doe", customer_email="jane.doe@example.com")
    data = {"format": "0", **{f"orderresource_{f}": "on" for f in ["reference", "customer_name", "customer_email"]}}
    client.force_login(make_user("approver"))  # masked customer details, and no export permission
    assert client.post("/admin/refunds/order/export/", data).status_code == 403

    client.force_login(make_user("auditor"))  # exports, and may see customer details
    response = client.post("/admin/refunds/order/export/", data)
    assert response.status_code == 200
    assert "jane.doe@example.com" in response.content.decode()


def test_auditors_see_no_add_or_action_controls(client, make_user, many_cases):
    client.force_login(make_user("auditor"))
    page = client.get(CHANGELIST).content.decode()
    assert "addlink" not in page
    assert "case_approve_action" not in page and "case_process_action" not in page
    assert client.get("/admin/refunds/refundcase/add/").status_code == 403


def test_returned_items_are_inspected_on_the_case_page(client, associate, order, request_case):
    line = OrderLineFactory(order=order, quantity=1)
    case = request_case(order, "50.00", type="return", return_lines=[{"order_line_id": line.pk, "quantity": 1}])
    return_line = case.return_lines.get()
    client.force_login(associate)
    prefix = "return_lines"

    response = client.post(
        reverse("admin:refunds_refundcase_change", args=[case.pk]),
        {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "1",
            f"{prefix}-0-id": return_line.pk,
            f"{prefix}-0-case": case.pk,
            f"{prefix}-0-condition": "new",
            f"{prefix}-0-disposition": "restock",
            "attachments-TOTAL_FORMS": "0",
            "attachments-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    return_line.refresh_from_db()
    assert (return_line.condition, return_line.disposition, return_line.inspected_by) == ("new", "restock", associate)


def test_an_associate_adds_an_order_and_the_rules_hold(client, associate, setup):
    from apps.refunds.models import Channel, Order

    client.force_login(associate)
    base = {
        "reference": "SO-ADM-1",
        "customer_name": "Ann Lee",
        "customer_email": "ann@example.com",
        "order_date": "2026-11-01",
        "channel": Channel.objects.get(code="web").pk,
        "currency": "EUR",
        "total": "50.00",
        "lines-TOTAL_FORMS": "0",
        "lines-INITIAL_FORMS": "0",
        "cases-TOTAL_FORMS": "0",
        "cases-INITIAL_FORMS": "0",
    }

    refused = client.post("/admin/refunds/order/add/", {**base, "amount_paid": "50.01"})
    added = client.post("/admin/refunds/order/add/", {**base, "amount_paid": "50.00"})

    assert refused.status_code == 200 and not Order.objects.filter(reference="SO-ADM-1", amount_paid="50.01").exists()
    assert added.status_code == 302
    assert Order.objects.get(reference="SO-ADM-1").created_by == associate


def test_evidence_is_downloaded_through_the_portal(
    client, make_user, order, request_case, associate, settings, tmp_path
):
    from django.core.files.base import ContentFile

    settings.MEDIA_ROOT = tmp_path
    case = request_case(order)
    attachment = services.attachment_add(
        case_id=case.pk, actor=associate, file=ContentFile(b"receipt", name="receipt.txt"), description="Receipt"
    )
    url = reverse("admin:refunds_caseattachment_download", args=[attachment.pk])

    client.force_login(make_user("auditor"))
    assert b"".join(client.get(url).streaming_content) == b"receipt"
    client.force_login(make_user("vendor_manager"))
    assert client.get(url).status_code == 403
