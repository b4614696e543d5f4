from django.utils import timezone

from apps.core.models import Notification


def notifications_mark_read(*, user, notification_ids) -> int:
    """Mark the given notifications of ``user`` as read; others' notifications are untouched."""
    return Notification.objects.filter(recipient=user, pk__in=list(notification_ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )
