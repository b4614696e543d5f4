from datetime import date

import pytest
from django.core.exceptions import PermissionDenied

from apps.core import schedules
from apps.invoices import reports
from apps.invoices.models import AgingReportRun
from apps.invoices.tasks import generate_aging_report, run_scheduled_aging_report

pytestmark = pytest.mark.django_db


def test_the_scheduled_run_is_created_once_per_day_and_written(submitted, po_line, monkeypatch):
    monkeypatch.setattr(generate_aging_report, "delay", lambda *args: generate_aging_report.apply(args=args))
    submitted(po_line)

    first = run_scheduled_aging_report.apply(kwargs={"day": "2026-11-30"}).get()
    again = run_scheduled_aging_report.apply(kwargs={"day": "2026-11-30"}).get()

    assert again is None
    run = AgingReportRun.objects.get(pk=first)
    assert run.scheduled and run.status == AgingReportRun.Status.DONE
    assert run.csv_file.read().decode().count("1000.00") >= 2  # the vendor row and the total
    assert run.xlsx_file.size > 0


def test_generating_twice_keeps_the_finished_files(submitted, po_line, associate):
    submitted(po_line)
    run = reports.aging_run_request(actor=associate, as_of=date(2026, 11, 30))
    done = reports.aging_run_generate(run_id=run.pk)
    name = done.csv_file.name
    assert reports.aging_run_generate(run_id=run.pk).csv_file.name == name


def test_auditors_cannot_request_runs(make_user):
    with pytest.raises(PermissionDenied):
        reports.aging_run_request(actor=make_user("auditor"), as_of=date(2026, 11, 30))


def test_a_weekly_default_schedule_is_registered():
    [schedule] = [s for s in schedules.defaults() if s.task == "apps.invoices.tasks.run_scheduled_aging_report"]
    assert schedule.crontab["day_of_week"] == "1"
