"""The API per role: who reads, who writes, who moves a case on; 400 / 403 / 409 bodies."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.models import AuditEvent
from apps.refunds import services
from apps.refunds.models import Order, Payout, RefundCase, ReportRun
from tests.refunds.factories import ApproverLimitFactory, OrderFactory, OrderLineFactory

CASES = "/api/v1/refunds/"
ORDERS = "/api/v1/orders/"


def case_body(for_order, **more):
    return {"order": for_order.pk, "type": "refund", "amount": "100.00", "reason": "damaged", **more}


# --- Reading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [("associate", 200), ("approver", 200), ("auditor", 200), ("vendor_manager", 403), ("inventory_controller", 403)],
)
def test_who_may_read_orders_and_cases(api_as, order, role, expected):
    client = api_as(role)
    assert client.get(ORDERS).status_code == expected
    assert client.get(CASES).status_code == expected
    assert client.get("/api/v1/reports/refund-aging/").status_code == expected


def test_anonymous_is_refused(api_client, order):
    assert api_client.get(ORDERS).status_code in (401, 403)
    assert api_client.post(f"{CASES}1/approve/").status_code in (401, 403)


@pytest.mark.parametrize(("role", "masked"), [("associate", False), ("auditor", False), ("approver", True)])
def test_customer_details_are_masked_for_roles_that_do_not_need_them(api_as, setup, role, masked):
    OrderFactory(customer_name="Jane Doe", customer_email="jane.doe@example.com")

    row = api_as(role).get(ORDERS).json()["results"][0]

    if masked:
        assert (row["customer_name"], row["customer_email"]) == ("J*** D***", "j***@example.com")
    else:
        assert (row["customer_name"], row["customer_email"]) == ("Jane Doe", "jane.doe@example.com")


def test_cases_filter_by_type_and_status(api_as, order, request_case):
    request_case(order, "10.00")
    request_case(OrderFactory(), "20.00", type="chargeback")

    client = api_as("auditor")
    only_chargebacks = client.get(CASES, {"type": "chargeback"}).json()["results"]
    assert [row["type"] for row in only_chargebacks] == ["chargeback"]
    assert client.get(CASES, {"status": "approved"}).json()["results"] == []
    assert len(client.get(CASES, {"order": order.reference}).json()["results"]) == 1


def test_a_case_shows_its_approvals_payout_and_refundable_remaining(api_as, approved_case, associate):
    services.case_process(case_id=approved_case.pk, actor=associate)

    body = api_as("auditor").get(f"{CASES}{approved_case.pk}/").json()
    order = api_as("auditor").get(f"{ORDERS}{approved_case.order_id}/").json()

    assert body["status"] == "processed"
    assert body["approvals"][0]["level"] == 1
    assert body["payout"]["amount"] == "100.00"
    assert order["refundable_remaining"] == "900.00"


def test_the_list_says_over_sla_as_each_case_does(api_as, order, request_case, approved_case, associate):
    """The list works ``over_sla`` out once per page; every case of it answers as the case on its own."""
    today = timezone.localdate()
    late = request_case(order, "10.00")
    in_time = request_case(order, "20.00")
    RefundCase.objects.filter(pk=late.pk).update(due_date=today - timedelta(days=1))
    services.case_process(case_id=approved_case.pk, actor=associate)
    RefundCase.objects.filter(pk=approved_case.pk).update(
        due_date=today - timedelta(days=3), processed_at=timezone.now() - timedelta(days=1)
    )

    client = api_as("auditor")
    listed = {row["id"]: row["over_sla"] for row in client.get(CASES).json()["results"]}

    assert listed == {late.pk: True, in_time.pk: False, approved_case.pk: True}
    for pk, over in listed.items():
        assert client.get(f"{CASES}{pk}/").json()["over_sla"] is over
        assert RefundCase.objects.get(pk=pk).over_sla is over


# --- Writing ------------------------------------------------------------------------------------


def test_an_associate_creates_an_order_and_a_case(api_as, setup):
    client = api_as("associate")
    created = client.post(
        ORDERS,
        {
            "reference": "SO-API-1",
            "customer_name": "Ann Lee",
            "customer_email": "ann@example.com",
            "order_date": timezone.localdate().isoformat(),
            "channel": "web",
            "currency": "EUR",
            "total": "80.00",
            "amount_paid": "80.00",
            "lines": [{"sku": "SKU-1", "description": "Lamp", "quantity": 2, "unit_price": "40.00"}],
        },
    )
    assert created.status_code == 201, created.json()
    order = Order.objects.get(reference="SO-API-1")
    assert order.lines.count() == 1

    response = client.post(CASES, {"order": order.pk, "type": "refund", "amount": "80.00", "reason": "damaged"})

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "requested"
    assert response.json()["requested_by"] == client.user.username


@pytest.mark.parametrize("role", ["approver", "auditor", "vendor_manager"])
def test_who_may_not_create_cases_or_orders(api_as, order, role):
    client = api_as(role)
    assert client.post(CASES, case_body(order)).status_code == 403
    assert client.patch(f"{ORDERS}{order.pk}/", {"customer_name": "X"}).status_code == 403
    assert not RefundCase.objects.exists()


def test_orders_are_never_deleted(api_as, order):
    assert api_as("associate").delete(f"{ORDERS}{order.pk}/").status_code in (403, 405)
    assert Order.objects.filter(pk=order.pk).exists()


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"amount": "1000.01"}, "amount", "exceeds the refundable amount remaining"),
        ({"currency": "USD"}, "currency", "The case must be in the order's currency, EUR, not USD."),
        ({"amount": "0.00"}, "amount", "The amount must be greater than zero."),
        ({"amount": "-1.00"}, "amount", "The amount must be greater than zero."),
        ({"amount": "1.001"}, "amount", "no more than 2 decimal places"),
        ({"order": 999999}, "order", "No order with id 999999."),
        ({"reason": ""}, "reason", "This field may not be blank."),
    ],
)
def test_bad_input_is_a_400_naming_the_rule_and_saves_nothing(api_as, order, change, field, message):
    response = api_as("associate").post(CASES, case_body(order, **change))

    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert not RefundCase.objects.exists()


def test_a_return_line_above_what_was_ordered_is_a_400(api_as, order):
    line = OrderLineFactory(order=order, quantity=1)

    response = api_as("associate").post(
        CASES, case_body(order, type="return", return_lines=[{"order_line": line.pk, "quantity": 2}])
    )

    assert response.status_code == 400
    assert "2 x" in response.json()["return_lines"][0] and "1 ordered" in response.json()["return_lines"][0]


def test_outside_the_return_window_the_400_asks_for_an_override(api_as, setup):
    old = OrderFactory(order_date=timezone.localdate() - timedelta(days=45))
    client = api_as("associate")

    refused = client.post(CASES, case_body(old))
    accepted = client.post(CASES, case_body(old, override_reason="Defect found late"))

    assert refused.status_code == 400 and "override reason is required" in refused.json()["override_reason"][0]
    assert accepted.status_code == 201


# --- Transitions --------------------------------------------------------------------------------


def test_the_whole_flow_with_two_approvers(api_as, order, approver, approver2, associate):
    requester = api_as(user=associate)
    case_id = requester.post(CASES, case_body(order, amount="600.00")).json()["id"]

    first = api_as(user=approver).post(f"{CASES}{case_id}/approve/")
    assert first.status_code == 200 and first.json()["status"] == "requested"
    second = api_as(user=approver2).post(f"{CASES}{case_id}/approve/")
    assert second.status_code == 200 and second.json()["status"] == "approved"

    processed = requester.post(f"{CASES}{case_id}/process/")
    replay = requester.post(f"{CASES}{case_id}/process/")
    assert processed.status_code == replay.status_code == 200
    assert processed.json()["payout"] == replay.json()["payout"]
    assert Payout.objects.count() == 1

    closed = requester.post(f"{CASES}{case_id}/close/")
    assert closed.json()["status"] == "closed"


def test_self_approval_is_a_403_with_the_reason(api_as, order, make_user):
    both = make_user("approver")
    both.groups.add(make_user("associate").groups.first())
    ApproverLimitFactory(user=both)
    client = api_as(user=both)
    case_id = client.post(CASES, case_body(order)).json()["id"]

    response = client.post(f"{CASES}{case_id}/approve/")

    assert response.status_code == 403
    assert "case you requested or entered" in response.json()["detail"]
    assert RefundCase.objects.get(pk=case_id).status == "requested"
    assert AuditEvent.objects.filter(outcome="denied").exists()


@pytest.mark.parametrize("role", ["associate", "auditor"])
def test_who_may_not_approve(api_as, order, request_case, role):
    case = request_case(order)
    response = api_as(role).post(f"{CASES}{case.pk}/approve/")
    assert response.status_code == 403
    assert response.json()["detail"] == "You may not approve or reject refund cases."


def test_a_transition_the_status_does_not_allow_is_a_409(api_as, approved_case, approver2):
    response = api_as(user=approver2).post(f"{CASES}{approved_case.pk}/approve/")

    assert response.status_code == 409
    assert response.json()["detail"] == f"{approved_case.reference} is approved; only requested cases are approved."


def test_process_before_approval_is_a_409(api_as, order, request_case, associate):
    case = request_case(order)
    assert api_as(user=associate).post(f"{CASES}{case.pk}/process/").status_code == 409


def test_reject_and_cancel_need_a_reason(api_as, order, request_case, approver, associate):
    case = request_case(order)
    no_reason = api_as(user=approver).post(f"{CASES}{case.pk}/reject/", {"reason": ""})
    assert no_reason.status_code == 400 and no_reason.json()["reason"] == ["Say why the case is rejected."]

    rejected = api_as(user=approver).post(f"{CASES}{case.pk}/reject/", {"reason": "No proof"})
    assert rejected.json()["status"] == "rejected"

    other = request_case(OrderFactory())
    cancelled = api_as(user=associate).post(f"{CASES}{other.pk}/cancel/", {"reason": "Withdrawn"})
    assert cancelled.json()["status"] == "cancelled"
    assert api_as(user=associate).post(f"{CASES}{other.pk}/cancel/", {"reason": "again"}).status_code == 409


def test_auditors_cannot_move_anything(api_as, approved_case):
    client = api_as("auditor")
    for action in ("process", "close", "cancel", "reject"):
        assert client.post(f"{CASES}{approved_case.pk}/{action}/", {"reason": "x"}).status_code == 403
    approved_case.refresh_from_db()
    assert approved_case.status == "approved"


def test_chargeback_evidence_and_outcome(api_as, order, request_case, associate):
    case = request_case(order, "300.00", type="chargeback")
    client = api_as(user=associate)

    assert client.post(f"{CASES}{case.pk}/evidence-submitted/").json()["evidence_submitted_at"]
    body = client.post(f"{CASES}{case.pk}/outcome/", {"outcome": "lost", "amount_lost": "120.00"}).json()

    assert (body["outcome"], body["amount_lost"]) == ("lost", "120.00")


def test_return_inspection(api_as, order, request_case, associate):
    line = OrderLineFactory(order=order, quantity=1)
    case = request_case(order, "50.00", type="return", return_lines=[{"order_line_id": line.pk, "quantity": 1}])
    return_line = case.return_lines.get()

    body = (
        api_as(user=associate)
        .post(f"{CASES}{case.pk}/inspect/", {"line": return_line.pk, "condition": "new", "disposition": "restock"})
        .json()
    )

    assert body["return_lines"][0]["disposition"] == "restock"
    wrong = api_as(user=associate).post(
        f"{CASES}{case.pk}/inspect/", {"line": 0, "condition": "new", "disposition": "scrap"}
    )
    assert wrong.status_code == 400


# --- Aging and report runs ----------------------------------------------------------------------


def test_the_aging_report_shape(api_as, order, request_case):
    request_case(order, "10.00")
    request_case(
        OrderFactory(), "20.00", type="chargeback", evidence_due_date=timezone.localdate() - timedelta(days=40)
    )

    body = api_as("auditor").get("/api/v1/reports/refund-aging/", {"as_of": timezone.localdate().isoformat()}).json()

    assert body["as_of"] == timezone.localdate().isoformat()
    rows = {row["type"]: row for row in body["rows"]}
    assert set(rows["refund"]) == {
        "type",
        "currency",
        "count",
        "current",
        "d1_30",
        "d31_60",
        "d61_90",
        "d90_plus",
        "total",
    }
    assert rows["refund"]["current"] == "10.00"
    assert rows["chargeback"]["d31_60"] == "20.00"
    assert body["totals"][0]["total"] == "30.00"


def test_the_aging_report_by_type_and_a_bad_date(api_as, order, request_case):
    request_case(order, "10.00")
    client = api_as("auditor")

    assert client.get("/api/v1/reports/refund-aging/", {"type": "chargeback"}).json()["rows"] == []
    bad = client.get("/api/v1/reports/refund-aging/", {"as_of": "2026-13-01"})
    assert bad.status_code == 400 and "as_of" in bad.json()


def test_report_runs_are_requested_by_approvers_not_auditors(api_as, setup, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = api_as("approver").post("/api/v1/refund-report-runs/", {"kind": "aging", "format": "xlsx"})

    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "queued"
    assert len(callbacks) == 1  # the worker is asked once the run is saved
    assert api_as("auditor").post("/api/v1/refund-report-runs/", {"kind": "aging"}).status_code == 403
    assert ReportRun.objects.count() == 1


def test_money_is_never_a_float_in_the_api(api_as, order):
    body = api_as("associate").get(f"{ORDERS}{order.pk}/").json()
    assert body["amount_paid"] == "1000.00" and isinstance(body["total"], str)
    assert Decimal(body["refundable_remaining"]) == Decimal("1000.00")


def test_evidence_is_attached_by_associates_not_auditors(api_as, order, request_case, associate, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    case = request_case(order)

    def upload(client):
        photo = SimpleUploadedFile("photo.jpg", b"jpeg-bytes", content_type="image/jpeg")
        return client.post(
            f"{CASES}{case.pk}/attach/", {"file": photo, "description": "Broken lid"}, format="multipart"
        )

    assert upload(api_as("auditor")).status_code == 403
    created = upload(api_as(user=associate))

    assert created.status_code == 201, created.json()
    assert api_as("auditor").get(f"{CASES}{case.pk}/").json()["attachments"][0]["description"] == "Broken lid"


def test_order_list_queries_do_not_grow_and_count_chargeback_losses(
    api_as, setup, request_case, associate, approver, django_assert_max_num_queries
):
    orders = [OrderFactory() for _ in range(8)]
    chargeback = request_case(orders[0], "300.00", type="chargeback")
    services.chargeback_record_outcome(case_id=chargeback.pk, actor=associate, outcome="lost")
    request_case(orders[1], "100.00")
    client = api_as("auditor")

    with django_assert_max_num_queries(10):
        rows = {row["reference"]: row for row in client.get(ORDERS).json()["results"]}

    assert rows[orders[0].reference]["refundable_remaining"] == "700.00"
    assert rows[orders[1].reference]["refundable_remaining"] == "900.00"
    assert rows[orders[2].reference]["refundable_remaining"] == "1000.00"
