"""Thin Celery tasks: take ids, call a service. Safe to run twice."""

from celery import shared_task


@shared_task
def generate_report_run(run_id: int) -> int:
    """Write the file of one refunds report run."""
    from apps.refunds.services.reports import report_run_generate

    return report_run_generate(run_id=run_id).row_count


@shared_task
def schedule_monthly_reports(day: str | None = None) -> int:
    """Monthly: aging and chargeback recovery as of the last day of the previous month."""
    from datetime import date

    from apps.refunds.services.reports import report_runs_schedule_monthly

    return len(report_runs_schedule_monthly(today=date.fromisoformat(day) if day else None))
