"""Refunds on the dashboard: backlog by age, SLA attainment and chargeback win rate against hand-computed cases."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.core.dashboard import Period
from apps.refunds import dashboard
from apps.refunds.models import ReasonCode, RefundCase
from tests.refunds.factories import OrderFactory

S = RefundCase.Status
T = RefundCase.Type


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def cases(setup, make_user):
    """Open: 10 USD current, 20 USD 1-30, 30 EUR 31-60, 40 USD 90+. Processed in the last 30 days: two on time
    (a refund and a won chargeback), two late (a refund and a lost chargeback); one rejected."""
    today, now = timezone.localdate(), timezone.now()
    requester = make_user("associate")
    reason = ReasonCode.objects.get(code="damaged")
    made = {}

    def case(ref, type_, status, amount, currency, due_in_days, *, resolved_days_ago=None, **fields):
        due = today + timedelta(days=due_in_days)
        if type_ == T.CHARGEBACK:
            fields.setdefault("evidence_due_date", due)
        if resolved_days_ago is not None:
            fields["resolved_on"] = today - timedelta(days=resolved_days_ago)
            if status == S.PROCESSED:
                fields["processed_at"] = now - timedelta(days=resolved_days_ago)
        made[ref] = RefundCase.objects.create(
            reference=ref,
            order=OrderFactory(currency=currency),
            type=type_,
            status=status,
            amount=Decimal(amount),
            currency=currency,
            reason=reason,
            requested_by=requester,
            due_date=due,
            **fields,
        )

    case("C1", T.REFUND, S.REQUESTED, "10.00", "USD", 3)
    case("C2", T.REFUND, S.APPROVED, "20.00", "USD", -5)
    case("C3", T.STORE_CREDIT, S.REQUESTED, "30.00", "EUR", -40)
    case("C4", T.CHARGEBACK, S.REQUESTED, "40.00", "USD", -100)
    case("C5", T.REFUND, S.PROCESSED, "50.00", "USD", -10, resolved_days_ago=12)
    case("C6", T.REFUND, S.PROCESSED, "60.00", "USD", -20, resolved_days_ago=15)
    case("C7", T.CHARGEBACK, S.PROCESSED, "70.00", "USD", -1, resolved_days_ago=5, outcome="won")
    case(
        "C8",
        T.CHARGEBACK,
        S.PROCESSED,
        "80.00",
        "EUR",
        -10,
        resolved_days_ago=6,
        outcome="lost",
        amount_lost=Decimal("80.00"),
    )
    case("C9", T.REFUND, S.REJECTED, "90.00", "USD", 2, resolved_days_ago=3)
    return made


def _panel(days=30):
    return dashboard.backlog_panel(period=Period(days=days, today=timezone.localdate()))


def test_backlog_by_age_sla_attainment_and_win_rate(cases):
    figures = _panel()

    values = {f["label"]: f["value"] for f in figures["summary"]}
    assert values == {
        "Open: current (not yet due)": "1",
        "Open: 1-30 days past due": "1",
        "Open: 31-60 days past due": "1",
        "Open: 61-90 days past due": "0",
        "Open: over 90 days past due": "1",
        "Over SLA (open or processed late)": "5",
        "SLA attainment (2 of 4 processed on time)": "50.0 %",
        "Chargeback win rate (1 won, 1 lost)": "50.0 %",
    }
    assert figures["chart"]["datasets"][0]["data"] == [1, 1, 1, 0, 1]
    assert figures["table"]["rows"] == [
        ["EUR", "0 · 0.00 EUR", "0 · 0.00 EUR", "1 · 30.00 EUR", "0 · 0.00 EUR", "0 · 0.00 EUR", "1 · 30.00 EUR"],
        ["USD", "1 · 10.00 USD", "1 · 20.00 USD", "0 · 0.00 USD", "0 · 0.00 USD", "1 · 40.00 USD", "3 · 70.00 USD"],
    ]


def test_an_older_period_counts_nothing_processed_outside_it(cases):
    values = {f["label"]: f["value"] for f in _panel(days=30)["summary"]}
    assert "SLA attainment (2 of 4 processed on time)" in values
    # C7 and C8 (5-6 days ago) fall in the last 7 days; C5 and C6 (12-15 days ago) do not.
    sla = [
        f
        for f in dashboard.backlog_panel(period=Period(days=7, today=timezone.localdate()))["summary"]
        if f["label"].startswith("SLA attainment")
    ]
    assert sla[0]["label"] == "SLA attainment (1 of 2 processed on time)" and sla[0]["value"] == "50.0 %"


def test_panel_links_list_exactly_the_cases_counted(client, make_user, cases):
    client.force_login(make_user("approver"))
    expected = {
        "Open: current (not yet due)": {"C1"},
        "Open: 1-30 days past due": {"C2"},
        "Open: 31-60 days past due": {"C3"},
        "Open: over 90 days past due": {"C4"},
        "Over SLA (open or processed late)": {"C2", "C3", "C4", "C6", "C8"},
    }
    links = {f["label"]: f["url"] for f in _panel()["summary"] if f.get("url")}
    for label, references in expected.items():
        listed = client.get(links[label]).context["cl"].result_list
        assert {case.reference for case in listed} == references, label


def test_queues_to_approve_and_to_process(client, make_user, cases):
    approver, associate = make_user("approver"), make_user("associate")
    client.force_login(approver)
    work = {q["key"]: q for q in client.get("/admin/").context["dashboard"]["work"]}
    assert work["refunds.to_approve"]["count"] == 3 and "refunds.to_process" not in work
    listed = client.get(work["refunds.to_approve"]["url"]).context["cl"].result_list
    assert {case.reference for case in listed} == {"C1", "C3", "C4"}

    client.force_login(associate)
    work = {q["key"]: q for q in client.get("/admin/").context["dashboard"]["work"]}
    assert work["refunds.to_process"]["count"] == 1 and "refunds.to_approve" not in work
    assert [c.reference for c in client.get(work["refunds.to_process"]["url"]).context["cl"].result_list] == ["C2"]
