"""Report runs: CSV and XLSX files from the aging and recovery selectors, on demand and monthly."""

import csv
import io
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from openpyxl import load_workbook

from apps.core import schedules
from apps.refunds import services
from apps.refunds.models import ReportRun
from apps.refunds.tasks import generate_report_run, schedule_monthly_reports
from tests.refunds.factories import OrderFactory


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_an_aging_run_writes_a_csv_that_adds_up(setup, request_case, make_user):
    request_case(OrderFactory(), "10.00")
    request_case(OrderFactory(currency="USD"), "20.00")
    run = services.report_run_request(actor=make_user("approver"), kind="aging")

    run = services.report_run_generate(run_id=run.pk)

    assert run.status == "done" and run.finished_at
    rows = list(csv.DictReader(io.StringIO(run.file.read().decode())))
    assert [(r["type"], r["currency"], r["current"], r["total"]) for r in rows] == [
        ("refund", "EUR", "10.00", "10.00"),
        ("refund", "USD", "20.00", "20.00"),
        ("all", "EUR", "10.00", "10.00"),
        ("all", "USD", "20.00", "20.00"),
    ]
    assert run.row_count == 4


def test_a_recovery_run_writes_xlsx(setup, make_user):
    run = services.report_run_request(actor=make_user("approver"), kind="recovery", format="xlsx")

    generate_report_run.apply(args=[run.pk]).get()

    run.refresh_from_db()
    sheet = load_workbook(io.BytesIO(run.file.read())).active
    assert [cell.value for cell in sheet[1]][:3] == ["currency", "count", "won"]


def test_a_done_run_is_not_written_twice(setup, make_user):
    run = services.report_run_generate(run_id=services.report_run_request(actor=make_user("approver"), kind="aging").pk)
    name = run.file.name
    assert services.report_run_generate(run_id=run.pk).file.name == name


def test_auditors_cannot_run_reports(setup, make_user):
    with pytest.raises(PermissionDenied):
        services.report_run_request(actor=make_user("auditor"), kind="aging")


def test_the_monthly_schedule_creates_each_run_once(setup):
    first = schedule_monthly_reports.apply(kwargs={"day": "2026-12-01"}).get()
    second = schedule_monthly_reports.apply(kwargs={"day": "2026-12-01"}).get()

    assert (first, second) == (4, 0)
    assert set(ReportRun.objects.values_list("as_of", flat=True)) == {date(2026, 11, 30)}


def test_the_monthly_schedule_is_a_default():
    assert any(s.task == "apps.refunds.tasks.schedule_monthly_reports" for s in schedules.defaults())


def test_the_report_file_is_downloaded_by_exporters_only(client, setup, make_user):
    approver = make_user("approver")
    run = services.report_run_generate(run_id=services.report_run_request(actor=approver, kind="aging").pk)
    url = reverse("admin:reports_center_download", args=["refund_aging", run.pk, "csv"])
    client.force_login(approver)
    assert url in client.get(reverse("admin:refunds_reportrun_changelist")).content.decode()
    assert client.get(url).status_code == 403
    assert client.get(f"/api/v1/refund-report-runs/{run.pk}/download/").status_code == 403

    client.force_login(make_user("auditor"))
    response = client.get(url)

    assert response.status_code == 200
    assert response.content.startswith(b"type,currency")
    assert client.get(f"/api/v1/refund-report-runs/{run.pk}/download/").status_code == 200


def test_a_failed_run_says_why_and_its_failure_is_on_the_change_log(setup, make_user, monkeypatch):
    from auditlog.models import LogEntry

    from apps.refunds.services import reports

    run = services.report_run_request(actor=make_user("approver"), kind="aging")

    def render_fails(columns, rows, fmt):
        raise OSError("No space left on device")

    monkeypatch.setattr(reports, "render", render_fails)
    with pytest.raises(OSError, match="No space"):
        services.report_run_generate(run_id=run.pk)

    run.refresh_from_db()
    assert (run.status, run.error) == ("failed", "No space left on device")
    failed = LogEntry.objects.get_for_object(run).filter(action=LogEntry.Action.UPDATE).order_by("id").last()
    assert failed.changes["status"] == ["running", "failed"]
    assert failed.changes["error"] == ["", "No space left on device"]
