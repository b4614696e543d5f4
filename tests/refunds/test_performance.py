"""Query-count guards for refund cases at scale (timings: bench/bench_scale.py)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.refunds import selectors
from apps.refunds.models import RefundCase
from tests.core.test_performance import assert_changelist_scales
from tests.refunds.factories import OrderFactory

LIST = "/admin/refunds/refundcase/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_cases(setup, request_case):
    """Twenty-five refund cases on as many orders, requested over two calendar years."""
    cases = [request_case(OrderFactory(), amount="10.00") for _ in range(25)]
    for n, case in enumerate(cases):
        RefundCase.objects.filter(pk=case.pk).update(requested_at=timezone.now() - timedelta(days=30 * n))
    return cases


def test_the_case_list_costs_the_same_at_any_page_size_without_distinct(client, make_user, many_cases):
    client.force_login(make_user("associate"))

    sqls = assert_changelist_scales(client, LIST, RefundCase)

    assert not [s for s in sqls if "DISTINCT" in s.upper() and "refunds_refundcase" in s]
    page = client.get(LIST).content.decode()
    assert "requested_at__year=" in page  # the date drill-down is still there


def test_search_by_order_reference_and_case_reference(client, make_user, many_cases):
    client.force_login(make_user("associate"))
    case = many_cases[3]

    page = client.get(f"{LIST}?q={case.order.reference.lower()}").content.decode()
    assert case.reference in page and many_cases[4].reference not in page
    page = client.get(f"{LIST}?q={case.reference}").content.decode()
    assert case.reference in page and many_cases[4].reference not in page


def test_the_case_api_pages_by_cursor_at_constant_queries(api_as, many_cases):
    client = api_as("associate")
    client.get("/api/v1/refunds/?page_size=5")

    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/v1/refunds/?page_size=5").json()
    with CaptureQueriesContext(connection) as large:
        client.get("/api/v1/refunds/?page_size=20")

    assert len(small.captured_queries) == len(large.captured_queries)
    assert "cursor=" in first["next"] and first["count"] == 25


def test_refund_aging_is_one_query(many_cases, django_assert_num_queries):
    with django_assert_num_queries(1):
        report = selectors.case_aging(as_of=timezone.localdate())

    assert sum(row["count"] for row in report["rows"]) == 25


def test_the_order_api_pages_by_cursor_at_constant_queries(api_as, many_cases):
    client = api_as("associate")
    client.get("/api/v1/orders/?page_size=5")

    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/v1/orders/?page_size=5").json()
    with CaptureQueriesContext(connection) as large:
        client.get("/api/v1/orders/?page_size=20")

    assert len(small.captured_queries) == len(large.captured_queries)
    assert "cursor=" in first["next"] and first["count"] >= 25
