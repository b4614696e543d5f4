"""Export files are kept EXPORT_FILE_RETENTION_DAYS days: a daily task deletes older ones and marks their
jobs expired, and downloading an expired job says so instead of failing."""

import datetime
import os

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from apps.core.models import AuditEvent, ExportJob
from apps.core.services.exports import export_files_expire
from apps.core.tasks import expire_export_files

NOW = timezone.make_aware(datetime.datetime(2026, 11, 20, 3, 0))


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.EXPORT_FILE_RETENTION_DAYS = 7


def finished_job(owner, *, days_ago, kind=ExportJob.Kind.RECORDS, status=ExportJob.Status.SUCCEEDED, now=NOW):
    job = ExportJob.objects.create(
        kind=kind,
        target="vendors.vendor" if kind == ExportJob.Kind.RECORDS else "invoices.invoice",
        file_format="csv" if kind == ExportJob.Kind.RECORDS else "zip",
        status=status,
        rows=1,
        sha256="0" * 64,
        finished_at=now - datetime.timedelta(days=days_ago),
        created_by=owner,
    )
    job.file.save(job.download_name, ContentFile(b"code\r\nV-1\r\n"))
    return job


def file_exists(name: str) -> bool:
    return os.path.exists(ExportJob._meta.get_field("file").storage.path(name))


def test_only_files_older_than_the_retention_are_deleted_and_their_jobs_marked_expired(
    make_user, django_capture_on_commit_callbacks
):
    owner = make_user("auditor")
    old = [finished_job(owner, days_ago=days) for days in (8, 30, 365)]
    pack = finished_job(owner, days_ago=10, kind=ExportJob.Kind.EVIDENCE_PACK)
    failed = finished_job(owner, days_ago=9, status=ExportJob.Status.FAILED)
    ExportJob.objects.filter(pk=failed.pk).update(message="Out of disk space.")
    recent = [finished_job(owner, days_ago=days) for days in (0, 6)]
    running = ExportJob.objects.create(target="vendors.vendor", file_format="csv", created_by=owner)
    old_names = [job.file.name for job in [*old, pack, failed]]

    with django_capture_on_commit_callbacks(execute=True):
        expired = export_files_expire(now=NOW, batch_size=2)

    assert expired == 5
    for job in [*old, pack]:
        job.refresh_from_db()
        assert (job.status, job.file.name, job.expired_at) == (ExportJob.Status.EXPIRED, "", NOW)
        assert "deleted" in job.message
    failed.refresh_from_db()
    assert (failed.status, failed.file.name, failed.expired_at) == (ExportJob.Status.FAILED, "", NOW)
    assert failed.message == "Out of disk space."  # why it failed stays
    assert not any(file_exists(name) for name in old_names)
    for job in recent:
        job.refresh_from_db()
        assert job.status == ExportJob.Status.SUCCEEDED and job.expired_at is None and file_exists(job.file.name)
    running.refresh_from_db()
    assert running.status == ExportJob.Status.QUEUED and running.expired_at is None
    events = AuditEvent.objects.filter(action="export.files_expired").order_by("id")
    assert [len(event.data["jobs"]) for event in events] == [2, 2, 1]  # one event per batch
    assert sorted(pk for event in events for pk in event.data["jobs"]) == sorted(job.pk for job in [*old, pack, failed])
    assert {event.data["retention_days"] for event in events} == {7}

    with django_capture_on_commit_callbacks(execute=True):
        assert export_files_expire(now=NOW) == 0  # a second run finds nothing left
    assert AuditEvent.objects.filter(action="export.files_expired").count() == 3


def test_the_retention_comes_from_the_setting(make_user, settings, django_capture_on_commit_callbacks):
    settings.EXPORT_FILE_RETENTION_DAYS = 30
    owner = make_user("auditor")
    kept, gone = finished_job(owner, days_ago=29), finished_job(owner, days_ago=31)

    with django_capture_on_commit_callbacks(execute=True):
        assert export_files_expire(now=NOW) == 1

    kept.refresh_from_db()
    gone.refresh_from_db()
    assert (kept.status, gone.status) == (ExportJob.Status.SUCCEEDED, ExportJob.Status.EXPIRED)


@pytest.fixture
def expired_job(make_user, django_capture_on_commit_callbacks):
    owner = make_user("auditor")
    job = finished_job(owner, days_ago=8)
    with django_capture_on_commit_callbacks(execute=True):
        export_files_expire(now=NOW)
    job.refresh_from_db()
    return job


def test_downloading_an_expired_job_in_the_admin_says_so_and_goes_back_to_the_job(client, expired_job):
    client.force_login(expired_job.created_by)

    response = client.get(f"/admin/core/exportjob/{expired_job.pk}/download/", follow=True)

    assert response.redirect_chain == [(f"/admin/core/exportjob/{expired_job.pk}/change/", 302)]
    shown = [str(message) for message in response.context["messages"]]
    assert len(shown) == 1 and "expired" in shown[0] and "2026-11-20" in shown[0]
    listing = client.get("/admin/core/exportjob/")
    assert b"expired 2026-11-20" in listing.content and b"/download/" not in listing.content
    assert not AuditEvent.objects.filter(action="export.downloaded").exists()


def test_downloading_an_expired_job_through_the_api_is_410_gone(api_as, expired_job):
    client = api_as(user=expired_job.created_by)

    detail = client.get(f"/api/v1/export-jobs/{expired_job.pk}/").json()
    response = client.get(f"/api/v1/export-jobs/{expired_job.pk}/download/")

    assert (detail["status"], detail["download_url"]) == ("expired", None)
    assert "deleted" in detail["message"]
    assert response.status_code == 410
    assert "expired" in response.json()["detail"]


def test_an_expired_job_is_still_only_its_owners(api_as, make_user, expired_job):
    other = api_as("auditor")
    assert other.get(f"/api/v1/export-jobs/{expired_job.pk}/download/").status_code == 404


def test_the_daily_expiry_schedule_exists(db):
    task = PeriodicTask.objects.get(name="Daily export file expiry")
    assert task.task == "apps.core.tasks.expire_export_files"
    assert task.enabled and task.crontab.minute == "30" and task.crontab.hour == "2"
    assert task.crontab.day_of_week == task.crontab.day_of_month == "*"


# --- Through a real worker ----------------------------------------------------------------------------


@pytest.fixture
def worker(transactional_db):
    from celery.contrib.testing.worker import start_worker

    from opsportal.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"):
        yield


@pytest.mark.worker
def test_the_worker_runs_the_expiry_task(worker, make_user, settings):
    settings.EXPORT_FILE_RETENTION_DAYS = 1
    owner = make_user("auditor")
    old = finished_job(owner, days_ago=2, now=timezone.now())
    old_name = old.file.name
    recent = finished_job(owner, days_ago=0, now=timezone.now())

    assert expire_export_files.delay().get(timeout=30) == 1

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.status == ExportJob.Status.EXPIRED and not file_exists(old_name)
    assert recent.status == ExportJob.Status.SUCCEEDED and file_exists(recent.file.name)
