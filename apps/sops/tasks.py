"""Thin tasks: take ids, call a service. Safe to run twice."""

from celery import shared_task

from apps.sops import services


@shared_task
def notify_audience(version_id: int) -> int:
    """A version was published: ask its audience to read and acknowledge it."""
    return services.sop_version_notify_audience(version_id=version_id)


@shared_task
def notify_review_requested(version_id: int) -> int:
    """A version was submitted: tell whoever is to review it."""
    return services.sop_version_notify_reviewers(version_id=version_id)
