"""The broker is down while people save: data stays saved, the page says so, nothing is lost."""

from datetime import date

import pytest

from apps.core import enqueue
from apps.core.models import AuditEvent
from apps.core.tasks import ping
from apps.invoices.models import AgingReportRun
from apps.invoices.reports import aging_run_schedule
from opsportal.celery import app

# A real Redis URL on a port nothing listens on: every connection is refused.
UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"


def _use_broker(url: str | None) -> None:
    """Send to ``url`` (None: back to the configured broker)."""
    app.conf.broker_write_url = url
    app._pool = None  # connections and producers are pooled per broker: start afresh
    app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    _use_broker(UNREACHABLE_BROKER)
    try:
        yield
    finally:
        _use_broker(None)


def test_health_check_reports_the_broker_error(broker_down, client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "broker": "error"}


def test_a_send_after_commit_is_recorded_instead_of_raising(broker_down, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = aging_run_schedule(as_of=date(2026, 3, 31))

    assert AgingReportRun.objects.filter(pk=run.pk, scheduled=True).exists()
    failed = AuditEvent.objects.get(action=enqueue.ENQUEUE_FAILED)
    assert failed.outcome == "failed"
    assert failed.data == {"task": "apps.invoices.tasks.generate_aging_report", "args": [run.pk], "kwargs": {}}
    assert "OperationalError" in failed.message  # the broker's refusal, for whoever reads the trail


@pytest.mark.django_db(transaction=True)
def test_a_person_saving_in_the_admin_keeps_the_record_and_is_told(broker_down, client, make_user):
    client.force_login(make_user("approver"))

    response = client.post(
        "/admin/invoices/agingreportrun/add/", {"as_of": "2026-04-30", "vendor": "", "currency": ""}, follow=True
    )

    assert response.status_code == 200
    run = AgingReportRun.objects.get(as_of=date(2026, 4, 30))
    assert enqueue.QUEUE_DOWN_MESSAGE in response.content.decode()
    failed = AuditEvent.objects.get(action=enqueue.ENQUEUE_FAILED)
    assert failed.data["args"] == [run.pk]
    assert failed.actor is not None and failed.path == "admin"


def test_refused_tasks_are_sent_again_once_the_broker_is_back(db, django_capture_on_commit_callbacks):
    _use_broker(UNREACHABLE_BROKER)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ping.delay_on_commit("after-the-outage")
        assert list(enqueue.unsent_tasks().values_list("data__task", flat=True)) == ["apps.core.tasks.ping"]
        assert enqueue.resend_unsent_tasks() == {"resent": 0, "unknown": 0}  # still down: waits
    finally:
        _use_broker(None)

    assert enqueue.resend_unsent_tasks() == {"resent": 1, "unknown": 0}

    resent = AuditEvent.objects.get(action=enqueue.ENQUEUE_RESENT)
    assert resent.data["failed_event"] == AuditEvent.objects.get(action=enqueue.ENQUEUE_FAILED).pk
    assert not enqueue.unsent_tasks().exists()
    assert enqueue.resend_unsent_tasks() == {"resent": 0, "unknown": 0}  # sent once, never twice


def test_the_resend_sweep_is_a_default_schedule():
    from apps.core import schedules

    assert "apps.core.enqueue.resend_unsent_tasks_task" in {schedule.task for schedule in schedules.defaults()}
    assert "apps.core.enqueue.resend_unsent_tasks_task" in app.tasks
