"""Refund aging and chargeback recovery in the reports center, on the refunds app's own report runs."""

import pytest
from django.urls import reverse

from apps.core import reports
from apps.refunds.models import ReportRun
from tests.core.test_reports_center import run_in_center
from tests.refunds.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def eager_tasks():
    from opsportal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_refund_aging_runs_as_xlsx_and_only_that_file_downloads(
    client, make_user, setup, request_case, django_capture_on_commit_callbacks, eager_tasks
):
    request_case(OrderFactory(), "10.00")
    approver = make_user("approver")
    client.force_login(approver)

    run_in_center(client, "refund_aging", django_capture_on_commit_callbacks, as_of="2026-11-30", format="xlsx")

    run = ReportRun.objects.get()
    assert (run.kind, run.format, run.created_by, run.status) == ("aging", "xlsx", approver, "done")
    assert reports.get("refund_aging").summary(run).formats == ("xlsx",)
    assert list(reports.get("chargeback_recovery").runs()) == []  # each kind lists its own runs

    client.force_login(make_user("auditor"))
    assert (
        client.get(reverse("admin:reports_center_download", args=["refund_aging", run.pk, "xlsx"])).status_code == 200
    )
    assert client.get(reverse("admin:reports_center_download", args=["refund_aging", run.pk, "csv"])).status_code == 404


def test_the_recovery_form_has_no_case_type():
    form = reports.get("chargeback_recovery").form_class()
    assert "case_type" not in form.fields and "case_type" in reports.get("refund_aging").form_class().fields
