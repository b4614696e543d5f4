"""The inventory admin: lists load with bounded queries, pages and actions call the services and refuse correctly."""

from decimal import Decimal

import pytest
from django.urls import reverse

from apps.inventory.models import CycleCount, InventoryReportRun, LedgerEntry, StockLevel
from apps.inventory.services import cycle_count_enter, cycle_count_start, cycle_count_submit
from tests.inventory.conftest import entries
from tests.inventory.factories import ItemFactory, LocationFactory, stock

pytestmark = pytest.mark.django_db

LISTS = [
    "item",
    "warehouse",
    "location",
    "stocklevel",
    "ledgerentry",
    "cyclecount",
    "countpolicy",
    "inventoryreportrun",
]


@pytest.fixture
def many(people, warehouse):
    """Enough rows that an N+1 query would show: 30 items in 30 bins, 10 counts."""
    from apps.inventory.services import cycle_count_create

    bins = [LocationFactory(warehouse=warehouse, zone="Z", bin=f"{n:02d}") for n in range(30)]
    for n, location in enumerate(bins):
        stock(ItemFactory(), location, n + 1)
    for n in range(10):
        cycle_count_create(
            actor=people["controller"], kind="location", location_ids=[bins[n * 3].pk, bins[n * 3 + 1].pk]
        )
    return bins


@pytest.mark.parametrize("model", LISTS)
@pytest.mark.parametrize("who", ["controller", "counter", "auditor"])
def test_list_pages_load_with_a_bounded_number_of_queries(
    model, who, people, many, client, django_assert_max_num_queries
):
    client.force_login(people[who])
    with django_assert_max_num_queries(20):
        response = client.get(reverse(f"admin:inventory_{model}_changelist"), follow=True)
    assert response.status_code in (200, 403)


def test_reorder_list_shows_open_alerts_unless_asked(people, shelf, client):
    from apps.inventory.models import Item
    from apps.inventory.services import reorder_alerts_refresh, stock_move

    Item.objects.filter(pk=shelf["items"][1].pk).update(reorder_point=Decimal("20"))
    Item.objects.filter(pk=shelf["items"][0].pk).update(reorder_point=Decimal("100"))
    reorder_alerts_refresh()
    stock_move(
        item_id=shelf["items"][0].pk,
        location_id=shelf["bins"][0].pk,
        kind="receipt",
        quantity=5,
        actor=people["controller"],
    )
    reorder_alerts_refresh()
    client.force_login(people["controller"])
    url = reverse("admin:inventory_reorderalert_changelist")
    open_list = client.get(url).content.decode()
    assert "SKU-2" in open_list and "SKU-1" not in open_list
    resolved = client.get(url + "?state=resolved").content.decode()
    assert "SKU-1" in resolved and "SKU-2" not in resolved


def test_counter_enters_saves_and_submits_on_the_count_page(people, open_count, client):
    url = reverse("admin:inventory_cyclecount_enter", args=[open_count.pk])
    client.force_login(people["counter"])
    assert "Start counting" in client.get(url).content.decode()
    client.post(url, {"start": "1"})
    lines = {line.item.sku: line.pk for line in open_count.lines.select_related("item")}

    client.post(url, {f"qty-{lines['SKU-2']}": "20", "save": "1"})
    page = client.get(url).content.decode()
    assert 'value="20"' in page and "1/3 counted" in page

    response = client.post(url, {f"qty-{lines['SKU-1']}": "-4", "save": "1"}, follow=True)
    assert "cannot be negative" in response.content.decode()

    response = client.post(
        url, {f"qty-{lines['SKU-1']}": "100", f"qty-{lines['SKU-3']}": "0", "submit": "1"}, follow=True
    )
    assert f"{open_count} submitted." in response.content.decode()
    assert CycleCount.objects.get(pk=open_count.pk).status == "submitted"


def test_someone_else_cannot_enter_on_the_counters_page(people, open_count, client):
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    client.force_login(people["recounter"])
    url = reverse("admin:inventory_cyclecount_enter", args=[open_count.pk])
    assert 'name="qty-' not in client.get(url).content.decode()
    line = open_count.lines.first()
    response = client.post(url, {f"qty-{line.pk}": "1", "save": "1"}, follow=True)
    assert "Only the counter" in response.content.decode()


def _submitted(open_count, people, quantities):
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    cycle_count_enter(count_id=open_count.pk, actor=people["counter"], entries=entries(open_count, quantities))
    return cycle_count_submit(count_id=open_count.pk, actor=people["counter"])


def test_review_page_shows_expected_counted_variance_and_value_and_approves(people, open_count, client, shelf):
    _submitted(open_count, people, {"SKU-1": 97, "SKU-2": 20, "SKU-3": 0})
    client.force_login(people["approver"])
    url = reverse("admin:inventory_cyclecount_review", args=[open_count.pk])
    page = client.get(url).content.decode()
    assert "100.000" in page and "97.000" in page and "-3.000" in page and "-30.00" in page
    response = client.post(url, {"approve": "1", "comment": "ok"}, follow=True)
    assert "approved: adjustments posted" in response.content.decode()
    assert StockLevel.objects.get(item=shelf["items"][0]).quantity == Decimal("97")


def test_review_page_sends_lines_to_recount_and_rejects(people, open_count, client):
    _submitted(open_count, people, {"SKU-1": 97, "SKU-2": 20, "SKU-3": 0})
    client.force_login(people["controller"])
    url = reverse("admin:inventory_cyclecount_review", args=[open_count.pk])
    line = open_count.lines.get(item__sku="SKU-2")
    client.post(url, {"recount": "1", "line": [line.pk], "comment": "check"})
    assert CycleCount.objects.get(pk=open_count.pk).status == "recount"
    response = client.post(url, {"reject": "1", "comment": ""}, follow=True)
    assert "Say why the count is rejected." in response.content.decode()
    client.post(url, {"reject": "1", "comment": "Recount the whole zone"})
    assert CycleCount.objects.get(pk=open_count.pk).status == "counting"


def test_approve_action_confirms_then_refuses_the_counter_and_approves_for_a_reviewer(
    people, open_count, client, make_user
):
    _submitted(open_count, people, {"SKU-1": 99, "SKU-2": 20, "SKU-3": 0})
    url = reverse("admin:inventory_cyclecount_changelist")
    data = {"action": "approve_counts", "_selected_action": [open_count.pk]}
    client.force_login(people["approver"])
    confirm = client.post(url, data)
    assert "Approve selected counts" in confirm.content.decode() and confirm.status_code == 200
    assert not LedgerEntry.objects.filter(count_line__count=open_count).exists()
    done = client.post(url, {**data, "confirmed": "yes"}, follow=True)
    assert "Approved: 1 cycle count." in done.content.decode()
    again = client.post(url, {**data, "confirmed": "yes"}, follow=True)
    assert "Not approved" in again.content.decode()
    assert LedgerEntry.objects.filter(count_line__count=open_count).count() == 3


def test_counters_have_no_approve_action(people, open_count, client):
    client.force_login(people["counter"])
    page = client.get(reverse("admin:inventory_cyclecount_changelist")).content.decode()
    assert "approve_counts" not in page and "start_counts" in page


def test_ad_hoc_count_form(people, shelf, client):
    client.force_login(people["controller"])
    url = reverse("admin:inventory_cyclecount_add")
    bad = client.post(url, {"kind": "item", "skus": "SKU-1, NOPE", "variance_days": 90})
    assert "Unknown SKU(s): NOPE" in bad.content.decode()
    response = client.post(
        url, {"kind": "item", "skus": "SKU-1\nSKU-2", "variance_days": 90, "counter": people["counter"].pk}, follow=True
    )
    assert "Created CC-" in response.content.decode()
    count = CycleCount.objects.get()
    assert count.counter == people["counter"] and count.lines.count() == 2
    client.force_login(people["counter"])
    assert client.get(url).status_code == 403


def test_schedule_due_counts_button(people, shelf, client):
    client.force_login(people["controller"])
    response = client.post(reverse("admin:inventory_cyclecount_schedule"), follow=True)
    assert "1 count(s) scheduled." in response.content.decode()
    client.force_login(people["counter"])
    assert client.post(reverse("admin:inventory_cyclecount_schedule")).status_code == 403


def test_posting_a_stock_movement_from_the_ledger(people, shelf, client):
    client.force_login(people["controller"])
    url = reverse("admin:inventory_ledgerentry_add")
    item, location = shelf["items"][1], shelf["bins"][1]
    response = client.post(
        url, {"item": item.pk, "location": location.pk, "kind": "shipment", "quantity": "5", "reference": "SO-9"}
    )
    assert response.status_code == 302
    assert StockLevel.objects.get(item=item, location=location).quantity == Decimal("15")
    refused = client.post(
        url, {"item": item.pk, "location": location.pk, "kind": "manual_correction", "quantity": "2"}, follow=True
    )
    assert "needs a reason" in refused.content.decode()
    client.force_login(people["counter"])
    assert client.get(url).status_code == 403


def test_item_admin_saves_through_the_service(people, client):
    client.force_login(people["controller"])
    response = client.post(
        reverse("admin:inventory_item_add"),
        {
            "sku": "ADM-1",
            "description": "From the admin",
            "unit_of_measure": "EA",
            "unit_cost": "2.50",
            "currency": "USD",
            "abc_class": "A",
            "reorder_point": "3",
            "reorder_quantity": "10",
            "is_active": "on",
            "stock_levels-TOTAL_FORMS": "0",
            "stock_levels-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    from apps.inventory.models import Item

    assert Item.objects.get(sku="ADM-1").created_by == people["controller"]


def test_kpi_page_and_report_run(people, open_count, client, django_capture_on_commit_callbacks):
    _submitted(open_count, people, {"SKU-1": 97, "SKU-2": 20, "SKU-3": 0})
    from apps.inventory.services import cycle_count_approve

    cycle_count_approve(count_id=open_count.pk, actor=people["approver"])
    client.force_login(people["controller"])
    page = client.get(reverse("admin:inventory_cyclecount_kpis")).content.decode()
    assert "Count accuracy" in page and "100.0 %" in page and "30.00 USD" in page
    with django_capture_on_commit_callbacks() as queued:
        client.post(
            reverse("admin:inventory_inventoryreportrun_add"),
            {"kind": "shrinkage", "file_format": "xlsx", "date_from": "2026-01-01", "date_to": "2026-12-31"},
        )
    assert len(queued) == 1 and InventoryReportRun.objects.get().status == "queued"
