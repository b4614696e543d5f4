"""Query-count guards for the stock ledger at scale (timings: bench/bench_scale.py)."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext

from apps.core.paginator import CappedCount, capped_count_and_bounds
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


def test_a_searched_ledger_costs_the_same_at_any_page_size_and_shows_each_entry_s_item(client, people, many_entries):
    client.force_login(people["controller"])
    first = many_entries["items"][0]

    sqls = assert_changelist_scales(client, f"{LIST}?q={first.sku}", LedgerEntry)

    by_id = re.compile(r'FROM "inventory_item" WHERE \(?"inventory_item"\."id"\)? (IN|=)')
    assert len([s for s in sqls if s.startswith('SELECT "inventory_item"."id"') and by_id.search(s)]) == 1
    page = client.get(f"{LIST}?q={first.sku}").content.decode()
    rows = page.split('id="result_list"', 1)[1]
    assert rows.count(f">{first.sku}<") + rows.count(f">{first}<") == LedgerEntry.objects.filter(item=first).count()


def test_a_search_by_bin_code_looks_up_items_and_bins_in_one_query(client, people, many_entries):
    client.force_login(people["controller"])
    second_bin = many_entries["bins"][1]
    client.get(LIST)

    with CaptureQueriesContext(connection) as ctx:
        page = client.get(f"{LIST}?q={second_bin.code.lower()}").content.decode()

    assert "GRN-PERF-01" in page and "GRN-PERF-00" not in page
    sqls = [q["sql"] for q in ctx.captured_queries]
    lookups = [s for s in sqls if '"search_relation"' in s]  # the related rows matching the term
    if connection.features.supports_slicing_ordering_in_compound:
        assert len(lookups) == 1, lookups
        assert "UNION ALL" in lookups[0]
    else:  # SQLite cannot limit each part of a UNION: one query per relation
        assert len(lookups) == 2, lookups


def test_a_searched_ledger_reads_its_date_drill_down_with_its_count(client, people, many_entries):
    client.force_login(people["controller"])
    first = many_entries["items"][0]
    mine = LedgerEntry.objects.filter(item=first)
    oldest = mine.order_by("posted_at", "pk").first()
    mine.filter(pk=oldest.pk).update(posted_at=oldest.posted_at - timedelta(days=400))
    bounds = mine.aggregate(first=Min("posted_at"), last=Max("posted_at"))
    years = sorted({bounds["first"].year, bounds["last"].year})
    client.get(f"{LIST}?q={first.sku}")

    with CaptureQueriesContext(connection) as ctx:
        page = client.get(f"{LIST}?q={first.sku}").content.decode()

    sqls = [q["sql"] for q in ctx.captured_queries]
    assert not [s for s in sqls if "MIN(" in s and "COUNT(" not in s], sqls  # no MIN/MAX query of its own
    assert [s for s in sqls if "COUNT(" in s and "MIN(" in s and "LIMIT" in s]
    for year in range(years[0], years[-1] + 1):
        assert f"posted_at__year={year}" in page
    assert f"posted_at__year={years[0] - 1}" not in page and f"posted_at__year={years[-1] + 1}" not in page


def test_a_filtered_ledger_keeps_its_own_drill_down_bounds(client, people, many_entries):
    client.force_login(people["controller"])
    client.get(f"{LIST}?kind__exact=receipt")

    with CaptureQueriesContext(connection) as ctx:
        client.get(f"{LIST}?kind__exact=receipt")

    sqls = [q["sql"] for q in ctx.captured_queries]
    assert [s for s in sqls if "MIN(" in s and "COUNT(" not in s]  # the two-endpoint MIN/MAX
    assert not [s for s in sqls if "COUNT(" in s and "MIN(" in s]


def test_the_count_and_bounds_are_exact_below_the_cap_and_dropped_above_it(many_entries):
    entries = LedgerEntry.objects.all()
    total = entries.count()
    expected = entries.aggregate(first=Min("posted_at"), last=Max("posted_at"))

    assert capped_count_and_bounds(entries, "posted_at", cap=total) == (total, expected)
    count, bounds = capped_count_and_bounds(entries, "posted_at", cap=total - 1)
    assert isinstance(count, CappedCount) and bounds is None
    assert capped_count_and_bounds(entries.filter(reference="none such"), "posted_at") == (
        0,
        {"first": None, "last": None},
    )


def test_the_ledger_api_pages_by_cursor_at_constant_queries(api_as, people, many_entries):
    client = api_as(user=people["controller"])
    client.get("/api/v1/stock-ledger/?page_size=5")

    with CaptureQueriesContext(connection) as small:
        first = client.get("/api/v1/stock-ledger/?page_size=5").json()
    with CaptureQueriesContext(connection) as large:
        client.get("/api/v1/stock-ledger/?page_size=25")

    assert len(small.captured_queries) == len(large.captured_queries)
    assert "cursor=" in first["next"]


def _queries_per_step(people, warehouse, zone: str, lines: int) -> dict[str, int]:
    """Queries of each step of a count of ``lines`` bins, from its creation to its approval."""
    from decimal import Decimal

    from apps.inventory.models import CycleCount
    from apps.inventory.services import (
        cycle_count_approve,
        cycle_count_create,
        cycle_count_enter,
        cycle_count_start,
        cycle_count_submit,
    )
    from tests.inventory.factories import ItemFactory, LocationFactory, stock

    bins = [LocationFactory(warehouse=warehouse, zone=zone, bin=f"{n:02d}") for n in range(lines)]
    for n, location in enumerate(bins):
        stock(ItemFactory(sku=f"{zone}-{n}", unit_cost=Decimal("1.00")), location, 5)
    counted = {}

    def step(name, run):
        with CaptureQueriesContext(connection) as queries:
            result = run()
        counted[name] = len(queries)
        return result

    (count,) = step(
        "create",
        lambda: cycle_count_create(
            actor=people["controller"],
            kind=CycleCount.Kind.LOCATION,
            location_ids=[b.pk for b in bins],
            counter_id=people["counter"].pk,
        ),
    )
    step("start", lambda: cycle_count_start(count_id=count.pk, actor=people["counter"]))
    entries = [{"line_id": pk, "quantity": "5"} for pk in count.lines.values_list("pk", flat=True)]
    step("enter", lambda: cycle_count_enter(count_id=count.pk, actor=people["counter"], entries=entries))
    step("submit", lambda: cycle_count_submit(count_id=count.pk, actor=people["counter"]))
    step("approve", lambda: cycle_count_approve(count_id=count.pk, actor=people["approver"]))
    return counted


def test_a_counts_steps_and_their_change_log_cost_queries_per_step_not_per_line(people, warehouse):
    from auditlog.models import LogEntry

    from apps.inventory.models import CycleCountLine

    _queries_per_step(people, warehouse, "W", 2)  # content types and policies looked up once, then cached
    small = _queries_per_step(people, warehouse, "S", 3)
    large = _queries_per_step(people, warehouse, "L", 12)

    for name in ("create", "enter", "submit"):  # lines created, counted and submitted in bulk, logged in bulk
        assert large[name] == small[name], f"{name}: {small[name]} queries for 3 lines, {large[name]} for 12"
    # Starting locks each line's stock level; approving posts each line to the ledger (its stock level locked,
    # the entry written, the level moved and logged). Nothing more per line.
    assert large["start"] - small["start"] <= 2 * 9
    assert large["approve"] - small["approve"] <= 9 * 9
    lines = [str(pk) for pk in CycleCountLine.objects.filter(item__sku__startswith="L-").values_list("pk", flat=True)]
    logged = LogEntry.objects.filter(content_type__model="cyclecountline", object_pk__in=lines)
    assert logged.filter(action=LogEntry.Action.CREATE).count() == 12
    assert logged.filter(action=LogEntry.Action.UPDATE).values("object_pk").distinct().count() == 12
