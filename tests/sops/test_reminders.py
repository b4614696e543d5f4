"""SOP reminders: reviews due and overdue, unacknowledged versions, versions waiting for review; once a day."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core import reminders as registry
from apps.core.models import Notification, ReminderItem
from apps.core.services.reminders import reminders_send_digests
from apps.sops import services
from apps.sops.models import SOPDocument, SOPVersion
from apps.sops.reminders import ReviewDue, ReviewWaiting, Unacknowledged


def test_the_sources_are_registered():
    keys = {source.key for source in registry.sources()}
    assert {"sops.review_due", "sops.unacknowledged", "sops.review_waiting"} <= keys


# --- Reviews due --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "offset,expected",
    [(-30, "overdue since"), (-1, "overdue since"), (0, "due on"), (14, "due on"), (15, None)],
)
def test_review_due_within_the_window_and_overdue(document, publish, author, settings, offset, expected):
    settings.SOP_REVIEW_DUE_DAYS = 14
    publish(document)
    today = timezone.localdate()
    SOPDocument.objects.filter(pk=document.pk).update(next_review_date=today + timedelta(days=offset))

    found = list(ReviewDue().collect(today=today))

    if expected is None:
        assert found == []
    else:
        [reminder] = found
        assert reminder.recipient_id == author.pk
        assert expected in reminder.title and "AP-001" in reminder.title
        assert reminder.url == f"/admin/sops/sopdocument/{document.pk}/change/"


def test_no_review_reminder_for_an_sop_without_a_published_version(document, draft):
    SOPDocument.objects.filter(pk=document.pk).update(next_review_date=timezone.localdate())
    assert list(ReviewDue().collect(today=timezone.localdate())) == []


# --- Unacknowledged -----------------------------------------------------------------------------


@pytest.mark.parametrize("days_out,reminded", [(6, False), (7, True), (30, True)])
def test_unacknowledged_after_the_grace_period(document, publish, associate, settings, days_out, reminded):
    settings.SOP_ACKNOWLEDGE_WITHIN_DAYS = 7
    version = publish(document)
    today = timezone.localdate()
    SOPVersion.objects.filter(pk=version.pk).update(published_at=timezone.now() - timedelta(days=days_out))

    found = list(Unacknowledged().collect(today=today))

    assert [r.recipient_id for r in found] == ([associate.pk] if reminded else [])
    if reminded:
        assert found[0].url == f"/admin/sops/sopversion/{version.pk}/read/"
        assert "acknowledge SOP AP-001 v1" in found[0].title


def test_acknowledging_stops_the_reminder_and_a_new_version_starts_it_again(document, publish, associate):
    first = publish(document)
    services.sop_version_acknowledge(version_id=first.pk, actor=associate)
    later = timezone.localdate() + timedelta(days=30)
    assert list(Unacknowledged().collect(today=later)) == []

    second = publish(document, body="# v2")
    [reminder] = list(Unacknowledged().collect(today=timezone.localdate() + timedelta(days=30)))
    assert reminder.recipient_id == associate.pk and reminder.object_key == f"sops.sopversion:{second.pk}"


def test_people_outside_the_audience_and_inactive_people_are_not_reminded(document, publish, make_user):
    make_user("approver")
    make_user("associate", is_active=False)
    publish(document)
    assert list(Unacknowledged().collect(today=timezone.localdate() + timedelta(days=30))) == []


# --- Waiting for review -------------------------------------------------------------------------


def test_a_version_waiting_for_review_reminds_the_assigned_reviewer(draft, author, reviewer, settings):
    settings.SOP_REVIEW_WAITING_DAYS = 3
    services.sop_version_submit_review(version_id=draft.pk, actor=author, reviewer=reviewer)
    today = timezone.localdate()
    assert list(ReviewWaiting().collect(today=today + timedelta(days=2))) == []
    [reminder] = list(ReviewWaiting().collect(today=today + timedelta(days=3)))
    assert reminder.recipient_id == reviewer.pk and "waited for review" in reminder.title


def test_without_an_assigned_reviewer_every_reviewer_but_the_author_is_reminded(in_review, author, reviewer, make_user):
    boss = make_user(None, is_superuser=True)
    make_user("associate")
    found = list(ReviewWaiting().collect(today=timezone.localdate() + timedelta(days=10)))
    assert sorted(r.recipient_id for r in found) == sorted([reviewer.pk, boss.pk])
    assert author.pk not in {r.recipient_id for r in found}


def test_a_published_version_no_longer_waits(in_review, reviewer):
    services.sop_version_publish(version_id=in_review.pk, actor=reviewer)
    assert list(ReviewWaiting().collect(today=timezone.localdate() + timedelta(days=10))) == []


# --- Through the daily digest -------------------------------------------------------------------


def test_each_reminder_reaches_the_digest_once_per_day(document, publish, associate, author):
    version = publish(document)
    SOPVersion.objects.filter(pk=version.pk).update(published_at=timezone.now() - timedelta(days=10))
    SOPDocument.objects.filter(pk=document.pk).update(next_review_date=timezone.localdate() - timedelta(days=1))
    today = timezone.localdate()

    reminders_send_digests(today=today)
    reminders_send_digests(today=today)

    items = ReminderItem.objects.filter(source__startswith="sops.")
    assert sorted(items.values_list("recipient_id", "source")) == sorted(
        [(associate.pk, "sops.unacknowledged"), (author.pk, "sops.review_due")]
    )
    assert Notification.objects.filter(recipient=associate, reminder__isnull=False).count() == 1

    reminders_send_digests(today=today + timedelta(days=1))
    assert items.filter(recipient=associate).count() == 2  # again the next day while still unread
