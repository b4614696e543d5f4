"""The Celery application: configured from Django settings (``CELERY_*``), tasks found in every app."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opsportal.settings")

# Every task sends after commit without turning a down broker into an error page (apps/core/enqueue.py).
app = Celery("opsportal", task_cls="apps.core.enqueue:ReliableEnqueueTask")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _register_default_schedules():
    from apps.core import schedules

    schedules.register(
        schedules.DefaultSchedule(
            name="Resend tasks the broker refused",
            task="apps.core.enqueue.resend_unsent_tasks_task",
            crontab={"minute": "*/5"},
            description="Sends again the background work that could not be queued while the broker was down.",
        )
    )


_register_default_schedules()


@signals.task_prerun.connect
def _enter_task_audit_context(task_id=None, task=None, **kwargs):
    """Changes made by a task are recorded as made through the worker."""
    from apps.core.audit import enter_context

    task.request.audit_token = enter_context(path="task", detail=task.name)


@signals.task_postrun.connect
def _leave_task_audit_context(task_id=None, task=None, **kwargs):
    from apps.core.audit import leave_context

    token = getattr(task.request, "audit_token", None)
    if token is not None:
        leave_context(token)
