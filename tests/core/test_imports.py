"""Import jobs: a file is validated by the worker, dry run first, then written all or nothing."""

import gc
import io

import pytest
from django.core import mail  # noqa: F401  (locmem outbox stays empty: imports send nothing)
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import AuditEvent, ImportJob
from apps.core.services.imports import import_job_confirm, import_job_create, import_job_run
from apps.vendors.models import Vendor
from apps.vendors.resources import VendorResource

GOOD = "code,legal_name,category,payment_terms_days\nACME-01,Acme Ltd,goods,30\nBETA-02,Beta GmbH,services,45\n"
BAD = (
    "code,legal_name,category,payment_terms_days\n"
    "ACME-01,Acme Ltd,goods,30\n"
    "bad code!,Broken,goods,30\n"
    "GAMMA-03,Gamma,unknown-category,999\n"
)


def upload(actor, content, *, name="vendors.csv", dry_run=True, encoding="utf-8", target="vendors.vendor"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    job = import_job_create(
        actor=actor, target=target, uploaded_file=SimpleUploadedFile(name, data), dry_run=dry_run, encoding=encoding
    )
    import_job_run(job_id=job.pk)  # what the worker does (the worker test runs it through Celery)
    job.refresh_from_db()
    return job


@pytest.fixture
def manager(make_user):
    return make_user("vendor_manager")


def test_dry_run_shows_what_would_change_and_writes_nothing(manager):
    job = upload(manager, GOOD)
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.summary == {"new": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert job.rows_total == job.rows_processed == 2
    assert len(job.preview["new"]) == 2 and "ACME-01" in job.preview["new"][0]
    assert not Vendor.objects.exists()

    import_job_confirm(job_id=job.pk, actor=manager)
    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED and not job.dry_run
    assert sorted(Vendor.objects.values_list("code", flat=True)) == ["ACME-01", "BETA-02"]
    acme = Vendor.objects.get(code="ACME-01")
    assert acme.created_by == manager
    from auditlog.models import LogEntry

    entry = LogEntry.objects.get_for_object(acme).get(action=LogEntry.Action.CREATE)
    assert entry.additional_data["path"] == "import" and entry.actor == manager


def test_the_same_file_twice_changes_nothing_the_second_time(manager):
    upload(manager, GOOD, dry_run=False)
    again = upload(manager, GOOD, dry_run=False)
    assert again.summary == {"new": 0, "updated": 0, "unchanged": 2, "errors": 0}
    changed = upload(manager, GOOD.replace("Beta GmbH", "Beta AG"), dry_run=False)
    assert changed.summary == {"new": 0, "updated": 1, "unchanged": 1, "errors": 0}


def test_any_invalid_row_means_nothing_is_written_and_every_error_is_reported(manager):
    job = upload(manager, BAD, dry_run=False)

    assert job.status == ImportJob.Status.FAILED
    assert not Vendor.objects.exists()  # the valid first row was not written either
    assert job.summary["errors"] == 2
    assert "nothing was written" in job.message
    report = job.error_report.open("rb").read().decode()
    lines = report.splitlines()
    assert lines[0] == "row,column,value,message"
    assert any(line.startswith("3,code,bad code!,") for line in lines)
    assert any(line.startswith("4,category,unknown-category,") for line in lines)
    assert "4,payment_terms_days,999,Ensure this value is less than or equal to 365." in lines
    assert AuditEvent.objects.filter(action="import.failed", actor=manager).exists()


def test_a_word_in_a_number_column_is_reported_with_its_column_and_value(manager):
    job = upload(manager, "code,legal_name,category,payment_terms_days\nACME-01,Acme Ltd,goods,thirty\n")

    assert job.status == ImportJob.Status.FAILED
    lines = job.error_report.open("rb").read().decode().splitlines()
    assert lines[1:] == ["2,payment_terms_days,thirty,'thirty' is not a number."]


def test_a_confirmed_job_cannot_be_confirmed_twice_and_failed_ones_never(manager):
    job = upload(manager, BAD)
    with pytest.raises(TransitionNotAllowed):
        import_job_confirm(job_id=job.pk, actor=manager)


@pytest.mark.parametrize(
    "content, name, message",
    [
        ("", "v.csv", "The file is empty."),
        ("code,legal_name,category\n", "v.csv", "column names but no rows"),
        ("code,code\nA,B\n", "v.csv", "Column names must be different: code"),
        (b"code,legal_name\x00\nA,B\n", "v.csv", "NUL bytes"),
        (b"code,legal_name,category\nA,Caf\xe9,goods\n", "v.csv", "choose Windows-1252"),
        ("code,legal_name,category\nA,B,goods,extra\n", "v.csv", "Row 2 has more values than there are columns"),
        (b"PK\x03\x04not really a workbook", "v.xlsx", "not a valid .xlsx workbook"),
    ],
)
def test_unreadable_files_get_a_clear_message(manager, content, name, message):
    job = upload(manager, content, name=name)
    assert job.status == ImportJob.Status.FAILED
    assert message in job.message
    assert not Vendor.objects.exists()


def test_windows_1252_semicolons_and_a_bom(manager):
    cp1252 = "code;legal_name;category\nCAFE-1;Café Müller;services\n".encode("cp1252")
    assert upload(manager, cp1252, encoding="cp1252", dry_run=False).status == ImportJob.Status.SUCCEEDED
    bom = "\ufeffcode,legal_name,category\nBOM-1,Bom Ltd,goods\n".encode()
    assert upload(manager, bom, dry_run=False).status == ImportJob.Status.SUCCEEDED
    assert sorted(Vendor.objects.values_list("legal_name", flat=True)) == ["Bom Ltd", "Café Müller"]


def xlsx(*rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_values_are_read_and_formulas_are_never_run(manager):
    job = upload(
        manager, xlsx(["code", "legal_name", "category"], ["XL-1", "Excel Ltd", "goods"]), name="v.xlsx", dry_run=False
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert Vendor.objects.get(code="XL-1").legal_name == "Excel Ltd"

    formula = xlsx(["code", "legal_name", "category"], ["XL-2", '=HYPERLINK("http://evil.example","x")', "goods"])
    job = upload(manager, formula, name="v.xlsx", dry_run=False)
    # Only values a spreadsheet saved are read: a formula is never evaluated, so this cell holds nothing.
    assert job.status == ImportJob.Status.FAILED
    assert job.error_report.open("rb").read().decode().splitlines()[1] == "2,legal_name,,This field cannot be blank."
    assert not Vendor.objects.filter(code="XL-2").exists()


def test_a_zip_bomb_is_refused(manager):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * 50_000_000)
    job = upload(manager, buffer.getvalue(), name="bomb.xlsx")
    assert job.status == ImportJob.Status.FAILED and "zip bomb" in job.message


def test_limits_on_size_rows_and_columns(manager, settings):
    settings.IMPORT_MAX_ROWS = 2
    many = "code,legal_name,category\n" + "".join(f"R-{n},Row {n},goods\n" for n in range(3))
    assert "more than 2 rows" in upload(manager, many).message
    settings.IMPORT_MAX_COLUMNS = 2
    assert "at most 2 are read" in upload(manager, GOOD).message
    settings.IMPORT_MAX_BYTES = 10
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        upload(manager, GOOD)
    assert "file" in error.value.message_dict


def test_auditors_and_people_without_add_permission_cannot_import(make_user):
    from django.core.exceptions import PermissionDenied

    for role in ("auditor", "associate", "approver"):
        with pytest.raises(PermissionDenied, match="You may not import vendors"):
            upload(make_user(role), GOOD)
    assert not ImportJob.objects.exists()


def test_unknown_target_and_file_type(manager):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        upload(manager, GOOD, target="nothing.here")
    assert "target" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        upload(manager, GOOD, name="vendors.pdf")
    assert "file" in error.value.message_dict


@pytest.fixture
def eager_tasks():
    """Tasks run in the test's process when sent (the worker tests send them through a real broker)."""
    from opsportal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_api_upload_dry_run_confirm_and_error_report(api_as, django_capture_on_commit_callbacks, eager_tasks):
    client = api_as("vendor_manager")
    with django_capture_on_commit_callbacks(execute=True):  # run the queued task, as the worker would
        created = client.post(
            "/api/v1/import-jobs/",
            {"file": SimpleUploadedFile("v.csv", BAD.encode()), "target": "vendors.vendor"},
            format="multipart",
        )
    assert created.status_code == 201, created.json()
    job = client.get(f"/api/v1/import-jobs/{created.json()['id']}/").json()
    assert job["status"] == "failed" and job["progress_percent"] == 100 and job["dry_run"] is True
    report = client.get(job["error_report_url"])
    assert report.status_code == 200 and b"bad code!" in b"".join(report.streaming_content)

    with django_capture_on_commit_callbacks(execute=True):
        good = client.post(
            "/api/v1/import-jobs/",
            {"file": SimpleUploadedFile("v.csv", GOOD.encode()), "target": "vendors.vendor"},
            format="multipart",
        ).json()
    assert client.get(f"/api/v1/import-jobs/{good['id']}/").json()["summary"]["new"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(f"/api/v1/import-jobs/{good['id']}/confirm/")
    assert confirmed.status_code == 200
    assert client.get(f"/api/v1/import-jobs/{good['id']}/").json()["status"] == "succeeded"
    assert Vendor.objects.count() == 2
    assert client.post(f"/api/v1/import-jobs/{good['id']}/confirm/").status_code == 409

    auditor = api_as("auditor")
    denied = auditor.post(
        "/api/v1/import-jobs/",
        {"file": SimpleUploadedFile("v.csv", GOOD.encode()), "target": "vendors.vendor"},
        format="multipart",
    )
    assert denied.status_code == 403
    assert len(auditor.get("/api/v1/import-jobs/").json()["results"]) == 2  # auditors read every job
    assert api_as("associate").get("/api/v1/import-jobs/").json()["results"] == []  # others see their own


def test_admin_upload_page_lists_only_allowed_targets_and_shows_the_result(client, manager):
    client.force_login(manager)
    page = client.get(reverse("admin:core_importjob_add") + "?target=vendors.vendor").content.decode()
    assert 'value="vendors.vendor" selected' in page
    job = upload(manager, GOOD)
    detail = client.get(reverse("admin:core_importjob_change", args=[job.pk])).content.decode()
    assert "New: 2" in detail and "Confirm import" in detail
    response = client.post(reverse("admin:core_importjob_confirm", args=[job.pk]), follow=True)
    assert "Confirmed" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED and not job.dry_run


# --- Header aliases ------------------------------------------------------------------------------


class AliasedVendorResource(VendorResource):
    header_aliases = {
        "code": ("Vendor Code", "Supplier ID"),
        "legal_name": ("ContactName", "Vendor"),
        "payment_terms_days": ("Terms (days)",),
    }


@pytest.fixture
def aliased_vendor_target():
    from apps.core import imports

    target = imports.register("vendors.vendor-aliased", AliasedVendorResource, label="Vendors (aliased headers)")
    yield target
    imports._targets.pop(target.key)


@pytest.mark.parametrize(
    "header, expected",
    [
        ("*ContactName", "legal_name"),
        ("contact_name", "legal_name"),
        ("  VENDOR ", "legal_name"),
        ("vendor-code", "code"),
        ("Supplier ID", "code"),
        ("Legal Name", "legal_name"),
        ("LEGAL_NAME", "legal_name"),
        ("terms (days)", "payment_terms_days"),
        ("Notes", "Notes"),
    ],
)
def test_headers_match_names_and_aliases_ignoring_case_spaces_and_underscores(header, expected):
    from apps.core import imports

    assert imports.canonical_headers([header], AliasedVendorResource) == [expected]


def test_two_headers_meaning_one_column_is_an_error_naming_both():
    from apps.core import imports

    with pytest.raises(imports.ImportFileError) as error:
        imports.canonical_headers(["Vendor Code", "Category", "supplier_id"], AliasedVendorResource)
    assert "'Vendor Code'" in str(error.value) and "'supplier_id'" in str(error.value) and "'code'" in str(error.value)
    with pytest.raises(imports.ImportFileError, match="'code' and 'CODE' both mean 'code'"):
        imports.canonical_headers(["code", "CODE"], VendorResource)


def test_an_upload_with_aliased_headers_is_imported_under_the_resource_columns(manager, aliased_vendor_target):
    content = "Supplier ID,*ContactName,Category,Terms (days)\nALIAS-1,Alias Ltd,goods,14\n"
    job = upload(manager, content, target=aliased_vendor_target.key, dry_run=False)
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    vendor = Vendor.objects.get(code="ALIAS-1")
    assert (vendor.legal_name, vendor.payment_terms_days) == ("Alias Ltd", 14)

    ambiguous = upload(manager, "Vendor Code,Supplier ID,legal_name\nA,B,C\n", target=aliased_vendor_target.key)
    assert ambiguous.status == ImportJob.Status.FAILED
    assert "'Vendor Code' and 'Supplier ID' both mean 'code'" in ambiguous.message
    assert Vendor.objects.count() == 1


def test_column_names_match_case_insensitively_without_aliases(manager):
    job = upload(manager, "Code,Legal Name,CATEGORY\nCASE-1,Case Ltd,goods\n", dry_run=False)
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert Vendor.objects.get(code="CASE-1").legal_name == "Case Ltd"


def test_bulk_progress_is_reported_at_most_every_thousand_rows(settings):
    from django.core.cache import cache

    from apps.core.services.imports import ProgressReporter, progress_key

    settings.IMPORT_PROGRESS_EVERY = 1000
    report = ProgressReporter(job_id=987654)
    seen = []
    for rows in (400, 999, 1000, 1500, 1999, 2600, 3000):
        report(rows)
        seen.append(cache.get(progress_key(987654)))
    assert seen == [None, None, 1000, 1000, 1000, 2600, 2600]
    cache.delete(progress_key(987654))


def test_confirming_an_import_job_that_does_not_exist_is_a_clear_message(client, manager):
    client.force_login(manager)

    response = client.post(reverse("admin:core_importjob_confirm", args=[987654]), follow=True)

    assert response.status_code == 200
    assert "Not confirmed: There is no such import job." in response.content.decode()


def test_a_bulk_import_runs_with_fewer_garbage_collections_and_leaves_the_worker_as_it_was(manager):
    from apps.core import imports

    seen = []

    def importer(*, job, table, progress):
        seen.append(gc.get_threshold())
        result = imports.BulkImportResult(unit="vendors")
        for _number, _values in table.rows:
            result.rows += 1
            result.count("unchanged", "a vendor")
        return result

    target = imports.register("vendors.vendor-bulk", VendorResource, label="Vendors (bulk)", bulk_importer=importer)
    before = gc.get_threshold()
    try:
        job = upload(manager, GOOD, target=target.key, dry_run=False)
    finally:
        imports._targets.pop(target.key)

    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert job.summary["unchanged"] == 2
    raised = (max(20_000, before[0]), *before[1:]) if before[0] else before  # 0 (collection off) stays
    assert seen == [raised]
    assert gc.get_threshold() == before
