"""The daily reminder digest: one per person per day, nothing sent twice."""

import logging
from collections import defaultdict
from datetime import date

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apps.core import reminders
from apps.core.models import Notification, ReminderDigest, ReminderItem

logger = logging.getLogger(__name__)


def _safe_url(url: str) -> str:
    """Only paths inside the portal: nothing that a browser would run or send elsewhere."""
    return url if url.startswith("/") and not url.startswith("//") else ""


def gather_reminders(*, today: date) -> dict[int, list[tuple[str, reminders.Reminder]]]:
    due: dict[int, list[tuple[str, reminders.Reminder]]] = defaultdict(list)
    for source in reminders.sources():
        for reminder in source.collect(today=today):
            due[reminder.recipient_id].append((source.key, reminder))
    return due


def reminders_send_digests(*, today: date | None = None) -> dict[str, int]:
    """Send each person their digest for ``today``: e-mail plus in-app notifications.

    The digest row (unique per person and day) is locked while it is filled and sent, so two
    overlapping runs never send the same digest twice; a digest already sent is left alone.
    Items are unique per (person, source, object, day). Returns counts for the run.
    """
    today = today or timezone.localdate()
    due = gather_reminders(today=today)
    users = get_user_model().objects.filter(pk__in=due.keys(), is_active=True).in_bulk()
    sent = skipped = 0
    for recipient_id, entries in sorted(due.items()):
        user = users.get(recipient_id)
        if user is None:
            continue
        if _send_digest(user=user, today=today, entries=entries):
            sent += 1
        else:
            skipped += 1
    return {"recipients": len(due), "sent": sent, "skipped": skipped}


@transaction.atomic
def _send_digest(*, user, today: date, entries) -> bool:
    ReminderDigest.objects.get_or_create(recipient=user, day=today)
    digest = (
        ReminderDigest.objects.select_for_update(skip_locked=True)
        .filter(recipient=user, day=today, sent_at__isnull=True)
        .first()
    )
    if digest is None:
        return False  # already sent today, or another run is sending it right now
    ReminderItem.objects.bulk_create(
        [
            ReminderItem(
                digest=digest,
                recipient=user,
                source=source_key,
                object_key=reminder.object_key[:128],
                day=today,
                title=reminder.title[:255],
                url=_safe_url(reminder.url)[:500],
            )
            for source_key, reminder in entries
        ],
        ignore_conflicts=True,
    )
    items = list(digest.items.filter(notification__isnull=True).order_by("source", "id"))
    if not items:
        digest.sent_at = timezone.now()
        digest.save(update_fields=["sent_at"])
        return False
    Notification.objects.bulk_create(
        [Notification(recipient=user, title=item.title, url=item.url, reminder=item) for item in items]
    )
    if user.email:
        context = {"user": user, "day": today, "items": items, "base_url": settings.PORTAL_BASE_URL}
        send_mail(
            subject=f"Ops Portal: {len(items)} item(s) need your attention on {today:%d %b %Y}",
            message=render_to_string("core/email/reminder_digest.txt", context),
            from_email=None,
            recipient_list=[user.email],
        )
    digest.sent_at = timezone.now()
    digest.save(update_fields=["sent_at"])
    logger.info("reminder digest sent to %s with %d item(s)", user.get_username(), len(items))
    return True
