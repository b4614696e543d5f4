import socket

from celery import shared_task

from apps.core.services.reminders import reminders_send_digests


@shared_task
def ping(token: str) -> dict:
    """Proves a worker is consuming: answers with the token it was sent and where it ran."""
    return {"pong": token, "worker": socket.gethostname()}


@shared_task
def send_reminder_digests(day: str | None = None) -> dict:
    """Daily: every person's reminder digest. Safe to run twice or in parallel."""
    from datetime import date

    return reminders_send_digests(today=date.fromisoformat(day) if day else None)


@shared_task
def run_import_job(job_id: int) -> str | None:
    """Validate and (unless a dry run) write one import job's rows, all or nothing."""
    from apps.core.services.imports import import_job_run

    job = import_job_run(job_id=job_id)
    return job.status if job else None


@shared_task
def generate_report_run(run_id: int) -> str:
    """Write the CSV and XLSX files of one report run of the reports center. Safe to run twice."""
    from apps.core.reports import report_run_generate

    return report_run_generate(run_id=run_id).status


@shared_task
def run_scheduled_report(kind: str, parameters: dict | None = None) -> int:
    """A beat schedule's run of one of the portal's own reports (kwargs: ``kind``, optional ``parameters``)."""
    from apps.core.reports import report_run_schedule

    return report_run_schedule(kind=kind, parameters=parameters).pk


@shared_task
def run_export_job(job_id: int) -> str | None:
    """Write one export job's file (a large export or an evidence pack) and tell the person it is ready."""
    from apps.core.services.exports import export_job_run

    job = export_job_run(job_id=job_id)
    return job.status if job else None


@shared_task
def expire_export_files() -> int:
    """Daily: delete the files of export jobs older than EXPORT_FILE_RETENTION_DAYS and mark them expired."""
    from apps.core.services.exports import export_files_expire

    return export_files_expire()


@shared_task
def refresh_dashboard(day: str | None = None) -> int:
    """Recompute the dashboard's KPI panels for every period into the cache. Safe to run twice."""
    from datetime import date

    from apps.core.dashboard import refresh

    return refresh(today=date.fromisoformat(day) if day else None)
