from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from apps.core.models import Notification
from apps.core.services.reminders import reminders_send_digests
from apps.invoices import services
from apps.invoices.models import Invoice

pytestmark = pytest.mark.django_db
INVOICE_DATE = date(2026, 10, 1)  # due 2026-10-31 with 30-day terms


def titles_for(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("title", flat=True))


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 10, 23), []),  # 8 days before: outside the 7-day window
        (date(2026, 10, 24), ["due"]),
        (date(2026, 10, 31), ["due"]),  # due today
        (date(2026, 11, 1), ["overdue by 1 days"]),
    ],
)
def test_due_soon_and_overdue_remind_the_person_who_entered_it_once_a_day(
    submitted, po_line, associate, today, expected
):
    invoice = submitted(po_line)

    reminders_send_digests(today=today)
    reminders_send_digests(today=today)

    titles = titles_for(associate)
    assert len(titles) == len(expected)
    for title, fragment in zip(titles, expected, strict=True):
        assert invoice.number in title and fragment in title
    assert len(mail.outbox) == len(expected)


def test_approved_invoices_due_soon_also_remind_the_approvers(submitted, po_line, approver, associate):
    invoice = submitted(po_line)
    services.invoice_approve(invoice_id=invoice.pk, actor=approver)

    reminders_send_digests(today=date(2026, 10, 30))

    assert any(invoice.number in t for t in titles_for(approver))


def test_paid_and_cancelled_invoices_are_not_reminded(submitted, po_line, associate):
    invoice = submitted(po_line)
    services.invoice_cancel(invoice_id=invoice.pk, actor=associate, reason="Wrong")
    reminders_send_digests(today=date(2026, 11, 5))
    assert titles_for(associate) == []


def test_waiting_for_approval_past_the_sla_reminds_approvers_but_not_the_submitter(
    enter, po_line, approver, make_user, settings
):
    settings.INVOICE_APPROVAL_SLA_DAYS = 3
    boss = make_user("approver")
    invoice = services.invoice_submit(invoice_id=enter(po_line).pk, actor=boss)
    Invoice.objects.filter(pk=invoice.pk).update(submitted_at=timezone.now() - timedelta(days=4))
    today = timezone.localdate()

    reminders_send_digests(today=today)

    assert any("waiting for approval" in t for t in titles_for(approver))
    assert not any("waiting for approval" in t for t in titles_for(boss))


def test_unresolved_exceptions_after_n_days(submitted, po_line, approver, associate, settings):
    settings.INVOICE_EXCEPTION_SLA_DAYS = 5
    invoice = submitted(po_line, "101")
    today = timezone.localdate()
    Invoice.objects.filter(pk=invoice.pk).update(exception_since=timezone.now() - timedelta(days=5))
    reminders_send_digests(today=today)
    assert not any("Match exception" in t for t in titles_for(approver))

    Invoice.objects.filter(pk=invoice.pk).update(exception_since=timezone.now() - timedelta(days=6))
    reminders_send_digests(today=today + timedelta(days=0))
    reminders_send_digests(today=today + timedelta(days=1))

    assert len([t for t in titles_for(approver) if "Match exception" in t]) == 2  # one a day
    assert any("Match exception" in t for t in titles_for(associate))
