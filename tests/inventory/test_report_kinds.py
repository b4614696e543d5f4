"""Inventory reports in the reports center, on the inventory app's own report runs."""

import pytest
from django.urls import reverse

from apps.core import reports
from apps.inventory.models import InventoryReportRun
from tests.core.test_reports_center import run_in_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def eager_tasks():
    from opsportal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_a_controller_runs_count_accuracy_and_an_auditor_downloads_it(
    client, people, django_capture_on_commit_callbacks, eager_tasks
):
    client.force_login(people["controller"])

    run_in_center(
        client,
        "count_accuracy",
        django_capture_on_commit_callbacks,
        date_from="2026-01-01",
        date_to="2026-11-30",
        file_format="csv",
    )

    run = InventoryReportRun.objects.get()
    assert (run.kind, run.created_by, run.status) == ("count_accuracy", people["controller"], "done")
    assert reports.get("count_accuracy").summary(run).status == "succeeded"
    assert list(reports.get("shrinkage").runs()) == []
    client.force_login(people["auditor"])
    download = client.get(reverse("admin:reports_center_download", args=["count_accuracy", run.pk, "csv"]))
    assert download.status_code == 200 and b"accuracy %" in download.content


def test_a_period_that_ends_before_it_starts_is_refused_on_the_form(client, people, django_capture_on_commit_callbacks):
    client.force_login(people["approver"])
    answer = run_in_center(
        client,
        "shrinkage",
        django_capture_on_commit_callbacks,
        date_from="2026-11-30",
        date_to="2026-01-01",
        file_format="csv",
    )
    assert "The period ends before it starts." in answer.content.decode()
    assert not InventoryReportRun.objects.exists()


def test_associates_who_count_do_not_see_inventory_reports(people):
    assert not {"count_accuracy", "shrinkage"} & {kind.key for kind in reports.kinds_for(people["counter"])}
