"""Exports: formula-safe cells, streamed CSV audited with its SHA-256, large exports as worker jobs, masking,
and export_records on every path that lets records out."""

import csv
import hashlib
import io
import json
import time

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from apps.core import exports
from apps.core.api.renderers import CSVRenderer, ExportableListMixin
from apps.core.models import AuditEvent, ExportJob, Notification
from apps.core.services.exports import export_job_download, export_job_run
from apps.vendors.models import Vendor
from opsportal.api_urls import router
from tests.vendors.factories import VendorFactory

FORMULAS = ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx", "\nx"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def streamed(response) -> bytes:
    return b"".join(response.streaming_content)


def exported_events():
    return AuditEvent.objects.filter(action="records.exported").order_by("id")


def admin_export(client, url):
    """Post the admin's export form as a person would: CSV, every field ticked."""
    from django import forms

    form = client.get(url).context["form"]
    ticked = {name: "on" for name, field in form.fields.items() if isinstance(field, forms.BooleanField)}
    return client.post(url, {"format": "0", "resource": "0", **ticked})


# --- Cells ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", FORMULAS)
def test_a_text_cell_a_spreadsheet_would_evaluate_gets_an_apostrophe(text):
    stream = exports.CSVStream(["name"], [[text]])
    rows = list(csv.reader(io.StringIO(b"".join(stream).decode())))
    assert rows[1] == ["'" + text]


def test_numbers_stay_numbers_and_only_text_columns_are_checked():
    stream = exports.CSVStream(["n", "text", "signed"], [(-5, "-5", "=x"), (3, "ok", "+y")], text_columns=[1, 2])
    rows = list(csv.reader(io.StringIO(b"".join(stream).decode())))
    assert rows[1:] == [["-5", "-5", "'=x"], ["3", "ok", "'+y"]]
    assert stream.row_count == 2


def test_the_database_makes_text_cells_safe_as_it_reads_them(db):
    names = [*FORMULAS, "-5", "+1.5e3", "plain", "a=b", 'say "hi", then\nleave']
    for number, name in enumerate(names):
        Vendor.objects.create(code=f"F-{number:02d}", legal_name=name, category="goods", payment_terms_days=30 + number)
    columns = exports.model_columns(Vendor, ["code", "legal_name", "payment_terms_days"])

    rows = list(
        csv.reader(
            io.StringIO(
                b"".join(exports.queryset_csv_stream(Vendor.objects.order_by("code"), columns)).decode(), newline=""
            )
        )
    )

    assert rows[0] == ["code", "legal_name", "payment_terms_days"]
    assert [row[1] for row in rows[1:]] == ["'" + name for name in FORMULAS] + names[len(FORMULAS) :]
    assert [row[2] for row in rows[1:]] == [str(30 + number) for number in range(len(names))]


@pytest.mark.postgres  # elsewhere Python writes every line
def test_lines_written_by_the_database_equal_what_python_csv_writes(db):
    odd = ["back\\slash", "tab\there", "ff\x0cvt\x0bbs\x08", "a literal \\n", "line\nbreak", "cr\ronly", "é ü 漢字"]
    for number, name in enumerate([*FORMULAS, 'q"uote', "a,b", "", "x\r\ny", *odd]):
        Vendor.objects.create(code=f"Q-{number:02d}", legal_name=name, category="goods")
    columns = exports.model_columns(Vendor, ["code", "legal_name", "payment_terms_days", "hold_reason"])
    vendors = Vendor.objects.order_by("code")
    by_database = exports.queryset_csv_stream(vendors, columns)
    assert isinstance(by_database, exports.CSVLineStream)
    rows = [
        [exports.safe_cell(value) for value in row]
        for row in vendors.values_list("code", "legal_name", "payment_terms_days", "hold_reason")
    ]
    by_python = exports.CSVStream([c.header for c in columns], rows)
    assert b"".join(by_database) == b"".join(by_python)
    assert by_database.sha256 == by_python.sha256 and by_database.row_count == by_python.row_count == 18


def test_xlsx_written_by_the_worker_keeps_numbers_and_escapes_formulas(tmp_path):
    target = tmp_path / "out.xlsx"
    with target.open("wb") as handle:
        count, digest = exports.write_file(handle, ["name", "amount"], [["=HYPERLINK(1)", 12.5], ["plain", -3]], "xlsx")
    assert count == 2
    assert digest == hashlib.sha256(target.read_bytes()).hexdigest()
    sheet = load_workbook(target).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["name", "amount"],
        ["'=HYPERLINK(1)", 12.5],
        ["plain", -3],
    ]


# --- API ?format=csv --------------------------------------------------------------------------------


def test_an_api_list_streams_its_filtered_rows_as_csv_and_records_the_sha256(api_as):
    VendorFactory(code="V-EVIL", legal_name='=HYPERLINK("http://x")')
    VendorFactory(code="V-OK", legal_name="Plain Ltd")
    auditor = api_as("auditor")

    response = auditor.get("/api/v1/vendors/?format=csv&search=V-EVIL")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = streamed(response)
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert [row["code"] for row in rows] == ["V-EVIL"]
    assert rows[0]["legal_name"] == '\'=HYPERLINK("http://x")'
    event = exported_events().get()
    assert event.actor == auditor.user
    assert event.path == "api"
    assert event.data["what"] == "vendors.vendor"
    assert event.data["rows"] == 1
    assert event.data["filters"] == {"search": ["V-EVIL"]}
    assert event.data["sha256"] == hashlib.sha256(content).hexdigest()


def test_the_invoice_list_exports_its_columns_straight_from_the_database(api_as, make_user):
    from datetime import date
    from decimal import Decimal

    from apps.invoices import services as invoice_services
    from apps.invoices.api.views import INVOICE_EXPORT_FIELDS
    from tests.invoices.factories import PurchaseOrderLineFactory

    line = PurchaseOrderLineFactory()
    for number in ("X-1", "X-2"):
        invoice_services.invoice_create(
            actor=make_user("associate"),
            vendor_id=line.purchase_order.vendor_id,
            number=number,
            invoice_date=date(2026, 10, 1),
            purchase_order=line.purchase_order,
            tax=Decimal("0"),
            lines=[{"po_line": line, "description": "x", "quantity": "1", "unit_price": "10.00"}],
        )

    response = api_as("auditor").get("/api/v1/invoices/?format=csv&number=X-2")

    rows = list(csv.reader(io.StringIO(streamed(response).decode(), newline="")))
    assert rows[0] == INVOICE_EXPORT_FIELDS
    assert [dict(zip(rows[0], row, strict=True))["number"] for row in rows[1:]] == ["X-2"]
    assert dict(zip(rows[0], rows[1], strict=True))["total"] == "10.00"
    assert exported_events().get().data["rows"] == 1


def test_an_api_list_downloads_xlsx(api_as):
    VendorFactory(code="V-X1")
    response = api_as("auditor").get("/api/v1/vendors/?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert "V-X1" in [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert exported_events().get().data["sha256"] == hashlib.sha256(response.content).hexdigest()


def test_reading_a_list_is_not_exporting_it(api_as):
    VendorFactory()
    manager = api_as("vendor_manager")
    assert manager.get("/api/v1/vendors/").status_code == 200
    assert manager.get("/api/v1/vendors/?format=csv").status_code == 403
    assert not exported_events().exists()


def test_personal_data_stays_masked_in_exports_for_those_who_may_not_see_it(make_user, api_as):
    from tests.refunds.factories import OrderFactory

    OrderFactory(customer_name="Jane Doe", customer_email="jane@example.com", reference="SO-PII")
    reader = make_user(None)
    reader.user_permissions.add(
        Permission.objects.get(codename="export_records"), Permission.objects.get(codename="view_order")
    )
    rows = list(csv.DictReader(io.StringIO(streamed(api_as(user=reader).get("/api/v1/orders/?format=csv")).decode())))
    assert (rows[0]["customer_name"], rows[0]["customer_email"]) == ("J*** D***", "j***@example.com")

    auditor_rows = streamed(api_as("auditor").get("/api/v1/orders/?format=csv")).decode()
    assert "jane@example.com" in auditor_rows


def test_a_download_broken_off_is_recorded_as_a_failed_export(make_user, monkeypatch):
    monkeypatch.setattr(exports, "COPY_CHUNK_BYTES", 1024)  # several chunks of database-written lines
    auditor = make_user("auditor")
    Vendor.objects.bulk_create(
        Vendor(code=f"B-{number:05d}", legal_name=f"Bulk {number}", category="goods")
        for number in range(exports.CSV_BATCH_ROWS + 10)
    )
    columns = exports.model_columns(Vendor, ["code", "legal_name"])
    stream = exports.AuditedStream(
        exports.queryset_csv_stream(Vendor.objects.order_by("code"), columns), actor=auditor, what="vendors.vendor"
    )
    chunks = iter(stream)
    next(chunks)
    stream.close()  # what the response does when the client goes away

    event = exported_events().get()
    assert event.outcome == "failed"
    assert 0 < event.data["rows"] < exports.CSV_BATCH_ROWS + 10  # what was sent before the break


def test_the_audit_trail_exports_filtered_by_model_record_user_and_dates(api_as):
    auditor = api_as("auditor")
    vendor = VendorFactory(code="V-AUD")
    other = VendorFactory(code="V-OTHER")

    response = auditor.get(f"/api/v1/audit-changes/?format=csv&model=vendors.vendor&object_pk={vendor.pk}")

    rows = list(csv.DictReader(io.StringIO(streamed(response).decode())))
    assert rows and {row["object_pk"] for row in rows} == {str(vendor.pk)}
    assert str(other.pk) not in {row["object_pk"] for row in rows}
    events = auditor.get(f"/api/v1/audit-events/?format=csv&action=records.exported&actor={auditor.user.pk}")
    exported = list(csv.DictReader(io.StringIO(streamed(events).decode())))
    assert [json.loads(row["data"])["what"] for row in exported] == ["auditlog.logentry"]
    assert exported_events().count() == 2


# --- Large exports: export jobs -----------------------------------------------------------------------


def test_a_large_api_export_becomes_an_export_job_with_a_link_and_a_notification(api_as, settings):
    settings.EXPORT_ASYNC_THRESHOLD_ROWS = 2
    for number in range(3):
        VendorFactory(code=f"L-{number}", legal_name=f"@Large {number}")
    VendorFactory(code="Z-OUT")
    auditor = api_as("auditor")

    response = auditor.get("/api/v1/vendors/?format=csv&search=L-")

    assert response.status_code == 202
    job = ExportJob.objects.get(pk=response.json()["id"])
    assert (job.status, job.target, job.created_by) == (ExportJob.Status.QUEUED, "vendors.vendor", auditor.user)
    assert not exported_events().exists()

    export_job_run(job_id=job.pk)  # what the worker runs

    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED, job.message
    content = job.file.read()
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert sorted(row["code"] for row in rows) == ["L-0", "L-1", "L-2"]
    assert {row["legal_name"][:2] for row in rows} == {"'@"}
    assert job.sha256 == hashlib.sha256(content).hexdigest() and job.rows == 3
    event = exported_events().get()
    assert (event.data["sha256"], event.data["rows"], event.path) == (job.sha256, 3, "task")
    note = Notification.objects.get(recipient=auditor.user)
    assert note.url.endswith(f"/core/exportjob/{job.pk}/change/")
    detail = auditor.get(f"/api/v1/export-jobs/{job.pk}/").json()
    downloaded = auditor.get(detail["download_url"])
    assert downloaded.status_code == 200 and b"".join(downloaded.streaming_content) == content


def test_only_the_person_who_asked_downloads_an_export_job(api_as, make_user, settings):
    settings.EXPORT_ASYNC_THRESHOLD_ROWS = 0
    VendorFactory()
    first = api_as("auditor")
    job_id = first.get("/api/v1/vendors/?format=csv").json()["id"]
    export_job_run(job_id=job_id)
    with pytest.raises(PermissionDenied):
        export_job_download(job_id=job_id, actor=make_user("auditor"))
    assert api_as("auditor").get(f"/api/v1/export-jobs/{job_id}/download/").status_code == 404


def test_a_large_admin_export_becomes_an_export_job(client, make_user, settings):
    settings.EXPORT_ASYNC_THRESHOLD_ROWS = 1
    VendorFactory(code="A-1")
    VendorFactory(code="A-2")
    auditor = make_user("auditor")
    client.force_login(auditor)

    response = admin_export(client, "/admin/vendors/vendor/export/?q=A-")

    job = ExportJob.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"/core/exportjob/{job.pk}/change/")
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED, job.message
    assert job.rows == 2 and b"A-1" in job.file.read()
    page = client.get(f"/admin/core/exportjob/{job.pk}/change/")
    assert page.status_code == 200 and b"download" in page.content


def test_a_small_admin_export_downloads_at_once_and_is_audited(client, make_user):
    VendorFactory(code="S-1", legal_name="-minus")
    client.force_login(make_user("auditor"))
    response = admin_export(client, "/admin/vendors/vendor/export/")
    assert response.status_code == 200
    assert b"'-minus" in response.content
    assert exported_events().get().data["sha256"] == hashlib.sha256(response.content).hexdigest()


# --- Fields ticked on the admin's export form ---------------------------------------------------------

TICKED = ["status", "legal_name", "code"]  # in another order than the resource's: the file keeps the resource's
TICKED_HEADERS = ["code", "legal_name", "status"]


def admin_export_ticking(client, url, names, fmt="0"):
    """Post the admin's export form with only ``names`` ticked, by the form's own field names."""
    from django import forms

    form = client.get(url).context["form"]
    boxes = {name for name, field in form.fields.items() if isinstance(field, forms.BooleanField)}
    ticked = {f"vendorresource_{name}": "on" for name in names}
    assert set(ticked) <= boxes, "the form names its boxes <resource>_<field>"
    return client.post(url, {"format": fmt, "resource": "0", **ticked})


@pytest.fixture
def ticked_vendors():
    VendorFactory(code="T-1", legal_name="=Tick one", bank_name="Hidden Bank")
    VendorFactory(code="T-2", legal_name="Tick two", bank_name="Hidden Bank")


def test_a_small_admin_export_has_only_the_ticked_fields_in_the_resources_order(client, make_user, ticked_vendors):
    client.force_login(make_user("auditor"))

    response = admin_export_ticking(client, "/admin/vendors/vendor/export/?q=T-", TICKED)

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert rows[0] == TICKED_HEADERS
    assert sorted(rows[1:]) == [["T-1", "'=Tick one", "active"], ["T-2", "Tick two", "active"]]
    assert b"Hidden Bank" not in response.content
    event = exported_events().get()
    assert event.data["columns"] == TICKED_HEADERS


def test_an_admin_export_job_writes_only_the_ticked_fields(client, make_user, settings, ticked_vendors):
    client.force_login(make_user("auditor"))
    small = admin_export_ticking(client, "/admin/vendors/vendor/export/?q=T-", TICKED)
    settings.EXPORT_ASYNC_THRESHOLD_ROWS = 1

    response = admin_export_ticking(client, "/admin/vendors/vendor/export/?q=T-", TICKED)

    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert job.source["fields"] == TICKED_HEADERS and job.source["resource"] == 0
    queued = AuditEvent.objects.get(action="export.queued")
    assert queued.data["columns"] == TICKED_HEADERS
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED, job.message
    content = job.file.read().decode()
    assert "Hidden Bank" not in content
    by_worker = list(csv.reader(io.StringIO(content, newline="")))
    at_once = list(csv.reader(io.StringIO(small.content.decode("utf-8-sig"), newline="")))
    assert by_worker[0] == at_once[0] == TICKED_HEADERS
    assert sorted(by_worker[1:]) == sorted(at_once[1:])
    assert exported_events().last().data["columns"] == TICKED_HEADERS
    page = client.get(f"/admin/core/exportjob/{job.pk}/change/")
    assert b"code, legal_name, status" in page.content


def test_an_admin_xlsx_export_job_writes_only_the_ticked_fields(client, make_user, settings, ticked_vendors):
    client.force_login(make_user("auditor"))
    settings.EXPORT_ASYNC_THRESHOLD_ROWS = 1

    admin_export_ticking(client, "/admin/vendors/vendor/export/?q=T-", ["legal_name"], fmt="1")

    job = ExportJob.objects.get()
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.file_format) == (ExportJob.Status.SUCCEEDED, "xlsx")
    sheet = load_workbook(io.BytesIO(job.file.read())).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["legal_name"] and sorted(rows[1:]) == [["'=Tick one"], ["Tick two"]]


def test_an_admin_export_with_every_field_ticked_keeps_every_column(client, make_user, settings, ticked_vendors):
    client.force_login(make_user("auditor"))
    settings.EXPORT_ASYNC_THRESHOLD_ROWS = 1

    admin_export(client, "/admin/vendors/vendor/export/?q=T-")

    job = ExportJob.objects.get()
    export_job_run(job_id=job.pk)
    job.refresh_from_db()
    headers = next(csv.reader(io.StringIO(job.file.read().decode())))
    assert headers[:3] == ["code", "legal_name", "tax_id"] and "bank_name" in headers


def test_an_export_job_refuses_fields_its_resource_no_longer_has(make_user, settings, ticked_vendors):
    from django.test import RequestFactory

    from apps.core.services.exports import admin_source, export_job_create

    settings.EXPORT_ASYNC_THRESHOLD_ROWS = 0
    auditor = make_user("auditor")
    request = RequestFactory().get("/admin/vendors/vendor/export/")
    request.user = auditor
    model_admin = next(ma for model, ma in admin.site._registry.items() if model is Vendor)
    job = export_job_create(
        actor=auditor,
        target="vendors.vendor",
        file_format="csv",
        source=admin_source(model_admin, request, fields=["code", "gone"]),
    )

    export_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED and "gone" in job.message and not job.file


# --- Every path that lets records out needs export_records ------------------------------------------


def file_list_endpoints():
    return sorted(
        prefix
        for prefix, viewset, _ in router.registry
        if issubclass(viewset, ExportableListMixin) or CSVRenderer in getattr(viewset, "renderer_classes", [])
    )


def exporting_admins():
    return sorted(
        model._meta.label_lower
        for model, model_admin in admin.site._registry.items()
        if hasattr(model_admin, "has_export_permission")
    )


# The count sheet counters print is offered to count readers on purpose (stated in the permission matrix);
# every other admin export is a records export and needs export_records.
COUNT_SHEETS = {"inventory.cyclecount"}


@pytest.fixture
def reader(make_user):
    """Someone who may read every record but export none."""
    user = make_user(None)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


def test_the_export_paths_are_enumerated():
    assert {"vendors", "invoices", "orders", "refunds", "audit-events", "audit-changes"} <= set(file_list_endpoints())
    assert {"vendors.vendor", "invoices.invoice", "refunds.order", "core.auditevent"} <= set(exporting_admins())


@pytest.mark.parametrize("prefix", file_list_endpoints())
def test_every_api_file_format_needs_export_records(prefix, reader, api_as):
    client = api_as(user=reader)
    assert client.get(f"/api/v1/{prefix}/").status_code == 200
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/api/v1/{prefix}/?format={fmt}").status_code == 403
    assert not exported_events().exists()


def test_only_the_count_sheet_is_offered_without_export_records():
    from tests.core.test_permission_matrix import EXPORT_MATRIX, EXPORTERS

    assert {label for label, roles in EXPORT_MATRIX.items() if roles != EXPORTERS} == COUNT_SHEETS


@pytest.mark.parametrize("label", sorted(set(exporting_admins()) - COUNT_SHEETS))
def test_every_admin_export_needs_export_records(label, reader, make_user):
    from django.test import RequestFactory

    model_admin = next(ma for model, ma in admin.site._registry.items() if model._meta.label_lower == label)
    request = RequestFactory().get("/")
    request.user = reader
    assert not model_admin.has_export_permission(request)
    request.user = make_user("auditor")
    assert model_admin.has_export_permission(request)


# --- The worker -----------------------------------------------------------------------------------


@pytest.fixture
def worker(transactional_db):
    from celery.contrib.testing.worker import start_worker

    from opsportal.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"):
        yield


@pytest.mark.worker
def test_the_worker_writes_an_export_job_sent_after_commit(worker, api_as, settings):
    settings.EXPORT_ASYNC_THRESHOLD_ROWS = 0
    VendorFactory(code="W-1")
    job_id = api_as("auditor").get("/api/v1/vendors/?format=csv").json()["id"]
    deadline = time.monotonic() + 30
    job = ExportJob.objects.get(pk=job_id)
    while job.status not in (ExportJob.Status.SUCCEEDED, ExportJob.Status.FAILED) and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED, job.message
    assert b"W-1" in job.file.read()
