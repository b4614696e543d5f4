"""Vendors on the dashboard: reviews due, my overdue action items, scorecard leaders and laggards."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.core.dashboard import Period
from apps.vendors import dashboard
from apps.vendors.models import ReviewActionItem, Vendor
from tests.vendors.factories import ReviewFactory, VendorFactory


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _work(client, user):
    client.force_login(user)
    return {queue["key"]: queue for queue in client.get("/admin/").context["dashboard"]["work"]}


def test_leaders_and_laggards_by_latest_score(db):
    for code, score in [("V-A", "95.00"), ("V-B", "90.00"), ("V-C", "85.00"), ("V-D", "60.00"), ("V-E", "40.00")]:
        VendorFactory(code=code, latest_score=Decimal(score), latest_standing="band")
    VendorFactory(code="V-NEW")

    figures = dashboard.scorecard_panel(period=Period(days=30, today=timezone.localdate()))

    assert figures["summary"] == [
        {"label": "Vendors reviewed", "value": "5", "url": "/admin/vendors/vendor/scorecards/"}
    ]
    assert figures["chart"]["labels"] == [
        "V-A (leader)",
        "V-B (leader)",
        "V-C (leader)",
        "V-D (laggard)",
        "V-E (laggard)",
    ]
    assert figures["chart"]["datasets"][0]["data"] == ["95.00", "90.00", "85.00", "60.00", "40.00"]


def test_reviews_due_count_what_the_vendor_list_shows(client, make_user):
    today, long_ago = timezone.localdate(), timezone.now() - timedelta(days=200)
    overdue = VendorFactory(code="V-OLD", latest_review_end=today - timedelta(days=200))
    VendorFactory(code="V-RECENT", latest_review_end=today - timedelta(days=10))
    VendorFactory(
        code="V-HELD",
        status=Vendor.Status.ON_HOLD,
        hold_reason="Dispute",
        latest_review_end=today - timedelta(days=200),
    )
    never = VendorFactory(code="V-NEVER")
    VendorFactory(code="V-FRESH")
    Vendor.objects.filter(pk__in=[overdue.pk, never.pk]).update(created_at=long_ago)

    work = _work(client, make_user("vendor_manager"))
    assert work["vendors.reviews_due"]["count"] == 2
    listed = client.get(work["vendors.reviews_due"]["url"]).context["cl"].result_list
    assert {vendor.code for vendor in listed} == {"V-OLD", "V-NEVER"}


def test_reviews_due_are_those_of_my_vendors_and_unassigned_ones(client, make_user):
    manager, colleague = make_user("vendor_manager"), make_user("vendor_manager")
    due = timezone.localdate() - timedelta(days=200)
    VendorFactory(code="V-MINE", manager=manager, latest_review_end=due)
    VendorFactory(code="V-THEIRS", manager=colleague, latest_review_end=due)
    VendorFactory(code="V-NOBODY", latest_review_end=due)

    work = _work(client, manager)

    assert work["vendors.reviews_due"]["count"] == 2
    listed = client.get(work["vendors.reviews_due"]["url"]).context["cl"].result_list
    assert {vendor.code for vendor in listed} == {"V-MINE", "V-NOBODY"}


def test_my_overdue_action_items(client, make_user):
    manager, colleague = make_user("vendor_manager"), make_user("vendor_manager")
    review = ReviewFactory()
    today = timezone.localdate()
    mine = ReviewActionItem.objects.create(
        review=review, description="Call", owner=manager, due_date=today - timedelta(days=1)
    )
    ReviewActionItem.objects.create(
        review=review, description="Later", owner=manager, due_date=today + timedelta(days=1)
    )
    ReviewActionItem.objects.create(
        review=review, description="Done", owner=manager, due_date=today - timedelta(days=5), done=True
    )
    ReviewActionItem.objects.create(
        review=review, description="Theirs", owner=colleague, due_date=today - timedelta(days=1)
    )

    work = _work(client, manager)
    assert work["vendors.overdue_action_items"]["count"] == 1
    listed = client.get(work["vendors.overdue_action_items"]["url"]).context["cl"].result_list
    assert [item.pk for item in listed] == [mine.pk]
