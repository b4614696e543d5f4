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
