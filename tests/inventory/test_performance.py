"""Query-count guards for the stock ledger at scale (timings: bench/bench_scale.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.inventory.models import LedgerEntry
from apps.inventory.services import stock_move
from tests.core.test_performance import assert_changelist_scales

LIST = "/admin/inventory/ledgerentry/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def many_entries(shelf, people):
    """Thirty receipts on the shelf's first two items, more than one page at 20 a page."""
    items, bins = shelf["items"], shelf["bins"]
    for n in range(30):
        stock_move(
            item_id=items[n % 2].pk,
            location_id=bins[n % 2].pk,
            kind=LedgerEntry.Kind.RECEIPT,
            quantity=1,
            reference=f"GRN-PERF-{n:02d}",
            actor=people["controller"],
        )
    return shelf


def test_the_ledger_list_costs_the_same_at_any_page_size_without_distinct(client, people, many_entries):
    client.force_login(people["controller"])

    assert_changelist_scales(client, LIST, LedgerEntry)


def test_search_by_sku_and_by_reference(client, people, many_entries):
    client.force_login(people["controller"])
    first = many_entries["items"][0]

    page = client.get(f"{LIST}?q={first.sku.lower()}").content.decode()
    assert "GRN-PERF-00" in page and "GRN-PERF-01" not in page
    page = client.get(f"{LIST}?q=grn-perf-01").content.decode()
    assert "GRN-PERF-01" in page and "GRN-PERF-02" not in page


def test_the_ledger_api_pages_by_cursor_at_constant_queries(api_as, people, many_entries):
    client = api_as(user=people["controller"])
    client.get("/api/v1/stock-ledger/?page_size=5")

    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/v1/stock-ledger/?page_size=5").json()
    with CaptureQueriesContext(connection) as large:
        client.get("/api/v1/stock-ledger/?page_size=25")

    assert len(small.captured_queries) == len(large.captured_queries)
    assert "cursor=" in first["next"]
