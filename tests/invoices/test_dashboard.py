"""Accounts payable on the dashboard: figures against a hand-computed set of invoices, and links into the lists."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.core.dashboard import Period
from apps.invoices import dashboard
from apps.invoices.models import CreditMemo, Invoice, Payment
from tests.vendors.factories import VendorFactory

S = Invoice.Status
M = Invoice.MatchResult


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _invoice(vendor, number, total, status, due_in_days, *, match=M.PENDING, **fields):
    today = timezone.localdate()
    due = today + timedelta(days=due_in_days)
    return Invoice.objects.create(
        vendor=vendor,
        number=number,
        invoice_date=due - timedelta(days=30),
        due_date=due,
        currency=vendor.default_currency,
        subtotal=Decimal(total),
        total=Decimal(total),
        status=status,
        match_result=match,
        **fields,
    )


@pytest.fixture
def invoices(db):
    """USD: 100 current, 200 at 1-30, 250 open at 31-60 (300 less a 50 payment), a paid and a draft one.
    EUR: 1000 at 90+, 30 open at 61-90 (50 less a 20 credit)."""
    now, today = timezone.now(), timezone.localdate()
    usd = VendorFactory(code="V-USD", default_currency="USD")
    eur = VendorFactory(code="V-EUR", default_currency="EUR")
    made = {
        "I1": _invoice(usd, "I1", "100.00", S.MATCHED, 5, match=M.MATCHED, submitted_at=now - timedelta(days=3)),
        "I2": _invoice(
            usd,
            "I2",
            "200.00",
            S.APPROVED,
            -10,
            match=M.OVERRIDDEN,
            submitted_at=now - timedelta(days=6),
            approved_at=now - timedelta(days=2),
        ),
        "I3": _invoice(
            usd,
            "I3",
            "300.00",
            S.EXCEPTION,
            -45,
            match=M.EXCEPTION,
            submitted_at=now - timedelta(days=4),
            paid_amount=Decimal("50.00"),
        ),
        "I4": _invoice(
            usd,
            "I4",
            "400.00",
            S.PAID,
            -100,
            match=M.MATCHED,
            submitted_at=now - timedelta(days=20),
            approved_at=now - timedelta(days=18),
            paid_at=now - timedelta(days=10),
            paid_amount=Decimal("400.00"),
        ),
        "I5": _invoice(usd, "I5", "999.00", S.DRAFT, -100),
        "I6": _invoice(eur, "I6", "1000.00", S.ON_HOLD, -95),
        "I7": _invoice(eur, "I7", "50.00", S.DISPUTED, -70, credited_amount=Decimal("20.00")),
    }
    Payment.objects.create(
        invoice=made["I3"], payment_date=today - timedelta(days=1), amount=Decimal("50.00"), reference="P-3"
    )
    Payment.objects.create(
        invoice=made["I4"], payment_date=today - timedelta(days=10), amount=Decimal("400.00"), reference="P-4"
    )
    CreditMemo.objects.create(
        vendor=eur,
        invoice=made["I7"],
        number="CM-7",
        memo_date=today - timedelta(days=2),
        amount=Decimal("20.00"),
        currency="EUR",
        reason="Short delivery",
    )
    return made


def _period(days=30):
    return Period(days=days, today=timezone.localdate())


def test_ap_aging_panel_buckets_per_currency_and_overdue_amounts(invoices):
    figures = dashboard.ap_aging_panel(period=_period())

    assert [(f["label"], f["value"], f["url"]) for f in figures["summary"]] == [
        ("Overdue (2 invoices)", "1,030.00 EUR", "/admin/invoices/invoice/?overdue=yes&currency=EUR"),
        ("Overdue (2 invoices)", "450.00 USD", "/admin/invoices/invoice/?overdue=yes&currency=USD"),
    ]
    assert figures["chart"]["labels"] == ["current", "1-30", "31-60", "61-90", "90+"]
    assert [(d["label"], d["data"]) for d in figures["chart"]["datasets"]] == [
        ("EUR", ["0.00", "0.00", "0.00", "30.00", "1000.00"]),
        ("USD", ["100.00", "200.00", "250.00", "0.00", "0.00"]),
    ]
    assert figures["table"]["rows"][1] == [
        "USD",
        "100.00 USD",
        "200.00 USD",
        "250.00 USD",
        "0.00 USD",
        "0.00 USD",
        "550.00 USD",
    ]


def test_exception_rate_and_cycle_time(invoices):
    figures = dashboard.exceptions_and_cycle_panel(period=_period())

    values = {f["label"]: f["value"] for f in figures["summary"]}
    assert values == {
        "Exception rate (2 of 4 matched)": "50.0 %",
        "Open match exceptions": "1",
        "Days submitted → approved (2 invoices)": "3.0",
        "Days approved → paid (1 invoices)": "8.0",
    }
    assert figures["chart"]["datasets"][0]["data"] == ["3.0", "8.0"]


def test_a_shorter_period_leaves_older_invoices_out(invoices):
    values = {f["label"]: f["value"] for f in dashboard.exceptions_and_cycle_panel(period=_period(7))["summary"]}
    assert values["Exception rate (2 of 3 matched)"] == "66.7 %"
    assert values["Days approved → paid (0 invoices)"] == "—"


def test_the_overdue_link_lists_exactly_the_invoices_counted(client, make_user, invoices):
    client.force_login(make_user("approver"))
    for figure, expected in zip(
        dashboard.ap_aging_panel(period=_period())["summary"], [{"I6", "I7"}, {"I2", "I3"}], strict=True
    ):
        response = client.get(figure["url"])
        assert {invoice.number for invoice in response.context["cl"].result_list} == expected


def test_work_queues_count_what_their_lists_show(client, make_user, invoices):
    approver = make_user("approver")
    client.force_login(approver)
    response = client.get("/admin/")
    work = {queue["key"]: queue for queue in response.context["dashboard"]["work"]}
    assert work["invoices.to_approve"]["count"] == 1
    assert work["invoices.exceptions"]["count"] == 1
    listed = client.get(work["invoices.to_approve"]["url"]).context["cl"].result_list
    assert [invoice.number for invoice in listed] == ["I1"]
    listed = client.get(work["invoices.exceptions"]["url"]).context["cl"].result_list
    assert [invoice.number for invoice in listed] == ["I3"]


def test_invoices_to_approve_leave_out_those_the_approver_may_not_approve(client, make_user, invoices):
    approver, colleague = make_user("approver"), make_user("approver")
    usd = invoices["I1"].vendor
    _invoice(usd, "I8", "80.00", S.MATCHED, 5, match=M.MATCHED, submitted_by=approver)  # submitted it
    _invoice(usd, "I9", "90.00", S.MATCHED, 5, match=M.MATCHED, approved_by=approver)  # gave the first approval
    _invoice(usd, "I10", "95.00", S.MATCHED, 5, match=M.MATCHED, approved_by=colleague)  # needs a second approver
    client.force_login(approver)

    work = {queue["key"]: queue for queue in client.get("/admin/").context["dashboard"]["work"]}

    assert work["invoices.to_approve"]["count"] == 2
    listed = client.get(work["invoices.to_approve"]["url"]).context["cl"].result_list
    assert sorted(invoice.number for invoice in listed) == ["I1", "I10"]
