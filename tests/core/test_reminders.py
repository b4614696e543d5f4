"""The reminders engine: one digest per person per day, nothing sent twice, even when runs overlap."""

import threading
from dataclasses import dataclass, field
from datetime import date

import pytest
from django.core import mail
from django.db import connection

from apps.core import reminders
from apps.core.models import Notification, ReminderDigest, ReminderItem
from apps.core.services.reminders import reminders_send_digests
from apps.core.tasks import send_reminder_digests

TODAY = date(2026, 11, 23)


@dataclass
class ListSource:
    """A reminder source over a list the test controls, registered like a domain app's."""

    key: str = "tests.due"
    label: str = "Test items due"
    due: list = field(default_factory=list)

    def collect(self, *, today):
        return [r for r in self.due if r is not None]


@pytest.fixture
def source():
    src = reminders.register(ListSource())
    yield src
    reminders.unregister(src.key)


def remind(user, key, title=None, url=""):
    return reminders.Reminder(recipient_id=user.pk, object_key=key, title=title or f"Item {key} is due", url=url)


def test_one_digest_with_every_item_then_nothing_on_a_second_run(source, make_user):
    alice, bob = make_user("associate"), make_user("approver")
    source.due = [remind(alice, "invoice:1"), remind(alice, "invoice:2"), remind(bob, "invoice:3")]

    first = reminders_send_digests(today=TODAY)
    second = reminders_send_digests(today=TODAY)

    assert first == {"recipients": 2, "sent": 2, "skipped": 0}
    assert second["sent"] == 0
    assert sorted(m.to[0] for m in mail.outbox) == sorted([alice.email, bob.email])
    alice_mail = next(m for m in mail.outbox if m.to == [alice.email])
    assert "Item invoice:1 is due" in alice_mail.body and "Item invoice:2 is due" in alice_mail.body
    assert Notification.objects.filter(recipient=alice, read_at__isnull=True).count() == 2
    assert ReminderItem.objects.count() == 3


def test_next_day_sends_again(source, make_user):
    alice = make_user("associate")
    source.due = [remind(alice, "invoice:1")]
    reminders_send_digests(today=TODAY)
    reminders_send_digests(today=date(2026, 11, 24))
    assert len(mail.outbox) == 2
    assert ReminderDigest.objects.filter(recipient=alice).count() == 2


def test_a_source_repeating_an_item_yields_it_once(source, make_user):
    alice = make_user("associate")
    source.due = [remind(alice, "invoice:1"), remind(alice, "invoice:1")]
    reminders_send_digests(today=TODAY)
    assert ReminderItem.objects.count() == 1
    assert Notification.objects.count() == 1


def test_inactive_users_and_people_without_email(source, make_user):
    gone = make_user("associate", is_active=False)
    no_mail = make_user("approver", email="")
    source.due = [remind(gone, "invoice:1"), remind(no_mail, "invoice:2")]
    reminders_send_digests(today=TODAY)
    assert mail.outbox == []
    assert not Notification.objects.filter(recipient=gone).exists()
    assert Notification.objects.filter(recipient=no_mail).count() == 1  # still told in the portal


def test_urls_outside_the_portal_are_dropped(source, make_user):
    alice = make_user("associate")
    source.due = [
        remind(alice, "a", url="javascript:alert(1)"),
        remind(alice, "b", url="//evil.example/x"),
        remind(alice, "c", url="/admin/"),
    ]
    reminders_send_digests(today=TODAY)
    assert sorted(Notification.objects.values_list("url", flat=True)) == ["", "", "/admin/"]


def test_digest_task_runs_the_service(source, make_user):
    alice = make_user("associate")
    source.due = [remind(alice, "invoice:9")]
    result = send_reminder_digests.apply(kwargs={"day": TODAY.isoformat()}).get()
    assert result["sent"] == 1
    assert len(mail.outbox) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_overlapping_runs_send_each_digest_once(source, make_user):
    people = [make_user("associate") for _ in range(5)]
    source.due = [remind(person, f"invoice:{n}") for n, person in enumerate(people) for _ in range(2)]
    barrier = threading.Barrier(4)
    errors = []

    def run():
        try:
            barrier.wait()
            reminders_send_digests(today=TODAY)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(m.to[0] for m in mail.outbox) == sorted(p.email for p in people)
    assert ReminderDigest.objects.filter(sent_at__isnull=False).count() == 5
    assert Notification.objects.count() == 5


def test_unread_count_in_the_admin_header_and_mark_read(source, client, make_user):
    alice = make_user("associate")
    source.due = [remind(alice, "invoice:1", url="/admin/"), remind(alice, "invoice:2")]
    reminders_send_digests(today=TODAY)
    client.force_login(alice)

    page = client.get("/admin/").content.decode()
    assert 'data-testid="unread-count">2<' in page

    listing = client.get("/admin/core/notification/").content.decode()
    assert "Item invoice:1 is due" in listing
    ids = list(Notification.objects.filter(recipient=alice).values_list("pk", flat=True))
    response = client.post("/admin/core/notification/", {"action": "mark_read", "_selected_action": ids}, follow=True)
    assert "2 notification(s) marked as read." in response.content.decode()
    assert 'data-testid="unread-count">0<' in client.get("/admin/").content.decode()


def test_people_see_only_their_own_notifications(source, client, make_user):
    alice, bob = make_user("associate"), make_user("associate")
    source.due = [remind(alice, "secret:1", title="Alice's item")]
    reminders_send_digests(today=TODAY)
    client.force_login(bob)
    assert "Alice's item" not in client.get("/admin/core/notification/").content.decode()
    theirs = Notification.objects.get(recipient=alice)
    assert client.get(f"/admin/core/notification/{theirs.pk}/change/").status_code in (302, 403, 404)
