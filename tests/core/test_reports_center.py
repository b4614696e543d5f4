"""The reports center: every report kind in one admin page, runs on demand, schedules, past runs and downloads."""

import csv
import dataclasses
import hashlib
import io
from datetime import date, timedelta

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from apps.core import audit, reports
from apps.core.models import AuditEvent, Notification, ReportRun
from apps.core.tasks import run_scheduled_report
from tests.vendors.factories import VendorFactory

pytestmark = pytest.mark.django_db

CENTER = "/admin/reports/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def eager_tasks():
    """Tasks run in the test's process when sent (the browser and worker tests use real ones)."""
    from opsportal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def auditor(make_user):
    return make_user("auditor")


def run_in_center(client, kind, django_capture_on_commit_callbacks, **fields):
    data = {"kind": kind, **{f"{kind}-{name}": value for name, value in fields.items()}}
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(CENTER, data)


def rows_of(stored_file) -> list[list[str]]:
    stored_file.open("rb")
    try:
        return list(csv.reader(io.StringIO(stored_file.read().decode("utf-8"))))
    finally:
        stored_file.close()


# --- The registry --------------------------------------------------------------------------------


def test_every_report_kind_of_the_issue_is_registered_once():
    keys = [kind.key for kind in reports.all_kinds()]
    assert len(keys) == len(set(keys))
    for key in (
        "ap_aging",
        "refund_aging",
        "vendor_scorecards",
        "count_accuracy",
        "shrinkage",
        "sop_compliance",
        "audit_trail",
    ):
        assert reports.get(key) is not None, key


def test_kinds_follow_the_view_permission_of_their_data(make_user):
    visible = {role: {kind.key for kind in reports.kinds_for(make_user(role))} for role in ("associate", "auditor")}
    assert "audit_trail" in visible["auditor"] and "audit_trail" not in visible["associate"]
    assert {"ap_aging", "refund_aging", "vendor_scorecards"} <= visible["associate"]
    assert "count_accuracy" not in visible["associate"]  # inventory reports are for reviewers
    assert visible["auditor"] == {kind.key for kind in reports.all_kinds()}  # auditors read everything


# --- Running a report -------------------------------------------------------------------------------


def test_an_auditor_runs_an_audit_trail_extract_and_is_told_when_it_is_ready(
    client, auditor, make_user, django_capture_on_commit_callbacks, eager_tasks
):
    clerk = make_user("associate")
    vendor = VendorFactory(code="EXT-1")
    audit.record(action="invoice.approved", actor=clerk, target=vendor, message="looked fine")
    audit.record(action="auth.login", actor=auditor)  # another person: filtered out
    client.force_login(auditor)

    answer = run_in_center(
        client, "audit_trail", django_capture_on_commit_callbacks, user=clerk.username, model="vendors.vendor"
    )

    assert answer.status_code == 302 and answer["Location"].endswith("#audit_trail")
    run = ReportRun.objects.get(kind="audit_trail")
    assert run.status == ReportRun.Status.SUCCEEDED, run.message
    assert run.created_by == auditor and run.parameters["user"] == clerk.username
    header, *rows = rows_of(run.csv_file)
    assert header == ["timestamp", "source", "action", "user", "path", "model", "record id", "record", "detail"]
    assert [(row[1], row[2], row[3], row[6]) for row in rows] == [
        ("event", "invoice.approved", clerk.username, str(vendor.pk))
    ]
    assert run.row_count == 1
    run.csv_file.open("rb")
    assert hashlib.sha256(run.csv_file.read()).hexdigest() == run.csv_sha256
    run.csv_file.close()
    assert run.xlsx_file and len(run.xlsx_sha256) == 64
    notice = Notification.objects.get(recipient=auditor)
    assert "Audit trail extract" in notice.title and "ready" in notice.title
    assert notice.url == f"{CENTER}#audit_trail"
    assert AuditEvent.objects.filter(action="report.requested", actor=auditor, target_id=str(run.pk)).exists()


def test_the_extract_filters_record_changes_by_model_record_user_and_period(auditor, make_user):
    clerk, other = make_user("associate"), make_user("associate")
    with audit.audit_context(path="admin", actor=clerk):
        kept = VendorFactory(code="KEEP-1")
        VendorFactory(code="DROP-1")  # another record
    with audit.audit_context(path="admin", actor=other):
        kept.legal_name = "Changed by someone else"
        kept.save()
    assert LogEntry.objects.get_for_object(kept).count() == 2  # created by one person, changed by another
    today = timezone.localdate()
    params = {"model": "vendors.vendor", "record_id": str(kept.pk), "user": clerk.username}

    _, rows = reports.get("audit_trail").build({**params, "date_from": today - timedelta(days=1), "date_to": today})
    _, later = reports.get("audit_trail").build({**params, "date_from": today + timedelta(days=1)})

    assert [(row[1], row[2], row[3], row[5], row[6]) for row in rows] == [
        ("change", "create", clerk.username, "vendors.vendor", str(kept.pk))
    ]
    assert rows[0][4] == "admin" and "KEEP-1" in rows[0][8]
    assert later == []


def test_bad_parameters_are_shown_on_the_form_and_nothing_is_queued(
    client, auditor, django_capture_on_commit_callbacks
):
    client.force_login(auditor)

    answer = run_in_center(
        client, "audit_trail", django_capture_on_commit_callbacks, date_from="2026-11-20", date_to="2026-11-01"
    )

    assert answer.status_code == 200
    assert "The period ends before it starts." in answer.content.decode()
    assert not ReportRun.objects.exists()


def test_the_service_checks_parameters_and_permission_itself(make_user, auditor):
    with pytest.raises(ValidationError) as error:
        reports.report_run_request(actor=auditor, kind="audit_trail", record_id="7")
    assert "model" in error.value.message_dict
    with pytest.raises(PermissionDenied):  # sees the audit trail but may not export it
        reports.report_run_request(actor=make_user("administrator"), kind="audit_trail")
    with pytest.raises(ValidationError):
        reports.report_run_request(actor=auditor, kind="ap_aging")  # not one of the portal's own runs
    assert not ReportRun.objects.exists()


def test_running_the_worker_twice_keeps_the_first_files_and_notifies_once(auditor):
    VendorFactory(code="TWICE-1")
    run = reports.report_run_request(actor=auditor, kind="vendor_scorecards")

    first = reports.report_run_generate(run_id=run.pk)
    second = reports.report_run_generate(run_id=run.pk)

    assert first.status == second.status == ReportRun.Status.SUCCEEDED
    assert second.csv_file.name == first.csv_file.name and second.csv_sha256 == first.csv_sha256
    assert Notification.objects.filter(recipient=auditor).count() == 1


def test_a_failing_report_is_recorded_as_failed_for_the_requester(auditor, monkeypatch):
    run = reports.report_run_request(actor=auditor, kind="vendor_scorecards")

    def broken(parameters):
        raise RuntimeError("the ranking could not be read")

    kind = reports.get("vendor_scorecards")
    monkeypatch.setitem(reports._kinds, kind.key, dataclasses.replace(kind, build=broken))
    failed = reports.report_run_generate(run_id=run.pk)

    assert failed.status == ReportRun.Status.FAILED and "could not be read" in failed.message
    assert not failed.csv_file
    assert "failed" in Notification.objects.get(recipient=auditor).title


def test_cells_a_spreadsheet_would_run_are_written_as_text(auditor):
    VendorFactory(code="F-1", legal_name="=HYPERLINK(1)")
    run = reports.report_run_generate(run_id=reports.report_run_request(actor=auditor, kind="vendor_scorecards").pk)
    names = [row[2] for row in rows_of(run.csv_file)[1:]]
    assert names == ["'=HYPERLINK(1)"]


def test_a_schedule_runs_a_report_with_nobody_to_notify(django_capture_on_commit_callbacks, eager_tasks):
    with django_capture_on_commit_callbacks(execute=True):
        run_id = run_scheduled_report.apply(kwargs={"kind": "sop_compliance", "parameters": {"area": "invoices"}}).get()

    run = ReportRun.objects.get(pk=run_id)
    assert run.scheduled and run.created_by is None and run.parameters == {"area": "invoices"}
    assert run.status == ReportRun.Status.SUCCEEDED
    assert not Notification.objects.exists()


# --- The page ---------------------------------------------------------------------------------------------


def test_people_without_any_report_are_refused_and_anonymous_people_sign_in(client, make_user):
    assert client.get(CENTER).status_code == 302
    client.force_login(make_user(None))
    assert client.get(CENTER).status_code == 403
    assert reverse("admin:reports_center") == CENTER


def test_the_page_shows_only_the_kinds_a_person_may_see_and_run(client, make_user):
    client.force_login(make_user("associate"))
    page = client.get(CENTER).content.decode()
    assert 'id="ap_aging"' in page and 'name="ap_aging-as_of"' in page  # associates run AP aging
    assert 'id="vendor_scorecards"' in page and 'name="kind" value="vendor_scorecards"' not in page  # see, not run
    assert 'id="audit_trail"' not in page


def test_an_auditor_cannot_run_a_report_that_creates_an_app_record(client, auditor, django_capture_on_commit_callbacks):
    client.force_login(auditor)
    page = client.get(CENTER).content.decode()
    assert 'name="kind" value="ap_aging"' not in page
    answer = run_in_center(client, "ap_aging", django_capture_on_commit_callbacks, as_of="2026-11-30")
    assert answer.status_code == 403


def test_schedules_are_listed_with_a_link_to_edit_them(client, make_user):
    from apps.core import schedules

    schedules.install_defaults()  # a fresh test database may have been flushed
    client.force_login(make_user("administrator"))
    administrator_page = client.get(CENTER).content.decode()
    client.force_login(make_user("associate"))
    associate_page = client.get(CENTER).content.decode()

    from django_celery_beat.models import PeriodicTask

    weekly = PeriodicTask.objects.get(name="Weekly AP aging report")
    edit = reverse("admin:django_celery_beat_periodictask_change", args=[weekly.pk])
    assert "Weekly AP aging report" in associate_page and edit not in associate_page
    # administrators keep every report's schedules, also of reports whose data they do not read
    assert 'id="ap_aging"' not in administrator_page and edit in administrator_page
    assert "Add a schedule" in administrator_page  # for the portal's own reports
    assert "apps.core.tasks.run_scheduled_report" in reports.new_schedule_url(reports.get("audit_trail"))


def test_a_generic_schedule_added_in_the_beat_admin_is_listed_under_its_kind(client, auditor):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    crontab = CrontabSchedule.objects.create(minute="0", hour="7", day_of_month="1")
    PeriodicTask.objects.create(
        name="Monthly scorecards",
        task="apps.core.tasks.run_scheduled_report",
        crontab=crontab,
        kwargs='{"kind": "vendor_scorecards"}',
    )
    found = reports.schedules_by_kind(reports.all_kinds())
    assert [task.name for task in found["vendor_scorecards"]] == ["Monthly scorecards"]
    assert found["sop_compliance"] == []


def test_the_page_costs_the_same_number_of_queries_however_many_runs_exist(
    client, auditor, django_assert_max_num_queries
):
    def add_runs(count):
        for _ in range(count):
            for kind in ("audit_trail", "vendor_scorecards", "sop_compliance"):
                ReportRun.objects.create(kind=kind, created_by=auditor, status=ReportRun.Status.SUCCEEDED)

    client.force_login(auditor)
    add_runs(2)
    with django_assert_max_num_queries(30) as few:
        assert client.get(CENTER).status_code == 200
    add_runs(20)
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get(CENTER)
    assert page.content.decode().count('data-run="') >= 30  # ten per kind shown


# --- Downloads ----------------------------------------------------------------------------------------


def test_a_download_needs_export_records_and_is_an_audited_export(client, auditor, make_user):
    VendorFactory(code="DL-1")
    run = reports.report_run_generate(run_id=reports.report_run_request(actor=auditor, kind="vendor_scorecards").pk)
    url = reverse("admin:reports_center_download", args=["vendor_scorecards", run.pk, "csv"])

    client.force_login(make_user("vendor_manager"))  # sees vendors, may not export
    assert client.get(url).status_code == 403
    client.force_login(auditor)
    answer = client.get(url)

    assert answer.status_code == 200
    content = b"".join(answer.streaming_content) if answer.streaming else answer.content
    assert b"DL-1" in content
    assert answer["Content-Disposition"].startswith("attachment;")
    event = AuditEvent.objects.get(action="records.exported", actor=auditor)
    assert event.data["sha256"] == hashlib.sha256(content).hexdigest() == run.csv_sha256
    assert event.data["what"] == "report:vendor_scorecards" and event.data["rows"] == 1
    for kind, fmt in (("vendor_scorecards", "pdf"), ("sop_compliance", "csv")):  # no such file; another kind's run
        assert client.get(reverse("admin:reports_center_download", args=[kind, run.pk, fmt])).status_code == 404


def test_the_runs_list_in_the_admin_is_read_only_and_links_to_the_center(client, auditor):
    client.force_login(auditor)
    ReportRun.objects.create(kind="sop_compliance", created_by=auditor)
    page = client.get("/admin/core/reportrun/?kind=sop_compliance")
    assert page.status_code == 200 and CENTER in page.content.decode()
    assert page.context["cl"].result_count == 1
    assert client.get("/admin/core/reportrun/?kind=audit_trail").context["cl"].result_count == 0
    assert client.get("/admin/core/reportrun/add/").status_code == 403


def test_dates_in_parameters_are_stored_as_text(auditor):
    run = reports.report_run_request(
        actor=auditor, kind="audit_trail", date_from=date(2026, 11, 1), date_to=date(2026, 11, 2)
    )
    assert run.parameters["date_from"] == "2026-11-01" and run.parameters["model"] == ""


# --- The worker ---------------------------------------------------------------------------------------


@pytest.fixture
def worker(transactional_db, settings, tmp_path):
    """A real worker consuming this test run's own queue through the configured broker."""
    from celery.contrib.testing.worker import start_worker

    from opsportal.celery import app

    settings.MEDIA_ROOT = str(tmp_path)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"):
        yield


@pytest.mark.worker
def test_the_worker_writes_a_run_requested_in_the_center_once_it_commits(worker, make_user):
    import time

    auditor = make_user("auditor")
    VendorFactory(code="WRK-1")
    run = reports.report_run_request(actor=auditor, kind="vendor_scorecards")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.status in (ReportRun.Status.SUCCEEDED, ReportRun.Status.FAILED):
            break
        time.sleep(0.2)
    assert run.status == ReportRun.Status.SUCCEEDED, run.message
    assert run.row_count == 1 and "WRK-1" in rows_of(run.csv_file)[1]
    assert Notification.objects.filter(recipient=auditor).count() == 1
