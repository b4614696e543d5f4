"""Query-count guards for accounts payable at scale (timings: bench/bench_scale.py)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.invoices import selectors
from apps.invoices.models import Invoice
from tests.core.test_performance import assert_changelist_scales
from tests.vendors.factories import VendorFactory

LIST = "/admin/invoices/invoice/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_invoices():
    """Thirty submitted invoices of two vendors, more than one page at 20 a page."""
    vendors = [VendorFactory(), VendorFactory()]
    start = date(2026, 1, 5)
    return Invoice.objects.bulk_create(
        [
            Invoice(
                vendor=vendors[n % 2],
                number=f"PERF-{n:03d}",
                invoice_date=start + timedelta(days=n),
                due_date=start + timedelta(days=n + 30),
                currency="EUR",
                subtotal=Decimal("100.00"),
                total=Decimal("100.00"),
                status=Invoice.Status.SUBMITTED,
            )
            for n in range(30)
        ]
    )


def test_the_invoice_list_costs_the_same_at_any_page_size(client, make_user, many_invoices):
    client.force_login(make_user("associate"))

    assert_changelist_scales(client, LIST, Invoice)


def test_search_by_number_and_by_vendor_code(client, make_user, many_invoices):
    client.force_login(make_user("associate"))
    vendor = many_invoices[1].vendor

    page = client.get(f"{LIST}?q=perf-007").content.decode()
    assert "PERF-007" in page and "PERF-008" not in page
    page = client.get(f"{LIST}?q={vendor.code}").content.decode()
    assert "PERF-001" in page and "PERF-003" in page and "PERF-002" not in page


@pytest.mark.postgres
def test_search_by_number_uses_the_case_insensitive_index(client, make_user, many_invoices):
    client.force_login(make_user("associate"))
    with CaptureQueriesContext(connection) as ctx:
        client.get(f"{LIST}?q=PERF-007")
    searched = [q["sql"] for q in ctx.captured_queries if 'FROM "invoices_invoice"' in q["sql"] and "LIMIT" in q["sql"]]
    assert searched and all('UPPER("invoices_invoice"."number"' in sql for sql in searched)
    assert any(index.name == "invoice_number_upper_idx" for index in Invoice._meta.indexes)


def test_the_invoice_api_pages_by_cursor_at_constant_queries(api_as, many_invoices):
    client = api_as("associate")
    client.get("/api/v1/invoices/?page_size=5")

    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/v1/invoices/?page_size=5").json()
    with CaptureQueriesContext(connection) as large:
        client.get("/api/v1/invoices/?page_size=25")

    assert len(small.captured_queries) == len(large.captured_queries)
    assert "cursor=" in first["next"] and first["count"] == 30 and first["count_capped"] is False
    following = client.get(first["next"]).json()
    assert not {row["id"] for row in first["results"]} & {row["id"] for row in following["results"]}


def test_ap_aging_is_one_query_whatever_the_number_of_invoices(many_invoices, django_assert_num_queries):
    with django_assert_num_queries(1):
        report = selectors.ap_aging(as_of=date(2026, 3, 31))

    assert sum(row["total"] for row in report.rows) == Decimal("3000.00")
    assert all(sum(row[name] for name in selectors.BUCKETS) == row["total"] for row in report.rows)
