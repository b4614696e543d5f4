"""
Reminder sources of the SOP app, gathered into each person's daily digest.

* ``sops.review_due`` — the owner of an SOP whose periodic review is due within
  ``SOP_REVIEW_DUE_DAYS`` days (14 unless set) or overdue;
* ``sops.unacknowledged`` — each audience member who has not acknowledged a version published
  more than ``SOP_ACKNOWLEDGE_WITHIN_DAYS`` days ago (7 unless set);
* ``sops.review_waiting`` — the assigned reviewer (or every reviewer but the author) of a version
  in review for more than ``SOP_REVIEW_WAITING_DAYS`` days (3 unless set).
"""

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from apps.core.reminders import Reminder
from apps.sops import selectors
from apps.sops.models import SOPVersion


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.max))


class ReviewDue:
    key = "sops.review_due"
    label = "SOP reviews due"

    def collect(self, *, today: date) -> Iterator[Reminder]:
        within = selectors.reminder_days("SOP_REVIEW_DUE_DAYS", 14)
        for document in selectors.sop_reviews_due(today=today, within_days=within):
            when = document.next_review_date
            status = f"overdue since {when:%d %b %Y}" if when < today else f"due on {when:%d %b %Y}"
            yield Reminder(
                recipient_id=document.owner_id,
                object_key=f"sops.sopdocument:{document.pk}",
                title=f"Review of SOP {document.code} {document.title} is {status}",
                url=document.get_absolute_url(),
            )


class Unacknowledged:
    key = "sops.unacknowledged"
    label = "SOPs to read and acknowledge"

    def collect(self, *, today: date) -> Iterator[Reminder]:
        days = selectors.reminder_days("SOP_ACKNOWLEDGE_WITHIN_DAYS", 7)
        missing = selectors.sop_unacknowledged(published_before=_end_of(today - timedelta(days=days)))
        versions = SOPVersion.objects.select_related("document").in_bulk(list(missing))
        for version_id, user_ids in missing.items():
            version = versions[version_id]
            for user_id in user_ids:
                yield Reminder(
                    recipient_id=user_id,
                    object_key=f"sops.sopversion:{version_id}",
                    title=f"Please read and acknowledge SOP {version} {version.document.title}",
                    url=version.get_absolute_url(),
                )


class ReviewWaiting:
    key = "sops.review_waiting"
    label = "SOP versions waiting for review"

    def collect(self, *, today: date) -> Iterator[Reminder]:
        days = selectors.reminder_days("SOP_REVIEW_WAITING_DAYS", 3)
        waiting = list(selectors.sop_reviews_waiting(since=_end_of(today - timedelta(days=days))))
        publishers = None
        for version in waiting:
            if version.reviewer_id:
                recipients = [version.reviewer_id]
            else:
                if publishers is None:
                    publishers = list(selectors.sop_publishers().values_list("pk", flat=True))
                recipients = [pk for pk in publishers if pk != version.author_id]
            for recipient_id in recipients:
                yield Reminder(
                    recipient_id=recipient_id,
                    object_key=f"sops.sopversion:{version.pk}",
                    title=f"SOP {version} {version.document.title} has waited for review since "
                    f"{timezone.localtime(version.submitted_at):%d %b %Y}",
                    url=version.get_absolute_url(),
                )


SOURCES = [ReviewDue(), Unacknowledged(), ReviewWaiting()]
