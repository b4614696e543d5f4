"""
A worker killed (SIGKILL) in the middle of a task: the task is redelivered and completes once.

Each test starts a real worker process on the configured Redis broker and PostgreSQL test database,
holds it in the middle of its work at a known point (a row the task is about to write is locked by
another connection), kills the whole worker process, releases the row and starts a second worker.
The broker hands the unacknowledged task to the second worker (late acknowledgement; a short
``CELERY_VISIBILITY_TIMEOUT`` in the workers started here) and the task's own idempotency does the
rest: no duplicate rows, every person e-mailed once.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction

from apps.core import tasks as core_tasks
from apps.core.models import AuditEvent, ImportJob, ReminderDigest, ReminderItem
from apps.vendors.models import ReviewActionItem, Vendor
from opsportal.celery import app
from tests.vendors.factories import VendorFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

VISIBILITY_TIMEOUT_SECONDS = 2
IMPORT_ROWS = 3000 if os.environ.get("FUZZ_FULL") else 600
DIGEST_PEOPLE = 60 if os.environ.get("FUZZ_FULL") else 12


@pytest.fixture(autouse=True)
def _needs_redis():
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        message = "needs Redis as the broker: set CELERY_BROKER_URL=redis://..."
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every test; {message}")
        pytest.skip(message)


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture(autouse=True)
def _empty_queue():
    """Nothing of an earlier, interrupted run is left waiting in this run's queue, delivered or not."""
    import json

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)
        client = conn.default_channel.client
        for tag, payload in client.hgetall("unacked").items():
            if json.loads(payload)[2] == queue:
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)


@pytest.fixture
def worker_env(tmp_path, settings):
    """What a worker process needs to share this test's database, files and queue; e-mail goes to files."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    env = {
        **os.environ,
        "DJANGO_ENV": "development",
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT_SECONDS),
        "MEDIA_ROOT": settings.MEDIA_ROOT,
        "EMAIL_URL": f"filemail:///{mail_dir}",  # the URL's path is relative: one more slash for an absolute one
        "OPSPORTAL_VAR_DIR": str(tmp_path / "var"),
    }
    return {"env": env, "mail_dir": mail_dir, "log": tmp_path / "worker.log"}


@contextlib.contextmanager
def worker_process(worker_env):
    """A ``celery worker`` process (one process, the solo pool) consuming this run's queue."""
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with open(worker_env["log"], "ab") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "opsportal",
                "worker",
                "--pool=solo",
                "-Q",
                queue,
                "-l",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"fault-{uuid.uuid4().hex[:8]}@%h",
            ],
            env=worker_env["env"],
            cwd=settings.BASE_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def kill(process) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def wait_for(condition, what: str, worker_env, limit: float = 120.0):
    """Poll until ``condition()`` is true; fail naming ``what`` (and showing the worker's log) if it never is."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    log = Path(worker_env["log"]).read_text(errors="replace")[-3000:] if Path(worker_env["log"]).exists() else ""
    pytest.fail(f"never happened: {what}\n--- worker log ---\n{log}")


@contextlib.contextmanager
def held_in_an_open_transaction():
    """Whatever the block writes stays uncommitted until the block ends, then is rolled back.

    A row the task is about to write (the same unique key) makes the worker's INSERT wait on this
    transaction: the task is stopped at a known point, with everything before it done.
    """
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def worker_waits_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # activity is otherwise read once per transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


# --- Import job ------------------------------------------------------------------------------------


def test_an_import_job_killed_mid_write_is_redelivered_and_imports_every_row_once(worker_env, make_user):
    from apps.core.services.imports import import_job_create

    manager = make_user("vendor_manager")
    rows = "".join(f"K-{n:05d},Killed Worker {n} Ltd,goods\n" for n in range(IMPORT_ROWS))
    held_code = f"K-{IMPORT_ROWS * 3 // 4:05d}"  # three quarters through the file
    job = import_job_create(
        actor=manager,
        target="vendors.vendor",
        uploaded_file=SimpleUploadedFile("big.csv", f"code,legal_name,category\n{rows}".encode()),
        dry_run=False,
    )  # queued: no worker runs yet

    with held_in_an_open_transaction(), worker_process(worker_env) as first:
        VendorFactory(code=held_code)
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.RUNNING, "job running", worker_env)
        wait_for(worker_waits_on_a_lock, "the worker waiting on the held row", worker_env)
        kill(first)
    assert Vendor.objects.filter(code__startswith="K-").count() == 0  # the killed transaction wrote nothing

    with worker_process(worker_env):
        finished = wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, status__in=["succeeded", "failed"]).first(),
            "the redelivered job finishing",
            worker_env,
        )
    assert finished.status == ImportJob.Status.SUCCEEDED, finished.message
    assert Vendor.objects.filter(code__startswith="K-").count() == IMPORT_ROWS
    assert Vendor.objects.filter(code=held_code).count() == 1
    assert finished.summary["new"] == IMPORT_ROWS
    assert AuditEvent.objects.filter(action="import.completed", target_id=str(job.pk)).count() == 1


# --- Report run ------------------------------------------------------------------------------------


def test_an_aging_report_run_killed_mid_run_is_redelivered_and_written_once(worker_env, make_user):
    from apps.invoices.models import AgingReportRun
    from apps.invoices.reports import aging_run_request

    clerk = make_user("associate")
    _invoices(clerk, count=30)
    run = aging_run_request(actor=clerk, as_of=date(2026, 11, 23))  # queued: no worker runs yet
    # The worker claims the run (RUNNING, committed); its aging query then waits on the invoices table.
    with held_in_an_open_transaction(), worker_process(worker_env) as first:
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE invoices_invoice IN ACCESS EXCLUSIVE MODE")
        wait_for(
            lambda: AgingReportRun.objects.get(pk=run.pk).status == AgingReportRun.Status.RUNNING,
            "run claimed",
            worker_env,
        )
        wait_for(worker_waits_on_a_lock, "the worker waiting on the invoices table", worker_env)
        kill(first)
    assert AgingReportRun.objects.get(pk=run.pk).status == AgingReportRun.Status.RUNNING

    with worker_process(worker_env):
        done = wait_for(
            lambda: AgingReportRun.objects.filter(pk=run.pk, status__in=["done", "failed"]).first(),
            "the redelivered run finishing",
            worker_env,
        )
    assert done.status == AgingReportRun.Status.DONE, done.error
    assert done.row_count > 0
    assert AgingReportRun.objects.count() == 1
    files = sorted(p.name for p in Path(settings.MEDIA_ROOT).rglob(f"ap-aging-*-{run.pk}*"))
    assert len(files) == 2, files  # one CSV and one XLSX: the killed run wrote none


def _invoices(clerk, *, count: int):
    from decimal import Decimal

    from apps.invoices import services
    from tests.invoices.factories import PurchaseOrderLineFactory, ReceiptFactory

    for number in range(count):
        line = PurchaseOrderLineFactory()
        ReceiptFactory(po_line=line)
        invoice = services.invoice_create(
            actor=clerk,
            vendor_id=line.purchase_order.vendor_id,
            number=f"KILL-{number}",
            invoice_date=date(2026, 9, 1) + timedelta(days=number),
            purchase_order=line.purchase_order,
            tax=Decimal("0"),
            lines=[{"po_line": line, "description": "Brackets", "quantity": "100", "unit_price": "10.00"}],
        )
        services.invoice_submit(invoice_id=invoice.pk, actor=clerk)


# --- Reminder digest -------------------------------------------------------------------------------


def test_a_digest_run_killed_mid_way_is_redelivered_and_emails_each_person_once(worker_env, make_user):
    from tests.vendors.factories import ReviewFactory

    today = date(2026, 11, 23)
    review = ReviewFactory()
    people = [make_user("associate", email=f"owner{n}@example.com") for n in range(DIGEST_PEOPLE)]
    for person in people:
        ReviewActionItem.objects.create(
            review=review, description="Chase the credit note", owner=person, due_date=today - timedelta(days=3)
        )
    held = people[len(people) // 2]  # digests go out in id order: half are sent when the worker stops

    core_tasks.send_reminder_digests.delay(today.isoformat())  # queued: no worker runs yet
    with held_in_an_open_transaction(), worker_process(worker_env) as first:
        ReminderDigest.objects.create(recipient=held, day=today)
        wait_for(worker_waits_on_a_lock, "the worker waiting on the held digest", worker_env)
        sent_before_kill = ReminderDigest.objects.filter(day=today, sent_at__isnull=False).count()
        kill(first)
    assert 0 < sent_before_kill < len(people)

    with worker_process(worker_env):
        wait_for(
            lambda: ReminderDigest.objects.filter(day=today, sent_at__isnull=False).count() == len(people),
            "every digest sent",
            worker_env,
        )
        wait_for(lambda: _task_succeeded("apps.core.tasks.send_reminder_digests"), "the task finishing", worker_env)
    assert ReminderDigest.objects.filter(day=today).count() == len(people)
    assert ReminderItem.objects.filter(day=today).count() == len(people)
    recipients = _emailed_recipients(worker_env["mail_dir"])
    assert sorted(recipients) == sorted(person.email for person in people)  # each exactly once


def _task_succeeded(name: str) -> bool:
    from django_celery_results.models import TaskResult

    return TaskResult.objects.filter(task_name=name, status="SUCCESS").exists()


def _emailed_recipients(mail_dir: Path) -> list[str]:
    recipients = []
    for message_file in mail_dir.iterdir():
        for line in message_file.read_text(errors="replace").splitlines():
            if line.startswith("To: "):
                recipients.append(line[4:].strip())
    return recipients
