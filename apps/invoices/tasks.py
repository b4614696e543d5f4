"""Thin Celery tasks: take ids, call a service. Safe to run twice."""

from datetime import date

from celery import shared_task
from django.utils import timezone


@shared_task
def generate_aging_report(run_id: int) -> str:
    """Write the CSV and XLSX files of one AP aging report run."""
    from apps.invoices.reports import aging_run_generate

    return aging_run_generate(run_id=run_id).status


@shared_task
def run_scheduled_aging_report(day: str | None = None) -> int | None:
    """The scheduled AP aging report as of today (or ``day``), once per day."""
    from apps.invoices.reports import aging_run_schedule

    run = aging_run_schedule(as_of=date.fromisoformat(day) if day else timezone.localdate())
    return run.pk if run else None
