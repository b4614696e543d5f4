"""Reads shared by the admin, the API and the tasks."""

from apps.core.models import Notification


def unread_notification_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
