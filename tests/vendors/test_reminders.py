from datetime import date, timedelta

from django.core import mail
from django.utils import timezone

from apps.core.models import Notification
from apps.core.services.reminders import reminders_send_digests
from apps.vendors import services
from apps.vendors.models import Vendor
from tests.vendors.factories import ContractFactory, VendorFactory, criteria

TODAY = date(2026, 11, 23)


def titles_for(user):
    return sorted(Notification.objects.filter(recipient=user).values_list("title", flat=True))


def test_reviews_due_go_to_the_vendor_manager_once_a_day(manager, settings):
    settings.VENDOR_REVIEW_INTERVAL_DAYS = 90
    due = VendorFactory(code="DUE", manager=manager, latest_review_end=TODAY - timedelta(days=91))
    VendorFactory(code="FRESH", manager=manager, latest_review_end=TODAY - timedelta(days=90))
    VendorFactory(
        code="HELD",
        manager=manager,
        latest_review_end=TODAY - timedelta(days=400),
        status=Vendor.Status.ON_HOLD,
        hold_reason="x",
    )
    Vendor.objects.filter(pk=due.pk).update(created_at=timezone.now() - timedelta(days=500))

    reminders_send_digests(today=TODAY)
    reminders_send_digests(today=TODAY)

    assert [t for t in titles_for(manager) if t.startswith("Review due")] == [
        f"Review due for DUE {due.legal_name} (last review ended {due.latest_review_end:%d %b %Y})"
    ]
    assert len(mail.outbox) == 1


def test_unowned_vendors_remind_every_vendor_manager(make_user, settings):
    settings.VENDOR_REVIEW_INTERVAL_DAYS = 90
    first, second = make_user("vendor_manager"), make_user("vendor_manager")
    vendor = VendorFactory(code="NOBODY")
    from apps.vendors.models import Vendor as V

    V.objects.filter(pk=vendor.pk).update(created_at=timezone.now() - timedelta(days=365))
    reminders_send_digests(today=timezone.localdate())
    for person in (first, second):
        assert any("NOBODY" in t and "never reviewed" in t for t in titles_for(person))


def test_contract_renewals_inside_the_notice_window(manager):
    vendor = VendorFactory(manager=manager)
    ContractFactory(vendor=vendor, reference="INSIDE", end_date=TODAY + timedelta(days=60), renewal_notice_days=60)
    ContractFactory(vendor=vendor, reference="OUTSIDE", end_date=TODAY + timedelta(days=61), renewal_notice_days=60)
    ContractFactory(vendor=vendor, reference="ENDED", end_date=TODAY - timedelta(days=1), renewal_notice_days=60)

    reminders_send_digests(today=TODAY)

    contract_titles = [t for t in titles_for(manager) if t.startswith("Contract")]
    assert len(contract_titles) == 1 and "INSIDE" in contract_titles[0]


def test_overdue_action_items_go_to_their_owner(manager, make_user):
    owner = make_user("associate")
    review = services.review_create(
        actor=manager,
        vendor_id=VendorFactory(manager=manager, latest_review_end=TODAY).pk,
        period_start=date(2026, 7, 1),
        period_end=date(2026, 9, 30),
        criteria=criteria((100, 50)),
        action_items=[
            {"description": "Overdue fix", "owner": owner, "due_date": TODAY - timedelta(days=1)},
            {"description": "Due today", "owner": owner, "due_date": TODAY},
            {"description": "Done already", "owner": owner, "due_date": TODAY - timedelta(days=5), "done": True},
        ],
    )
    services.review_finalize(review_id=review.pk, actor=manager)

    reminders_send_digests(today=TODAY)

    assert [t.split(": ", 1)[1] for t in titles_for(owner)] == [f"Overdue fix ({review.vendor.code})"]
