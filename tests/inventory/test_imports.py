"""Importing items, locations, stock levels and count lines: through the inventory services, all or nothing."""

import csv
import io
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.urls import reverse

from apps.core.models import ImportJob
from apps.core.services.imports import import_job_confirm, import_job_create, import_job_run
from apps.inventory.models import CycleCountLine, Item, LedgerEntry, Location, StockLevel
from apps.inventory.services import cycle_count_start
from tests.inventory.factories import ItemFactory, LocationFactory


def upload(actor, content, *, target, dry_run=False):
    job = import_job_create(
        actor=actor,
        target=target,
        uploaded_file=SimpleUploadedFile("file.csv", content.encode("utf-8")),
        dry_run=dry_run,
    )
    import_job_run(job_id=job.pk)  # what the worker does with the queued job
    job.refresh_from_db()
    return job


def report(job) -> list[str]:
    """The error report's rows as "row,column,value,message" lines (unquoted)."""
    rows = list(csv.reader(io.StringIO(job.error_report.open("rb").read().decode())))
    assert rows[0] == ["row", "column", "value", "message"]
    return [",".join(row) for row in rows[1:]]


def assert_ledger_equals_stock():
    for level in StockLevel.objects.all():
        posted = LedgerEntry.objects.filter(item=level.item, location=level.location).aggregate(q=Sum("quantity"))
        assert level.quantity == (posted["q"] or 0), level


# --- Items and locations ------------------------------------------------------------------------

ITEMS = (
    "Item code,Product name,UoM,Cost,ABC,Reorder level\n"
    "BOLT-1,Hex bolt M8,EA,0.25,A,100\n"
    "NUT-1,Hex nut M8,box,4.10,c,5\n"
)


def test_items_dry_run_then_confirm_writes_them_through_the_service(people):
    controller = people["controller"]
    job = upload(controller, ITEMS, target="inventory.item", dry_run=True)
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert job.summary == {"new": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert not Item.objects.exists()

    import_job_confirm(job_id=job.pk, actor=controller)
    import_job_run(job_id=job.pk)

    nut = Item.objects.get(sku="NUT-1")
    assert (nut.description, nut.unit_of_measure, nut.unit_cost, nut.abc_class) == (
        "Hex nut M8",
        "BOX",
        Decimal("4.10"),
        "C",
    )
    assert Item.objects.get(sku="BOLT-1").reorder_point == Decimal("100")
    entry = LogEntry.objects.get_for_object(nut).get(action=LogEntry.Action.CREATE)
    assert entry.actor == controller and entry.additional_data["path"] == "import"


def test_the_same_items_twice_change_nothing_and_a_changed_row_updates(people):
    controller = people["controller"]
    upload(controller, ITEMS, target="inventory.item")
    assert upload(controller, ITEMS, target="inventory.item").summary == {
        "new": 0,
        "updated": 0,
        "unchanged": 2,
        "errors": 0,
    }
    changed = upload(controller, ITEMS.replace("0.25", "0.30"), target="inventory.item")
    assert changed.summary == {"new": 0, "updated": 1, "unchanged": 1, "errors": 0}
    assert Item.objects.get(sku="BOLT-1").unit_cost == Decimal("0.30")


def test_locations_by_code_in_a_known_warehouse(people, warehouse):
    content = "Location code,Warehouse code,Aisle,Bin\nWH1-B-01,WH1,B,01\nXX-B-02,XX,B,02\n"
    job = upload(people["controller"], content, target="inventory.location")
    assert job.status == ImportJob.Status.FAILED
    assert report(job) == ["3,warehouse,XX,There is no warehouse with code 'XX'."]
    assert not Location.objects.exists()

    job = upload(people["controller"], content.replace("XX", "WH1"), target="inventory.location")
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert sorted(Location.objects.values_list("code", "zone", "bin")) == [
        ("WH1-B-01", "B", "01"),
        ("WH1-B-02", "B", "02"),
    ]


# --- Stock levels -------------------------------------------------------------------------------


@pytest.fixture
def controller(people):
    # The inventory controller's role imports stock levels (change on stock levels, ledger postings).
    return people["controller"]


def test_imported_stock_levels_post_to_the_ledger_and_never_change_silently(controller, warehouse):
    item = ItemFactory(sku="BOLT-1")
    bin1, bin2 = LocationFactory(warehouse=warehouse, code="WH1-A-01"), LocationFactory(warehouse=warehouse)
    content = f"SKU,Bin,Qty\nBOLT-1,WH1-A-01,40\nBOLT-1,{bin2.code},7.5\n"

    first = upload(controller, content, target="inventory.stocklevel")

    assert first.status == ImportJob.Status.SUCCEEDED, first.message
    assert StockLevel.objects.get(item=item, location=bin1).quantity == Decimal("40")
    opening = LedgerEntry.objects.get(item=item, location=bin1)
    assert opening.kind == LedgerEntry.Kind.MANUAL_CORRECTION and opening.quantity == Decimal("40")
    assert opening.reason == f"Opening balance: import job {first.pk}" and opening.posted_by == controller

    again = upload(controller, content, target="inventory.stocklevel")
    assert again.summary == {"new": 0, "updated": 0, "unchanged": 2, "errors": 0}
    assert LedgerEntry.objects.count() == 2

    recount = upload(controller, content.replace(",40", ",35"), target="inventory.stocklevel")
    assert recount.summary == {"new": 0, "updated": 1, "unchanged": 1, "errors": 0}
    correction = LedgerEntry.objects.filter(item=item, location=bin1).order_by("-pk").first()
    assert correction.quantity == Decimal("-5") and correction.reason == f"import job {recount.pk}"
    assert StockLevel.objects.get(item=item, location=bin1).quantity == Decimal("35")
    assert_ledger_equals_stock()


@pytest.mark.parametrize(
    "content, expected",
    [
        ("SKU,Bin,Qty,Colour\nSKU-1,WH1-A-01,5,red\n", ",,,Unknown column(s): Colour."),
        ("SKU,Qty\nSKU-1,5\n", ",,,Missing required column(s): location."),
        ("SKU,Bin,Qty\nSKU-1,WH1-A-01,five\n", "2,quantity,five,'five' is not a quantity."),
        ("SKU,Bin,Qty\nSKU-1,WH1-A-01,-3\n", "2,quantity,'-3,A quantity cannot be negative."),  # formula-safe
        ("SKU,Bin,Qty\nSKU-1,WH1-A-01,5\nsku-1,WH1-A-01,6\n", "3,location,WH1-A-01,Row 2 already has this sku"),
        ("SKU,Bin,Qty\nNOPE,WH1-A-01,5\n", "2,sku,NOPE,There is no item with SKU 'NOPE'."),
        ("SKU,Bin,Qty\nSKU-1,WH9-Z-99,5\n", "2,location,WH9-Z-99,There is no location with code 'WH9-Z-99'."),
    ],
    ids=["unknown column", "missing column", "wrong type", "negative", "twice", "unknown SKU", "unknown location"],
)
def test_bad_stock_files_get_a_clear_message_and_nothing_is_written(controller, shelf, content, expected):
    entries_before = LedgerEntry.objects.count()
    levels_before = list(StockLevel.objects.order_by("pk").values_list("pk", "quantity"))
    job = upload(controller, content.replace("WH1-A-01", shelf["bins"][0].code), target="inventory.stocklevel")

    assert job.status == ImportJob.Status.FAILED
    lines = report(job)
    assert any(line.startswith(expected.replace("WH1-A-01", shelf["bins"][0].code)) for line in lines), lines
    assert LedgerEntry.objects.count() == entries_before
    assert list(StockLevel.objects.order_by("pk").values_list("pk", "quantity")) == levels_before


def test_a_file_with_one_bad_stock_row_writes_none_of_the_good_ones(controller, shelf):
    code = shelf["bins"][0].code
    job = upload(controller, f"SKU,Bin,Qty\nSKU-1,{code},90\nSKU-2,{code},abc\n", target="inventory.stocklevel")
    assert job.status == ImportJob.Status.FAILED
    assert StockLevel.objects.get(item__sku="SKU-1", location__code=code).quantity == Decimal("100")
    assert_ledger_equals_stock()


# --- Count lines --------------------------------------------------------------------------------


def test_the_assigned_counter_enters_counted_quantities_blind(people, shelf, open_count):
    counter = people["counter"]
    cycle_count_start(count_id=open_count.pk, actor=counter)
    codes = [b.code for b in shelf["bins"]]
    content = (
        "Count number,SKU,Bin,Counted\n"
        f"{open_count.number},SKU-1,{codes[0]},98\n"
        f"{open_count.number},SKU-2,{codes[1]},20\n"
    )

    job = upload(counter, content, target="inventory.cyclecountline", dry_run=True)
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert job.summary["updated"] == 2
    assert "100" not in str(job.preview) and "expected" not in str(job.preview)  # nothing of the snapshot shows

    import_job_confirm(job_id=job.pk, actor=counter)
    import_job_run(job_id=job.pk)

    lines = {line.item.sku: line for line in CycleCountLine.objects.filter(count=open_count).select_related("item")}
    assert lines["SKU-1"].counted_quantity == Decimal("98") and lines["SKU-1"].counted_by == counter
    assert lines["SKU-2"].counted_quantity == Decimal("20")
    assert lines["SKU-3"].counted_quantity is None
    assert upload(counter, content, target="inventory.cyclecountline").summary["unchanged"] == 2


def test_only_the_assigned_counter_of_a_started_count_may_import_counts(people, shelf, open_count):
    other = people["recounter"]
    counter = people["counter"]
    code = shelf["bins"][0].code
    content = f"count,sku,location,counted_quantity\n{open_count.number},SKU-1,{code},98\n"

    not_started = upload(counter, content, target="inventory.cyclecountline")
    assert not_started.status == ImportJob.Status.FAILED
    assert any("cannot be counted" in line for line in report(not_started)), report(not_started)

    cycle_count_start(count_id=open_count.pk, actor=counter)
    job = upload(other, content, target="inventory.cyclecountline")
    assert job.status == ImportJob.Status.FAILED
    assert any("Only the counter of" in line for line in report(job)), report(job)

    elsewhere = upload(
        counter, content.replace(f"SKU-1,{code}", f"SKU-1,{shelf['bins'][1].code}"), target="inventory.cyclecountline"
    )
    assert any(f"is not on count {open_count.number}" in line for line in report(elsewhere))
    assert not CycleCountLine.objects.filter(count=open_count, counted_quantity__isnull=False).exists()


# --- Who may import -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target", ["inventory.item", "inventory.location", "inventory.stocklevel", "inventory.cyclecountline"]
)
def test_auditors_never_import_inventory_records(people, target):
    with pytest.raises(PermissionDenied):
        import_job_create(
            actor=people["auditor"], target=target, uploaded_file=SimpleUploadedFile("x.csv", b"sku\nA\n")
        )
    with pytest.raises(PermissionDenied):
        import_job_create(
            actor=people["counter"], target="inventory.item", uploaded_file=SimpleUploadedFile("x.csv", b"sku\nA\n")
        )
    assert not ImportJob.objects.exists()


def test_item_and_location_lists_have_an_import_button_for_controllers(client, people):
    client.force_login(people["controller"])
    for name, target in (
        ("admin:inventory_item_changelist", "inventory.item"),
        ("admin:inventory_location_changelist", "inventory.location"),
    ):
        page = client.get(reverse(name)).content.decode()
        assert f"target={target}" in page
    client.force_login(people["auditor"])
    assert "import_link" not in client.get(reverse("admin:inventory_item_changelist")).content.decode()


def xlsx(*rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_stock_levels_from_a_spreadsheet_with_numeric_cells(controller, shelf):
    code = shelf["bins"][0].code
    job = import_job_create(
        actor=controller,
        target="inventory.stocklevel",
        uploaded_file=SimpleUploadedFile(
            "stock.xlsx", xlsx(["Item code", "Location code", "Quantity on hand"], ["SKU-1", code, 97.5])
        ),
        dry_run=False,
    )
    import_job_run(job_id=job.pk)
    job.refresh_from_db()

    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert StockLevel.objects.get(item__sku="SKU-1", location__code=code).quantity == Decimal("97.5")
    assert_ledger_equals_stock()


@pytest.fixture
def eager_tasks():
    """The queued import task runs in the test's process when sent."""
    from opsportal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_items_through_the_api(api_as, people, django_capture_on_commit_callbacks, eager_tasks):
    client = api_as(user=people["controller"])
    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/import-jobs/",
            {"file": SimpleUploadedFile("items.csv", ITEMS.encode()), "target": "inventory.item"},
            format="multipart",
        )
    assert created.status_code == 201, created.json()
    job = client.get(f"/api/v1/import-jobs/{created.json()['id']}/").json()
    assert job["status"] == "succeeded" and job["dry_run"] is True and job["summary"]["new"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"/api/v1/import-jobs/{job['id']}/confirm/").status_code == 200
    assert sorted(Item.objects.values_list("sku", flat=True)) == ["BOLT-1", "NUT-1"]


@pytest.fixture(scope="module")
def celery_worker_thread(django_db_setup, django_db_blocker):
    """A real worker consuming this test run's queue from the configured broker."""
    from celery.contrib.testing.worker import start_worker

    from opsportal.celery import app

    with (
        django_db_blocker.unblock(),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"),
    ):
        yield


@pytest.mark.worker
def test_the_worker_imports_stock_levels_into_the_ledger(celery_worker_thread, transactional_db, make_user):
    import time

    controller = make_user("inventory_controller")
    item, location = ItemFactory(sku="W-1"), LocationFactory(code="WH7-A-01")
    job = import_job_create(
        actor=controller,
        target="inventory.stocklevel",
        uploaded_file=SimpleUploadedFile("stock.csv", f"sku,location,quantity\nW-1,{location.code},12\n".encode()),
        dry_run=False,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
            break
        time.sleep(0.2)

    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    entry = LedgerEntry.objects.get(item=item, location=location)
    assert entry.quantity == Decimal("12") and entry.reason == f"Opening balance: import job {job.pk}"
    assert StockLevel.objects.get(item=item, location=location).quantity == Decimal("12")
