"""
Sending tasks to the broker once a transaction has committed, without losing them when it is down.

Every task of the portal is a :class:`ReliableEnqueueTask` (``opsportal/celery.py``), so the
services' ``task.delay_on_commit(...)`` goes through :func:`send`: when the broker refuses (Redis
down), the data the person saved stays saved and the request is answered; the failure is logged
and recorded as an audit event ``task.enqueue_failed`` holding the task's name and arguments.
That event is the durable copy: :func:`resend_unsent_tasks`, run by beat every few minutes, sends
each such task again once the broker answers and records ``task.enqueue_resent``. Tasks are safe to
run twice, so a task sent again after a partial failure does no harm.

During a request, failures are collected so that the admin can tell the person:
:class:`apps.core.middleware.EnqueueFailureMessageMiddleware` shows :data:`QUEUE_DOWN_MESSAGE`.
"""

from __future__ import annotations

import functools
import logging
from contextvars import ContextVar
from datetime import timedelta

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

ENQUEUE_FAILED = "task.enqueue_failed"
ENQUEUE_RESENT = "task.enqueue_resent"
RESEND_WITHIN = timedelta(days=7)  # older unsent tasks are left to an administrator (they stay on the trail)
QUEUE_DOWN_MESSAGE = "Saved. Background work could not be queued just now; it will run when the queue is back."

# Errors that mean "the broker did not take the message": connection refused, timed out, reset.
BROKER_ERRORS = (OperationalError, ConnectionError, OSError)

# Task names that could not be sent during the current request (None outside a request).
_failed_in_request: ContextVar[list[str] | None] = ContextVar("opsportal_enqueue_failures", default=None)


class ReliableEnqueueTask(DjangoTask):
    """The portal's task class: sending after commit never turns a saved record into an error page."""

    def delay_on_commit(self, *args, **kwargs) -> None:
        enqueue_on_commit(self, *args, **kwargs)

    def apply_async_on_commit(self, args=None, kwargs=None, **options) -> None:
        transaction.on_commit(functools.partial(send, self, args=args, kwargs=kwargs, options=options))


def enqueue_on_commit(task, *args, **kwargs) -> None:
    """Send ``task(*args, **kwargs)`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(functools.partial(send, task, args=args, kwargs=kwargs))


def send(task, *, args=None, kwargs=None, options=None):
    """Send a task now. When the broker refuses, record the task for a later resend and return None."""
    args, kwargs = list(args or ()), dict(kwargs or {})
    try:
        return task.apply_async(args, kwargs, **options) if options else task.delay(*args, **kwargs)
    except BROKER_ERRORS as exc:
        logger.exception("could not send task %s: broker unavailable", task.name)
        _record_failure(task.name, args, kwargs, exc)
        return None


def _record_failure(task_name: str, args: list, kwargs: dict, exc: Exception) -> None:
    from apps.core import audit

    audit.record(
        action=ENQUEUE_FAILED,
        outcome="failed",
        message=f"{type(exc).__name__}: {exc}"[:1000],
        data={"task": task_name, "args": args, "kwargs": kwargs},
    )
    failures = _failed_in_request.get()
    if failures is not None:
        failures.append(task_name)


def collect_failures():
    """Start collecting the tasks that fail to send in this request; returns (list, reset token)."""
    failures: list[str] = []
    return failures, _failed_in_request.set(failures)


def stop_collecting(token) -> None:
    _failed_in_request.reset(token)


def unsent_tasks():
    """Failed sends of the last :data:`RESEND_WITHIN` that were not sent again since, oldest first."""
    from django.utils import timezone

    from apps.core.models import AuditEvent

    resent_ids = AuditEvent.objects.filter(action=ENQUEUE_RESENT).values_list("data__failed_event", flat=True)
    return (
        AuditEvent.objects.filter(action=ENQUEUE_FAILED, timestamp__gte=timezone.now() - RESEND_WITHIN)
        .exclude(pk__in=[int(pk) for pk in resent_ids if pk is not None])
        .order_by("timestamp", "id")
    )


def resend_unsent_tasks() -> dict:
    """Send again every task the broker refused; stop at the first refusal (it is still down)."""
    from apps.core import audit
    from opsportal.celery import app

    resent = unknown = 0
    for event in unsent_tasks():
        name = event.data.get("task", "")
        task = app.tasks.get(name)
        if task is None:
            unknown += 1
            continue
        try:
            task.apply_async(event.data.get("args") or [], event.data.get("kwargs") or {})
        except BROKER_ERRORS:
            logger.warning(
                "broker still unavailable: %s unsent task(s) wait for the next sweep", unsent_tasks().count()
            )
            break
        audit.record(action=ENQUEUE_RESENT, data={"failed_event": event.pk, "task": name})
        resent += 1
    return {"resent": resent, "unknown": unknown}


@shared_task
def resend_unsent_tasks_task() -> dict:
    """Every few minutes: send again the tasks the broker refused while it was down."""
    return resend_unsent_tasks()
