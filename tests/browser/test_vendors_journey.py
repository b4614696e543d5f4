"""A vendor manager drafts a performance review, scores it, finalizes it and sees the scorecard chart."""

import re
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.vendors import services
from apps.vendors.models import PerformanceReview
from tests.browser.conftest import log_in
from tests.vendors.factories import VendorFactory, criteria

pytestmark = pytest.mark.browser


def test_vendor_manager_drafts_and_finalizes_a_review_and_sees_the_chart(page, demo_users):
    manager = get_user_model().objects.get(username="vendor_manager")
    services.bands_replace(  # the default bands (a fresh transactional database has none)
        actor=manager,
        bands=[
            {"name": "Poor", "min_score": 0, "max_score": 50},
            {"name": "Fair", "min_score": 50, "max_score": 75},
            {"name": "Good", "min_score": 75, "max_score": 90},
            {"name": "Excellent", "min_score": 90, "max_score": 100},
        ],
    )
    vendor = VendorFactory(code="ACME-01", legal_name="Acme Industrial Supply", manager=manager)
    for start, end, score in ((date(2026, 1, 1), date(2026, 3, 31), 62), (date(2026, 4, 1), date(2026, 6, 30), 71)):
        review = services.review_create(
            actor=manager, vendor_id=vendor.pk, period_start=start, period_end=end, criteria=criteria((100, score))
        )
        services.review_finalize(review_id=review.pk, actor=manager)

    log_in(page, "vendor_manager")
    page.get_by_role("link", name="Performance reviews").click()
    page.get_by_role("link", name=re.compile("Add performance review")).click()

    expect(page).to_have_url(re.compile(r"/performancereview/add/$"))
    page.locator(".field-vendor .select2-selection").click()  # the autocomplete widget
    page.locator(".select2-search__field").fill("ACME")
    page.locator(".select2-results__option", has_text="ACME-01").click()
    page.locator("#id_period_start").fill("2026-07-01")
    page.locator("#id_period_end").fill("2026-09-30")
    page.get_by_role("button", name="Save and continue editing").click()

    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    rows = page.locator("#criteria-group tbody tr.has_original")
    expect(rows).to_have_count(4)
    for index, score in enumerate(["85", "92", "78", "88"]):
        page.locator(f"#id_criteria-{index}-score").fill(score)
    page.locator("#id_comments").fill("Good quarter: deliveries recovered.")
    page.get_by_role("button", name="Save and finalize").click()

    expect(page.locator(".messagelist")).to_contain_text("Finalized: overall score 85.60, standing Good")
    expect(page).to_have_url(re.compile(rf"/admin/vendors/vendor/{vendor.pk}/change/"))
    expect(page.locator("#scorecard")).to_be_visible()
    expect(page.locator(".scorecard-table tbody tr")).to_have_count(3)
    drawn = page.evaluate(
        """() => {
            const chart = window.vendorScorecardChart;
            const canvas = document.getElementById('scorecard-chart');
            const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) painted++; }
            return {points: chart.data.datasets[0].data, painted};
        }"""
    )
    assert drawn["points"] == [62, 71, 85.6]
    assert drawn["painted"] > 1000  # the canvas really has a chart on it
    assert page.console_errors == []
    assert PerformanceReview.objects.get(period_end=date(2026, 9, 30)).status == "finalized"
