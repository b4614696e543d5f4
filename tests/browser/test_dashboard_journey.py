"""Every role opens the dashboard: the charts are drawn, the role sees its own queues, a panel leads into its list."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import expect

from apps.core import roles
from apps.inventory.models import CycleCount, CycleCountLine
from apps.invoices.models import Invoice
from apps.sops import services as sop_services
from tests.browser.conftest import log_in
from tests.inventory.factories import ItemFactory, LocationFactory
from tests.vendors.factories import VendorFactory

pytestmark = pytest.mark.browser

PAINTED = """() => Array.from(document.querySelectorAll('canvas[data-chart]')).map(canvas => {
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let painted = 0;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
    return {chart: canvas.dataset.chart, painted, drawn: !!window.dashboardCharts[canvas.dataset.chart]};
})"""

# role -> (panels with a chart it must see, work queues it must see, work queues it must not see)
EXPECTED = {
    "associate": ({"invoices.ap_aging"}, {"Match exceptions"}, {"Invoices to approve", "Refund cases to approve"}),
    "approver": ({"invoices.ap_aging"}, {"Invoices to approve", "Refund cases to approve"}, set()),
    "vendor_manager": ({"invoices.ap_aging", "vendors.scorecards"}, {"Vendor reviews due"}, {"Invoices to approve"}),
    "inventory_controller": ({"inventory.accuracy_shrinkage"}, {"Counts awaiting approval"}, {"Invoices to approve"}),
    "sop_owner": ({"sops.compliance"}, {"SOP versions to review"}, {"Invoices to approve"}),
    "auditor": (
        {"invoices.ap_aging", "vendors.scorecards", "inventory.accuracy_shrinkage", "sops.compliance"},
        set(),
        set(),
    ),
    "admin": ({"invoices.ap_aging", "vendors.scorecards"}, {"Invoices to approve"}, set()),
}


@pytest.fixture
def portal_data(demo_users):
    """Open invoices in two currencies (two overdue in USD), scored vendors, an approved count, a published SOP."""
    cache.clear()
    today, now = timezone.localdate(), timezone.now()
    usd = VendorFactory(code="DASH-USD", default_currency="USD", latest_score=Decimal("91.00"), latest_standing="Good")
    eur = VendorFactory(code="DASH-EUR", default_currency="EUR", latest_score=Decimal("48.00"), latest_standing="Poor")
    for number, vendor, total, status, due_in in [
        ("D-1", usd, "120.00", Invoice.Status.MATCHED, 10),
        ("D-2", usd, "80.00", Invoice.Status.APPROVED, -12),
        ("D-3", usd, "40.00", Invoice.Status.EXCEPTION, -70),
        ("D-4", eur, "500.00", Invoice.Status.ON_HOLD, -3),
    ]:
        due = today + timedelta(days=due_in)
        Invoice.objects.create(
            vendor=vendor,
            number=number,
            invoice_date=due - timedelta(days=30),
            due_date=due,
            currency=vendor.default_currency,
            subtotal=Decimal(total),
            total=Decimal(total),
            status=status,
        )
    location = LocationFactory()
    count = CycleCount.objects.create(
        number="DASH-K1",
        warehouse=location.warehouse,
        status=CycleCount.Status.APPROVED,
        due_date=today,
        approved_at=now - timedelta(days=1),
    )
    for within in (True, True, False):
        CycleCountLine.objects.create(
            count=count, item=ItemFactory(), location=location, first_count_within_tolerance=within
        )
    CycleCount.objects.create(
        number="DASH-K2", warehouse=location.warehouse, status=CycleCount.Status.SUBMITTED, due_date=today
    )
    users = {user.username: user for user in get_user_model().objects.all()}
    document = sop_services.sop_document_create(
        actor=users["sop_owner"],
        code="GEN-001",
        title="Working in the portal",
        area="general",
        audience=[Group.objects.get(name=roles.ASSOCIATE)],
        review_interval_days=365,
    )
    version = sop_services.sop_version_create(
        document_id=document.pk, actor=users["sop_owner"], change_summary="First issue.", body="# Portal\n\n1. Read.\n"
    )
    sop_services.sop_version_submit_review(version_id=version.pk, actor=users["sop_owner"])
    sop_services.sop_version_publish(version_id=version.pk, actor=users["admin"])
    sop_services.sop_version_acknowledge(version_id=version.pk, actor=users["associate"])
    draft = sop_services.sop_version_create(
        document_id=document.pk, actor=users["admin"], change_summary="Second issue.", body="# Portal\n\n1. Read it.\n"
    )
    sop_services.sop_version_submit_review(version_id=draft.pk, actor=users["admin"])
    yield
    cache.clear()


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_dashboard_with_charts_drawn(page, portal_data, role, tmp_path):
    charts, queues, hidden = EXPECTED[role]
    log_in(page, role)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#apps-title")).to_be_visible()  # the app list is still there

    drawn = {entry["chart"]: entry for entry in page.evaluate(PAINTED)}
    assert charts <= set(drawn), drawn
    for key in charts:
        assert drawn[key]["drawn"] and drawn[key]["painted"] > 500, drawn[key]
    work = page.locator("#my-work")
    if queues:
        for label in queues:
            expect(work.get_by_role("link", name=label)).to_be_visible()
    else:
        expect(work).to_have_count(0)
    for label in hidden:
        expect(page.get_by_role("link", name=label)).to_have_count(0)

    shot = tmp_path / f"dashboard-{role}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert page.console_errors == []


def test_a_panel_leads_into_the_list_of_exactly_what_it_counted(page, portal_data):
    log_in(page, "approver")
    panel = page.locator('[data-panel="invoices.ap_aging"]')
    overdue = panel.locator(".figure", has_text="Overdue (2 invoices)")
    expect(overdue).to_contain_text("120.00 USD")
    overdue.get_by_role("link").click()

    expect(page).to_have_url(re.compile(r"/admin/invoices/invoice/\?overdue=yes&currency=USD$"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    assert sorted(rows.locator("th a").all_inner_texts()) == ["D-2", "D-3"]
    assert page.console_errors == []


def test_the_period_selector_changes_the_period_and_ignores_bad_values(page, portal_data):
    log_in(page, "auditor")
    page.get_by_role("link", name="last 90 days").click()
    expect(page.locator('[data-period="90"]')).to_have_attribute("aria-current", "true")
    page.goto("/admin/?period=12")
    expect(page.locator('[data-period="30"]')).to_have_attribute("aria-current", "true")
    assert page.console_errors == []
