from datetime import date
from decimal import Decimal

import pytest

from apps.invoices import services
from apps.invoices.models import AgingReportRun, Invoice, Payment

pytestmark = pytest.mark.django_db
S = Invoice.Status


def invoice_body(po_line, quantity="100", price="10.00", **extra):
    return {
        "vendor": po_line.purchase_order.vendor_id,
        "number": extra.pop("number", "API-1"),
        "purchase_order": po_line.purchase_order_id,
        "invoice_date": "2026-10-01",
        "tax": "0.00",
        "lines": [{"po_line": po_line.pk, "quantity": quantity, "unit_price": price}],
        **extra,
    }


@pytest.mark.parametrize(
    ("role", "status"),
    [("associate", 200), ("approver", 200), ("auditor", 200), ("vendor_manager", 200), ("sop_owner", 403)],
)
def test_who_may_read_invoices(api_as, submitted, po_line, role, status):
    submitted(po_line)
    response = api_as(role).get("/api/v1/invoices/")
    assert response.status_code == status
    if status == 200:
        assert response.json()["results"][0]["open_balance"] == "1000.00"


def test_anonymous_is_refused(api_client):
    assert api_client.get("/api/v1/invoices/").status_code in (401, 403)


def test_an_associate_enters_an_invoice_with_lines_and_due_date_from_terms(api_as, po_line):
    client = api_as("associate")
    response = client.post("/api/v1/invoices/", invoice_body(po_line), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "draft"
    assert body["total"] == "1000.00"
    assert body["due_date"] == "2026-10-31"
    assert Invoice.objects.get().created_by == client.user


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"lines": [{"quantity": "-1", "unit_price": "1.00", "description": "x"}]}, "lines"),
        ({"lines": [{"quantity": "1", "unit_price": "-1.00", "description": "x"}]}, "lines"),
        ({"due_date": "2026-09-01"}, "due_date"),
        ({"currency": "EUR"}, "currency"),
        ({"vendor": 999999}, "vendor"),
    ],
)
def test_bad_input_answers_400_naming_the_field_and_saves_nothing(api_as, po_line, change, field):
    response = api_as("associate").post("/api/v1/invoices/", invoice_body(po_line, **change), format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert Invoice.objects.count() == 0


def test_auditors_and_approvers_cannot_enter_invoices(api_as, po_line):
    for role in ("auditor", "approver"):
        assert api_as(role).post("/api/v1/invoices/", invoice_body(po_line), format="json").status_code == 403
    assert Invoice.objects.count() == 0


def test_the_whole_flow_through_the_api(api_as, po_line, make_user):
    clerk, boss = api_as("associate"), api_as("approver")
    invoice_id = clerk.post("/api/v1/invoices/", invoice_body(po_line, "101"), format="json").json()["id"]

    submitted = clerk.post(f"/api/v1/invoices/{invoice_id}/submit/", {}, format="json")
    assert submitted.json()["status"] == "exception"
    assert submitted.json()["lines"][0]["match_reason"] == "qty_over_ordered"

    overridden = boss.post(f"/api/v1/invoices/{invoice_id}/override-match/", {"reason": "One spare"}, format="json")
    assert overridden.json()["match_result"] == "overridden"
    assert boss.post(f"/api/v1/invoices/{invoice_id}/approve/").json()["status"] == "approved"
    assert boss.post(f"/api/v1/invoices/{invoice_id}/schedule/", {}, format="json").json()["status"] == "scheduled"

    paid = clerk.post(
        "/api/v1/payments/",
        {"invoice": invoice_id, "payment_date": "2026-11-01", "amount": "1010.00", "reference": "ACH-1"},
        format="json",
    )
    assert paid.status_code == 201, paid.json()
    assert Invoice.objects.get(pk=invoice_id).status == S.PAID


def test_a_transition_the_status_does_not_allow_answers_409(api_as, submitted, po_line):
    invoice = submitted(po_line)
    response = api_as("associate").post(f"/api/v1/invoices/{invoice.pk}/submit/", {}, format="json")
    assert response.status_code == 409
    assert "only draft invoices can be submitted" in response.json()["detail"]


def test_self_approval_answers_403(api_as, make_user, po_line, enter):
    boss = make_user("approver", is_superuser=True)
    invoice = enter(po_line, actor=boss)
    services.invoice_submit(invoice_id=invoice.pk, actor=boss)

    response = api_as(user=boss).post(f"/api/v1/invoices/{invoice.pk}/approve/")

    assert response.status_code == 403
    assert "a different person must approve" in response.json()["detail"]


def test_an_associate_may_not_approve(api_as, submitted, po_line):
    invoice = submitted(po_line)
    response = api_as("associate").post(f"/api/v1/invoices/{invoice.pk}/approve/")
    assert response.status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).status == S.MATCHED


def test_auditors_cannot_transition(api_as, submitted, po_line):
    invoice = submitted(po_line)
    for path in ("approve", "hold", "cancel", "dispute"):
        response = api_as("auditor").post(f"/api/v1/invoices/{invoice.pk}/{path}/", {"reason": "x"}, format="json")
        assert response.status_code == 403


def test_a_hold_needs_a_reason(api_as, submitted, po_line):
    invoice = submitted(po_line)
    response = api_as("associate").post(f"/api/v1/invoices/{invoice.pk}/hold/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()


def test_dispute_release_and_contact_log(api_as, submitted, po_line):
    client = api_as("associate")
    invoice = submitted(po_line)
    assert (
        client.post(f"/api/v1/invoices/{invoice.pk}/dispute/", {"reason": "Price"}, format="json").json()["status"]
        == "disputed"
    )
    logged = client.post(
        f"/api/v1/invoices/{invoice.pk}/dispute-contacts/",
        {"contact_name": "AR desk", "note": "Credit on the way", "channel": "phone"},
        format="json",
    )
    assert logged.status_code == 201
    assert client.post(f"/api/v1/invoices/{invoice.pk}/release/", {}, format="json").json()["status"] == "matched"


def test_paying_above_the_open_balance_answers_400(api_as, submitted, po_line, approver):
    invoice = submitted(po_line)
    services.invoice_approve(invoice_id=invoice.pk, actor=approver)
    services.invoice_schedule(invoice_id=invoice.pk, actor=approver)
    response = api_as("associate").post(
        "/api/v1/payments/",
        {"invoice": invoice.pk, "payment_date": "2026-11-01", "amount": "1000.01", "reference": "X"},
        format="json",
    )
    assert response.status_code == 400
    assert "amount" in response.json()
    assert Payment.objects.count() == 0


def test_filters_status_overdue_and_exception_reason(api_as, submitted, po_line):
    submitted(po_line, "101")
    client = api_as("auditor")
    assert client.get("/api/v1/invoices/?status=exception").json()["count"] == 1
    assert client.get("/api/v1/invoices/?exception_reason=qty_over_ordered").json()["count"] == 1
    assert client.get("/api/v1/invoices/?exception_reason=price_over_ordered").json()["count"] == 0
    assert client.get("/api/v1/invoices/?overdue=true").json()["count"] == 1  # due 2026-10-31
    assert client.get("/api/v1/invoices/?due_after=2026-11-01").json()["count"] == 0


def test_purchase_orders_receipts_and_credit_memos(api_as, submitted, po_line):
    client = api_as("associate")
    created = client.post(
        "/api/v1/purchase-orders/",
        {
            "vendor": po_line.purchase_order.vendor_id,
            "number": "PO-API",
            "order_date": "2026-09-01",
            "lines": [{"description": "Bolts", "quantity": "5", "unit_price": "2.00", "promised_date": "2026-09-10"}],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    line_id = created.json()["lines"][0]["id"]
    receipt = client.post(
        "/api/v1/receipts/",
        {"po_line": line_id, "received_date": "2026-09-09", "quantity_received": "5", "quantity_damaged": "6"},
        format="json",
    )
    assert receipt.status_code == 400
    assert "quantity_damaged" in receipt.json()

    invoice = submitted(po_line)
    credit = client.post(
        "/api/v1/credit-memos/",
        {"invoice": invoice.pk, "number": "CM-1", "memo_date": "2026-10-05", "amount": "50.00", "reason": "Late"},
        format="json",
    )
    assert credit.status_code == 201, credit.json()
    assert client.get(f"/api/v1/invoices/{invoice.pk}/").json()["open_balance"] == "950.00"


def test_ap_aging_json(api_as, submitted, po_line):
    submitted(po_line)  # due 2026-10-31
    response = api_as("auditor").get("/api/v1/reports/ap-aging/?as_of=2026-11-30")

    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2026-11-30"
    [row] = body["rows"]
    assert row["vendor"] == po_line.purchase_order.vendor_id
    assert (row["currency"], row["d1_30"], row["total"]) == ("USD", "1000.00", "1000.00")
    assert body["totals"] == [
        {
            "currency": "USD",
            "current": "0.00",
            "d1_30": "1000.00",
            "d31_60": "0.00",
            "d61_90": "0.00",
            "d90_plus": "0.00",
            "total": "1000.00",
        }
    ]
    assert "vendor" not in body["totals"][0]
    filtered = api_as("auditor").get("/api/v1/reports/ap-aging/?as_of=2026-11-30&currency=EUR").json()
    assert filtered["rows"] == [] and filtered["totals"] == []


def test_ap_aging_refuses_a_bad_date_and_unknown_vendor(api_as):
    client = api_as("approver")
    assert "as_of" in client.get("/api/v1/reports/ap-aging/?as_of=2026-13-01").json()
    assert "vendor" in client.get("/api/v1/reports/ap-aging/?vendor=999999").json()
    assert api_as("sop_owner").get("/api/v1/reports/ap-aging/").status_code == 403


def test_an_aging_report_run_writes_csv_and_xlsx(
    api_as, submitted, po_line, django_capture_on_commit_callbacks, monkeypatch
):
    from apps.invoices.tasks import generate_aging_report

    monkeypatch.setattr(generate_aging_report, "delay", lambda *args: generate_aging_report.apply(args=args))
    client = api_as("approver")
    submitted(po_line)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/ap-aging-runs/", {"as_of": "2026-11-30"}, format="json")
    assert response.status_code == 201, response.json()
    run = AgingReportRun.objects.get()
    assert run.status == AgingReportRun.Status.DONE
    assert run.row_count == 2  # the vendor row and the USD total

    # the file is an export: the approver who ran it reads the figures, an auditor downloads it
    assert client.get(f"/api/v1/ap-aging-runs/{run.pk}/download/?file=csv").status_code == 403
    auditor = api_as("auditor")
    csv = auditor.get(f"/api/v1/ap-aging-runs/{run.pk}/download/?file=csv")
    assert csv.status_code == 200
    content = csv.content.decode()
    assert "1000.00" in content and "TOTAL" in content
    assert auditor.get(f"/api/v1/ap-aging-runs/{run.pk}/download/?file=xlsx").content[:2] == b"PK"
    assert auditor.get(f"/api/v1/ap-aging-runs/{run.pk}/download/?file=pdf").status_code == 404
    assert api_as("auditor").post("/api/v1/ap-aging-runs/", {"as_of": "2026-11-30"}, format="json").status_code == 403


def test_money_is_decimal_in_responses(api_as, submitted, po_line):
    invoice = submitted(po_line, "3", "3.33")
    body = api_as("auditor").get(f"/api/v1/invoices/{invoice.pk}/").json()
    assert body["total"] == "9.99"
    assert Decimal(body["open_balance"]) == Decimal("9.99")
    assert date.fromisoformat(body["due_date"])
