"""AP aging in the reports center: run on demand as an associate, listed with its files, downloaded by an auditor."""

import pytest
from django.urls import reverse

from apps.core import reports
from apps.core.models import AuditEvent
from apps.invoices.models import AgingReportRun
from tests.core.test_reports_center import run_in_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks():
    from opsportal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_an_associate_runs_ap_aging_and_an_auditor_downloads_the_csv(
    client, make_user, associate, submitted, po_line, django_capture_on_commit_callbacks, eager_tasks
):
    submitted(po_line)
    vendor = po_line.purchase_order.vendor
    client.force_login(associate)

    answer = run_in_center(
        client, "ap_aging", django_capture_on_commit_callbacks, as_of="2026-11-30", vendor=vendor.code
    )

    assert answer.status_code == 302
    run = AgingReportRun.objects.get()
    assert run.created_by == associate and run.vendor == vendor and run.status == AgingReportRun.Status.DONE
    summary = reports.get("ap_aging").summary(run)
    assert summary.status == "succeeded" and summary.formats == ("csv", "xlsx")
    assert summary.requested_by == associate.username and vendor.code in summary.parameters
    assert "needs export permission" in client.get("/admin/reports/").content.decode()  # no export_records

    auditor = make_user("auditor")
    client.force_login(auditor)
    download = client.get(reverse("admin:reports_center_download", args=["ap_aging", run.pk, "csv"]))
    assert download.status_code == 200 and b"1000.00" in download.content
    event = AuditEvent.objects.get(action="records.exported", actor=auditor)
    assert event.data["what"] == "report:ap_aging" and event.data["rows"] == run.row_count


def test_an_unknown_vendor_code_is_named_on_the_form(client, associate, django_capture_on_commit_callbacks):
    client.force_login(associate)
    answer = run_in_center(client, "ap_aging", django_capture_on_commit_callbacks, as_of="2026-11-30", vendor="NOPE")
    assert "No vendor has the code" in answer.content.decode()
    assert not AgingReportRun.objects.exists()


def test_the_weekly_schedule_belongs_to_ap_aging():
    assert reports.get("ap_aging").schedule_names == ("Weekly AP aging report",)
