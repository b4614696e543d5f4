"""A real Celery worker, consuming from the configured broker (Redis in CI), runs the tasks."""

import uuid

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail

from apps.core import reminders, tasks
from apps.core.models import ReminderDigest
from opsportal.celery import app


@pytest.fixture(scope="module")
def celery_worker_thread(django_db_setup, django_db_blocker):
    """One worker for the module, consuming this test run's own queue (see settings)."""
    with (
        django_db_blocker.unblock(),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"),
    ):
        yield


@pytest.fixture
def worker(celery_worker_thread, transactional_db):
    return celery_worker_thread


@pytest.mark.worker
def test_a_task_sent_through_the_broker_is_run_by_the_worker(worker):
    token = uuid.uuid4().hex
    result = tasks.ping.delay(token)
    assert result.get(timeout=30) == {"pong": token, "worker": result.get()["worker"]}
    assert result.get()["pong"] == token
    assert result.state == "SUCCESS"


class _OneReminder:
    key = "tests.worker"
    label = "worker test"

    def __init__(self, user):
        self.user = user

    def collect(self, *, today):
        return [reminders.Reminder(recipient_id=self.user.pk, object_key="x:1", title="Due")]


@pytest.mark.worker
def test_the_digest_task_in_the_worker_sends_once(worker, make_user):
    alice = make_user("associate")
    reminders.register(_OneReminder(alice))
    try:
        first = tasks.send_reminder_digests.delay("2026-11-23").get(timeout=30)
        second = tasks.send_reminder_digests.delay("2026-11-23").get(timeout=30)
    finally:
        reminders.unregister("tests.worker")
    assert first["sent"] == 1 and second["sent"] == 0
    assert len(mail.outbox) == 1
    assert ReminderDigest.objects.get(recipient=alice).sent_at is not None


@pytest.mark.worker
def test_an_import_job_is_run_by_the_worker_after_the_upload_commits(worker, make_user):
    import time

    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.core.models import ImportJob
    from apps.core.services.imports import import_job_create
    from apps.vendors.models import Vendor

    manager = make_user("vendor_manager")
    job = import_job_create(
        actor=manager,
        target="vendors.vendor",
        uploaded_file=SimpleUploadedFile("v.csv", b"code,legal_name,category\nW-1,Worker Ltd,goods\n"),
        dry_run=False,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
            break
        time.sleep(0.2)
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert Vendor.objects.filter(code="W-1", created_by=manager).exists()
