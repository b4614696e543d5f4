"""Blind counting: the counter never gets the expected quantity of a count in progress, on any surface.

The stock of the counted bin is a number that appears nowhere else (4817), so each response can be
searched for it; a bin not on the count (777) shows the counter still sees ordinary stock.
"""

import pytest
from django.urls import reverse

from apps.inventory.models import CycleCount
from apps.inventory.services import cycle_count_create, cycle_count_enter, cycle_count_start, cycle_count_submit
from tests.inventory.factories import ItemFactory, LocationFactory, stock

pytestmark = pytest.mark.django_db
SECRET = "4817"


@pytest.fixture
def blind(people, warehouse):
    counted_bin = LocationFactory(warehouse=warehouse, zone="A", bin="01")
    other_bin = LocationFactory(warehouse=warehouse, zone="B", bin="01")
    item = ItemFactory(sku="SKU-BLIND", unit_cost="3.00")
    other = ItemFactory(sku="SKU-SEEN")
    stock(item, counted_bin, 4817)
    stock(other, other_bin, 777)
    (count,) = cycle_count_create(
        actor=people["controller"], kind="location", location_ids=[counted_bin.pk], counter_id=people["counter"].pk
    )
    cycle_count_start(count_id=count.pk, actor=people["counter"])
    cycle_count_enter(count_id=count.pk, actor=people["counter"], entries=[{"sku": "SKU-BLIND", "quantity": "4000"}])
    return {"count": count, "item": item, "other": other, "bin": counted_bin}


def _no_secret(response):
    body = response.content.decode()
    assert response.status_code in (200, 302, 403), response.status_code
    assert SECRET not in body and "4,817" not in body
    return body


# --- API --------------------------------------------------------------------------------------


def test_api_count_detail_and_list_omit_expected_for_the_counter(blind, people, api_as):
    client = api_as(user=people["counter"])
    detail = client.get(f"/api/v1/cycle-counts/{blind['count'].pk}/")
    body = _no_secret(detail)
    line = detail.json()["lines"][0]
    assert line["counted_quantity"] == "4000.000"
    assert not {"expected_quantity", "variance_quantity", "variance_value", "stock_moved"} & set(line)
    assert "expected" not in body and "variance" not in body
    _no_secret(client.get("/api/v1/cycle-counts/"))


def test_api_transition_responses_are_blind_too(blind, people, api_as):
    client = api_as(user=people["counter"])
    entered = client.post(
        f"/api/v1/cycle-counts/{blind['count'].pk}/enter/", {"lines": [{"sku": "SKU-BLIND", "quantity": "4001"}]}
    )
    assert entered.status_code == 200
    _no_secret(entered)
    submitted = client.post(f"/api/v1/cycle-counts/{blind['count'].pk}/submit/")
    assert submitted.status_code == 200 and submitted.json()["status"] == "recount"
    _no_secret(submitted)
    assert "expected_quantity" not in submitted.json()["lines"][0]


def test_api_filters_and_ordering_do_not_give_the_expected_quantity_away(blind, people, api_as):
    client = api_as(user=people["counter"])
    assert client.get("/api/v1/cycle-counts/?has_variance=true").json()["results"] == []
    assert client.get("/api/v1/cycle-counts/?has_variance=false").json()["results"] == []
    ordered = client.get("/api/v1/cycle-counts/?ordering=lines__expected_quantity").json()["results"]
    assert [c["id"] for c in ordered] == [blind["count"].pk]
    stock = client.get("/api/v1/stock-levels/?sku=SKU-BLIND")
    assert stock.json()["results"] == []
    everything = client.get("/api/v1/stock-levels/?ordering=-quantity")
    assert [row["sku"] for row in _json(everything)] == ["SKU-SEEN"]
    _no_secret(client.get("/api/v1/stock-ledger/"))
    assert [row["sku"] for row in _json(client.get("/api/v1/stock-ledger/"))] == ["SKU-SEEN"]
    items = {row["sku"]: row for row in _json(client.get("/api/v1/items/"))}
    assert items["SKU-BLIND"]["on_hand"] is None and items["SKU-SEEN"]["on_hand"] == "777.000"
    _no_secret(client.get(f"/api/v1/items/{blind['item'].pk}/"))
    _no_secret(client.get("/api/v1/stock-levels/?search=SKU-BLIND"))


def _json(response):
    assert response.status_code == 200
    return response.json()["results"]


def test_api_the_recounter_sees_neither_expected_nor_the_first_count(blind, people, api_as):
    cycle_count_enter(
        count_id=blind["count"].pk, actor=people["counter"], entries=[{"sku": "SKU-BLIND", "quantity": 4000}]
    )
    cycle_count_submit(count_id=blind["count"].pk, actor=people["counter"])
    client = api_as(user=people["recounter"])
    line = client.get(f"/api/v1/cycle-counts/{blind['count'].pk}/").json()["lines"][0]
    assert line["recount_required"] is True
    assert line["counted_quantity"] is None and "expected_quantity" not in line
    _no_secret(client.get("/api/v1/stock-levels/"))  # a would-be recounter is as blind as the recounter
    client.post(
        f"/api/v1/cycle-counts/{blind['count'].pk}/enter/", {"lines": [{"sku": "SKU-BLIND", "quantity": "4100"}]}
    )
    _no_secret(client.get("/api/v1/stock-levels/"))
    _no_secret(client.get(f"/api/v1/cycle-counts/{blind['count'].pk}/"))


def test_api_reviewers_see_expected_and_counters_see_history_after_approval(blind, people, api_as):
    review = api_as(user=people["approver"]).get(f"/api/v1/cycle-counts/{blind['count'].pk}/").json()["lines"][0]
    assert review["expected_quantity"] == "4817.000"
    blind["count"].status = CycleCount.Status.APPROVED  # history: no longer in progress
    blind["count"].save(update_fields=["status"])
    closed = api_as(user=people["counter"]).get(f"/api/v1/cycle-counts/{blind['count'].pk}/").json()["lines"][0]
    assert closed["expected_quantity"] == "4817.000"


def test_a_superuser_counting_is_blind_as_well(people, warehouse, make_user, api_as):
    boss = make_user(None, is_superuser=True)
    bin_ = LocationFactory(warehouse=warehouse, zone="C", bin="09")
    stock(ItemFactory(sku="SKU-BOSS"), bin_, 4817)
    (count,) = cycle_count_create(
        actor=people["controller"], kind="location", location_ids=[bin_.pk], counter_id=boss.pk
    )
    cycle_count_start(count_id=count.pk, actor=boss)
    client = api_as(user=boss)
    _no_secret(client.get(f"/api/v1/cycle-counts/{count.pk}/"))
    _no_secret(client.get("/api/v1/stock-levels/"))


# --- Admin ------------------------------------------------------------------------------------


def test_admin_pages_never_show_the_counter_the_expected_quantity(blind, people, client):
    client.force_login(people["counter"])
    count = blind["count"]
    listing = _no_secret(client.get(reverse("admin:inventory_cyclecount_changelist")))
    assert "1/1 counted" in listing and "variance" in listing
    assert "with a variance" not in listing  # the variance filter is not offered to counters
    _no_secret(client.get(reverse("admin:inventory_cyclecount_changelist") + "?variance=yes"))
    _no_secret(client.get(reverse("admin:inventory_cyclecount_changelist") + "?q=SKU-BLIND"))
    _no_secret(client.get(reverse("admin:inventory_cyclecount_changelist") + "?o=1"))
    change = _no_secret(client.get(reverse("admin:inventory_cyclecount_change", args=[count.pk])))
    assert "SKU-BLIND" in change and "expected" not in change.lower()
    entry = _no_secret(client.get(reverse("admin:inventory_cyclecount_enter", args=[count.pk])))
    assert 'name="qty-' in entry and 'value="4000"' in entry
    assert client.get(reverse("admin:inventory_cyclecount_review", args=[count.pk])).status_code == 403


def test_admin_stock_ledger_items_and_exports_hide_the_counted_bin(blind, people, client):
    client.force_login(people["counter"])
    levels = _no_secret(client.get(reverse("admin:inventory_stocklevel_changelist")))
    assert "SKU-SEEN" in levels and "SKU-BLIND" not in levels
    ledger = _no_secret(client.get(reverse("admin:inventory_ledgerentry_changelist")))
    assert "SKU-SEEN" in ledger and "SKU-BLIND" not in ledger
    _no_secret(client.get(reverse("admin:inventory_item_changelist")))
    _no_secret(client.get(reverse("admin:inventory_item_change", args=[blind["item"].pk])))
    for name in ("stocklevel", "ledgerentry"):
        # Exporting is the auditors' permission (export_records): a counter exports nothing at all.
        export = client.post(reverse(f"admin:inventory_{name}_export"), {"format": "0", **_all_fields(name)})
        assert export.status_code == 403


def _all_fields(name):
    from apps.inventory import resources

    resource = {"stocklevel": resources.StockLevelResource, "ledgerentry": resources.LedgerEntryResource}[name]
    return {"resource": "0", **{f"{resource.__name__.lower()}_{field}": "on" for field in resource._meta.fields}}


def test_admin_line_export_blanks_expected_for_the_counter_only(blind, people, client):
    url = reverse("admin:inventory_cyclecount_changelist")
    data = {"action": "export_lines", "_selected_action": [blind["count"].pk]}
    client.force_login(people["counter"])
    counter_csv = client.post(url, data)
    assert counter_csv["Content-Type"] == "text/csv"
    _no_secret(counter_csv)
    assert "SKU-BLIND" in counter_csv.content.decode() and "4000" in counter_csv.content.decode()
    client.force_login(people["auditor"])
    assert SECRET in client.post(url, data).content.decode()
