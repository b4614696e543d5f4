"""A refund from request through two approvals (above the threshold) to processed, in the browser."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from playwright.sync_api import expect

from apps.refunds import demo
from apps.refunds.models import Channel, Order, Payout, RefundCase
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def as_user(browser, live_server):
    """``as_user("approver")`` — a fresh signed-in browser page for that demo user."""
    contexts = []

    def open_for(username):
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, username)
        expect(page).to_have_url(re.compile(r"/admin/$"))
        return page

    yield open_for
    for context in contexts:
        context.close()


def run_action(page, reference, action_label, verb, reason=None):
    page.goto(f"/admin/refunds/refundcase/?q={reference}")
    page.locator("input.action-select").first.check()
    page.locator("select[name=action]").select_option(label=action_label)
    page.get_by_role("button", name="Go").click()
    expect(page.locator("h1")).to_contain_text(action_label)
    if reason:
        page.get_by_label(re.compile("Reason")).fill(reason)
    page.get_by_role("button", name=f"Yes, {verb}").click()


def test_a_refund_above_the_threshold_needs_two_approvers_then_is_processed(page, demo_users, as_user):
    users = {user.username: user for user in get_user_model().objects.all()}
    demo.seed_reference_data(users)  # channels, reasons, policy (threshold 500.00), approver limits
    order = Order.objects.create(
        reference="SO-JOURNEY-1",
        customer_name="Jane Doe",
        customer_email="jane.doe@example.com",
        order_date=timezone.localdate(),
        channel=Channel.objects.get(code="web"),
        currency="EUR",
        total=Decimal("800.00"),
        amount_paid=Decimal("800.00"),
    )

    # The associate requests a 600.00 refund (the threshold is 500.00).
    log_in(page, "associate")
    page.goto("/admin/refunds/refund/add/")
    page.locator(".field-order .select2-selection").click()
    page.locator(".select2-search__field").fill("SO-JOURNEY-1")
    page.locator(".select2-results__option", has_text="SO-JOURNEY-1").click()
    page.get_by_label("Type:", exact=True).select_option("refund")
    page.get_by_label("Amount:", exact=True).fill("600.00")
    page.get_by_label("Reason:", exact=True).select_option(label="damaged — Arrived damaged")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    case = RefundCase.objects.get(order=order)
    assert case.approvals_required == 2

    # The associate cannot approve their own request: the action is not even offered.
    page.goto(f"/admin/refunds/refundcase/?q={order.reference}")
    expect(page.locator("select[name=action] option", has_text="Approve selected cases")).to_have_count(0)

    # First approver: one of two.
    approver = as_user("approver")
    run_action(approver, order.reference, "Approve selected cases", "approved")
    expect(approver.locator(".messagelist")).to_contain_text("Approved: 1 case.")
    case.refresh_from_db()
    assert case.status == "requested"

    # The same approver again is refused with the reason.
    run_action(approver, order.reference, "Approve selected cases", "approved")
    expect(approver.locator(".messagelist")).to_contain_text("a second, different approver must approve it")

    # Second, distinct approver: approved.
    approver2 = as_user("approver2")
    run_action(approver2, order.reference, "Approve selected cases", "approved")
    expect(approver2.locator(".messagelist")).to_contain_text("Approved: 1 case.")
    case.refresh_from_db()
    assert case.status == "approved"

    # The associate processes it: money out once.
    run_action(page, order.reference, "Process selected cases (money out)", "processed")
    expect(page.locator(".messagelist")).to_contain_text("Processed: 1 case.")
    page.goto(f"/admin/refunds/refundcase/{case.pk}/change/")
    expect(page.locator(".field-status")).to_contain_text("processed")
    expect(page.locator(".field-payout_summary")).to_contain_text("600.00 EUR")
    expect(page.locator(".field-order_summary")).to_contain_text("refundable remaining 200.00")
    assert Payout.objects.filter(case=case).count() == 1
    assert page.console_errors == []
