"""The inventory API: who may read, write and move counts through their states; error bodies."""

import pytest

from apps.core.models import AuditEvent
from apps.inventory.models import CycleCount, LedgerEntry
from apps.inventory.services import (
    cycle_count_enter,
    cycle_count_start,
    cycle_count_submit,
    inventory_report_generate,
)

pytestmark = pytest.mark.django_db

READ_ENDPOINTS = [
    "/api/v1/items/",
    "/api/v1/warehouses/",
    "/api/v1/locations/",
    "/api/v1/stock-levels/",
    "/api/v1/stock-ledger/",
    "/api/v1/cycle-counts/",
]


@pytest.mark.parametrize("role", ["associate", "approver", "inventory_controller", "auditor"])
def test_every_inventory_role_reads_the_lists(role, api_as, shelf):
    client = api_as(role)
    for url in READ_ENDPOINTS:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["vendor_manager", "sop_owner", None])
def test_other_roles_cannot_read_inventory(role, api_as, shelf):
    client = api_as(role)
    for url in READ_ENDPOINTS:
        assert client.get(url).status_code == 403, url


def test_anonymous_gets_401(api_client, db):
    assert api_client.get("/api/v1/cycle-counts/").status_code == 401


def test_stock_ledger_is_read_only_for_everyone(api_as, shelf):
    client = api_as("inventory_controller")
    response = client.post("/api/v1/stock-ledger/", {"item": shelf["items"][0].pk})
    assert response.status_code == 405
    assert LedgerEntry.objects.count() == 2


def test_controllers_create_and_change_items_auditors_and_associates_cannot(api_as, db):
    payload = {"sku": "NEW-1", "description": "New thing", "unit_cost": "4.50", "abc_class": "A", "reorder_point": "5"}
    assert api_as("auditor").post("/api/v1/items/", payload).status_code == 403
    assert api_as("associate").post("/api/v1/items/", payload).status_code == 403
    controller = api_as("inventory_controller")
    created = controller.post("/api/v1/items/", payload)
    assert created.status_code == 201, created.json()
    assert created.json()["on_hand"] == "0.000"
    changed = controller.patch(f"/api/v1/items/{created.json()['id']}/", {"reorder_point": "8"})
    assert changed.status_code == 200 and changed.json()["reorder_point"] == "8.000"
    duplicate = controller.post("/api/v1/items/", payload)
    assert duplicate.status_code == 400 and "sku" in duplicate.json()


def test_ad_hoc_count_by_api_and_bad_requests(api_as, people, shelf):
    controller = api_as(user=people["controller"])
    created = controller.post(
        "/api/v1/cycle-counts/",
        {"kind": "item", "item_ids": [shelf["items"][0].pk], "counter": people["counter"].pk},
    )
    assert created.status_code == 201
    assert created.json()[0]["lines_total"] == 1 and created.json()[0]["status"] == "scheduled"
    again = controller.post("/api/v1/cycle-counts/", {"kind": "item", "item_ids": [shelf["items"][0].pk]})
    assert again.status_code == 400 and "already on open counts" in again.json()["kind"][0]
    missing = controller.post("/api/v1/cycle-counts/", {"kind": "location"})
    assert missing.status_code == 400 and "location_ids" in missing.json()
    denied = api_as(user=people["counter"]).post("/api/v1/cycle-counts/", {"kind": "item", "item_ids": [1]})
    assert denied.status_code == 403


def test_the_whole_journey_through_the_api(api_as, people, open_count, shelf):
    counter, recounter = api_as(user=people["counter"]), api_as(user=people["recounter"])
    approver = api_as(user=people["approver"])
    url = f"/api/v1/cycle-counts/{open_count.pk}"

    assert counter.post(f"{url}/start/").json()["status"] == "counting"
    lines = {line["sku"]: line["id"] for line in counter.get(f"{url}/").json()["lines"]}
    body = {"lines": [{"line": lines["SKU-1"], "quantity": "80"}, {"sku": "SKU-2", "quantity": "20"}]}
    assert counter.post(f"{url}/enter/", body).status_code == 200
    assert counter.post(f"{url}/enter/", {"lines": [{"sku": "SKU-3", "quantity": "0"}]}).status_code == 200
    submitted = counter.post(f"{url}/submit/").json()
    assert submitted["status"] == "recount" and submitted["lines_awaiting_recount"] == 1

    conflict = approver.post(f"{url}/approve/")
    assert conflict.status_code == 409
    assert conflict.json() == {"detail": f"Count {open_count.number} has 1 line(s) still awaiting a recount."}

    assert recounter.post(f"{url}/enter/", {"lines": [{"sku": "SKU-1", "quantity": "99"}]}).status_code == 200
    assert recounter.post(f"{url}/submit/").json()["status"] == "submitted"

    own = api_as(user=people["recounter"]).post(f"{url}/approve/")
    assert own.status_code == 403 and "You recounted" in own.json()["detail"]
    approved = approver.post(f"{url}/approve/", {"comment": "Checked"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    line = next(row for row in approved.json()["lines"] if row["sku"] == "SKU-1")
    assert line["expected_quantity"] == "100.000" and line["variance_quantity"] == "-1.000"
    assert line["variance_value"] == "-10.00"
    again = approver.post(f"{url}/approve/")
    assert again.status_code == 409
    ledger = approver.get(f"/api/v1/stock-ledger/?count={open_count.pk}").json()["results"]
    assert sorted(row["kind"] for row in ledger) == ["count_adjustment", "count_confirmation", "count_confirmation"]


def test_bad_entries_answer_400_with_the_reason(api_as, people, open_count):
    counter = api_as(user=people["counter"])
    url = f"/api/v1/cycle-counts/{open_count.pk}"
    counter.post(f"{url}/start/")
    negative = counter.post(f"{url}/enter/", {"lines": [{"sku": "SKU-1", "quantity": "-1"}]})
    assert negative.status_code == 400
    assert negative.json() == {"lines": {"0": {"quantity": ["A counted quantity cannot be negative."]}}}
    foreign = counter.post(f"{url}/enter/", {"lines": [{"sku": "SKU-404", "quantity": "1"}]})
    assert foreign.status_code == 400
    assert foreign.json() == {"lines": [f"Entry 1: item SKU-404 is not on count {open_count.number}."]}
    empty = counter.post(f"{url}/enter/", {"lines": []})
    assert empty.status_code == 400
    unfinished = counter.post(f"{url}/submit/")
    assert unfinished.status_code == 400 and "not counted yet" in unfinished.json()["lines"][0]
    assert not open_count.lines.filter(counted_quantity__isnull=False).exists()


def test_transitions_refused_by_role_and_state(api_as, people, open_count):
    url = f"/api/v1/cycle-counts/{open_count.pk}"
    auditor = api_as(user=people["auditor"])
    assert auditor.post(f"{url}/start/").status_code == 403
    assert api_as(user=people["recounter"]).post(f"{url}/start/").status_code == 403
    assert api_as("vendor_manager").post(f"{url}/start/").status_code == 403
    early = api_as(user=people["approver"]).post(f"{url}/approve/")
    assert early.status_code == 409 and "scheduled" in early.json()["detail"]
    no_reason = api_as(user=people["approver"]).post(f"{url}/reject/", {})
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    assert AuditEvent.objects.filter(outcome="denied").exists()  # denied requests are on the trail


def test_counter_cannot_approve_or_reject_own_count(api_as, people, open_count):
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    cycle_count_enter(
        count_id=open_count.pk,
        actor=people["counter"],
        entries=[{"sku": s, "quantity": q} for s, q in (("SKU-1", 100), ("SKU-2", 20), ("SKU-3", 0))],
    )
    cycle_count_submit(count_id=open_count.pk, actor=people["counter"])
    people["counter"].user_permissions.add(*_perms("approve_count"))
    client = api_as(user=people["counter"])
    response = client.post(f"/api/v1/cycle-counts/{open_count.pk}/approve/")
    assert response.status_code == 403 and "You counted" in response.json()["detail"]
    assert CycleCount.objects.get(pk=open_count.pk).status == "submitted"


def _perms(codename):
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(codename=codename)


def test_reviewer_sends_lines_to_recount(api_as, people, open_count):
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    cycle_count_enter(
        count_id=open_count.pk,
        actor=people["counter"],
        entries=[{"sku": s, "quantity": q} for s, q in (("SKU-1", 100), ("SKU-2", 20), ("SKU-3", 0))],
    )
    cycle_count_submit(count_id=open_count.pk, actor=people["counter"])
    line = open_count.lines.get(item__sku="SKU-2")
    response = api_as(user=people["controller"]).post(
        f"/api/v1/cycle-counts/{open_count.pk}/recount/", {"lines": [line.pk], "reason": "Looks odd"}
    )
    assert response.status_code == 200 and response.json()["status"] == "recount"
    bad = api_as(user=people["controller"]).post(f"/api/v1/cycle-counts/{open_count.pk}/recount/", {"lines": [999999]})
    assert bad.status_code == 400


def test_report_runs_by_api(api_as, people, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as queued:
        response = api_as(user=people["approver"]).post(
            "/api/v1/inventory-reports/",
            {"kind": "below_reorder", "file_format": "csv", "date_from": "2026-01-01", "date_to": "2026-06-30"},
        )
    assert response.status_code == 201, response.json()
    assert len(queued) == 1  # the worker's task is sent once the request commits
    assert inventory_report_generate(report_id=response.json()["id"]).status == "done"
    assert api_as(user=people["auditor"]).get(f"/api/v1/inventory-reports/{response.json()['id']}/").json()["file"]
    assert api_as(user=people["counter"]).post("/api/v1/inventory-reports/", {}).status_code == 403
    assert api_as(user=people["auditor"]).post("/api/v1/inventory-reports/", {}).status_code == 403
    reversed_period = api_as(user=people["controller"]).post(
        "/api/v1/inventory-reports/",
        {"kind": "shrinkage", "file_format": "xlsx", "date_from": "2026-06-30", "date_to": "2026-01-01"},
    )
    assert reversed_period.status_code == 400


def test_schema_describes_the_blind_lines(api_as, db):
    schema = api_as("auditor").get("/api/schema/?format=json").json()
    paths = schema["paths"]
    for action in ("start", "enter", "submit", "recount", "approve", "reject"):
        assert f"/api/v1/cycle-counts/{{id}}/{action}/" in paths
