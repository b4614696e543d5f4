"""Aging of open cases by days past due, and the chargeback recovery summary."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.refunds import selectors
from apps.refunds.models import RefundCase
from tests.core.factories import UserFactory
from tests.refunds.factories import OrderFactory, ReasonCodeFactory

AS_OF = date(2026, 6, 30)


def make_case(*, due, amount="10.00", type="refund", status="requested", currency="EUR", requested=None, resolved=None):
    """A case as it would stand in the data (aging reads dates, not rules)."""
    order = OrderFactory(currency=currency)
    requested = requested or due - timedelta(days=5)
    return RefundCase.objects.create(
        reference=f"T-{RefundCase.objects.count() + 1}",
        order=order,
        type=type,
        status=status,
        amount=Decimal(amount),
        currency=currency,
        reason=ReasonCodeFactory(),
        requested_by=UserFactory(),
        requested_at=timezone.make_aware(datetime.combine(requested, datetime.min.time()) + timedelta(hours=12)),
        due_date=due,
        evidence_due_date=due if type == "chargeback" else None,
        resolved_on=resolved,
    )


@pytest.mark.parametrize(
    ("days_past_due", "bucket"),
    [
        (-5, "current"),
        (0, "current"),
        (1, "d1_30"),
        (30, "d1_30"),
        (31, "d31_60"),
        (60, "d31_60"),
        (61, "d61_90"),
        (90, "d61_90"),
        (91, "d90_plus"),
        (400, "d90_plus"),
    ],
)
def test_every_boundary_lands_in_exactly_one_bucket(db, days_past_due, bucket):
    make_case(due=AS_OF - timedelta(days=days_past_due), amount="12.34")

    row = selectors.case_aging(as_of=AS_OF)["rows"][0]

    assert row[bucket] == Decimal("12.34")
    assert [name for name in selectors.BUCKETS if row[name]] == [bucket]
    assert row["total"] == Decimal("12.34")
    assert selectors.bucket_of(due_date=AS_OF - timedelta(days=days_past_due), as_of=AS_OF) == bucket


def test_buckets_add_up_exactly_per_type_and_currency_in_one_query(db):
    amounts = ["0.01", "10.10", "20.20", "33.33", "99.99", "0.07", "1234.56"]
    for n, amount in enumerate(amounts):
        make_case(due=AS_OF - timedelta(days=n * 17), amount=amount)
        make_case(due=AS_OF - timedelta(days=n * 23), amount=amount, type="store_credit", currency="USD")

    with CaptureQueriesContext(connection) as queries:
        aging = selectors.case_aging(as_of=AS_OF)

    assert len(queries) == 1
    assert [(row["type"], row["currency"]) for row in aging["rows"]] == [("refund", "EUR"), ("store_credit", "USD")]
    for row in aging["rows"]:
        assert sum(row[name] for name in selectors.BUCKETS) == row["total"] == sum(Decimal(a) for a in amounts)
        assert row["count"] == len(amounts)
    assert [t["currency"] for t in aging["totals"]] == ["EUR", "USD"]


def test_only_cases_open_on_the_day_count(db):
    open_case = make_case(due=AS_OF, amount="1.00")
    make_case(due=AS_OF, amount="2.00", status="processed", resolved=AS_OF)  # resolved that day: not open
    make_case(due=AS_OF, amount="4.00", status="rejected", resolved=AS_OF + timedelta(days=1))  # still open then
    make_case(due=AS_OF, amount="8.00", requested=AS_OF + timedelta(days=1))  # not yet requested

    row = selectors.case_aging(as_of=AS_OF)["rows"][0]

    assert row["total"] == Decimal("5.00")
    assert row["count"] == 2
    assert open_case.is_open


def test_aging_by_type(db):
    make_case(due=AS_OF, amount="1.00")
    make_case(due=AS_OF, amount="2.00", type="chargeback")

    aging = selectors.case_aging(as_of=AS_OF, case_type="chargeback")

    assert [(r["type"], r["total"]) for r in aging["rows"]] == [("chargeback", Decimal("2.00"))]


def test_recovery_summary_per_currency(db):
    won = make_case(due=AS_OF, amount="100.00", type="chargeback", status="closed", resolved=AS_OF)
    lost = make_case(due=AS_OF, amount="50.00", type="chargeback", status="processed", resolved=AS_OF)
    RefundCase.objects.filter(pk=won.pk).update(outcome="won", amount_lost=0, fee=15, processed_at=timezone.now())
    RefundCase.objects.filter(pk=lost.pk).update(outcome="lost", amount_lost=50, fee=15, processed_at=timezone.now())
    make_case(due=AS_OF, amount="70.00", type="chargeback")  # still open: not in the summary

    [row] = selectors.chargeback_recovery(date_from=AS_OF.replace(day=1), date_to=AS_OF)

    assert (row["count"], row["won"], row["lost"], row["accepted"]) == (2, 1, 1, 0)
    assert row["disputed"] == Decimal("150.00")
    assert row["amount_lost"] == Decimal("50.00")
    assert row["recovered"] == Decimal("100.00")
    assert row["fees"] == Decimal("30.00")
