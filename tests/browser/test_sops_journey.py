"""SOP journey: an owner writes a new version, submits it, someone else publishes it, an associate reads it."""

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.sops import demo
from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

HOSTILE_LINE = '<img src="x" onerror="alert(1)"> <a href="javascript:alert(2)">bad link</a>'


def sign_in_as(page, username):
    page.context.clear_cookies()
    log_in(page, username)
    expect(page).to_have_url(re.compile(r"/admin/$"))


@pytest.fixture
def sop_library(demo_users):
    """The demo SOPs (thirty procedures with versions and acknowledgements)."""
    users = get_user_model().objects.in_bulk(field_name="username")
    demo.seed(users=users)


def test_version_from_draft_through_review_to_publication_then_acknowledged(page, sop_library):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # The SOP owner starts a new version of the invoice approval SOP.
    sign_in_as(page, "sop_owner")
    page.goto("/admin/sops/sopdocument/")
    expect(page.get_by_test_id("sop-in-force")).to_contain_text("GEN-001")
    page.get_by_role("link", name="AP-001", exact=True).click()
    page.get_by_role("link", name="Start a new version").click()
    page.get_by_label("Change summary").fill("Second approver above 10,000.")
    page.get_by_label("Body").fill(
        "# Vendor invoice approval\n\n1. Check the match.\n2. Above 10,000 a second approver signs.\n\n" + HOSTILE_LINE
    )
    page.get_by_role("button", name="Save", exact=True).click()

    expect(page.get_by_test_id("version-status")).to_have_text("Draft")
    expect(page.get_by_test_id("sop-body").locator("li")).to_have_count(2)
    reading_url = page.url
    page.get_by_role("button", name="Submit for review").click()
    expect(page.get_by_test_id("version-status")).to_have_text("In review")
    expect(page.get_by_role("button", name="Publish")).to_have_count(0)  # never their own

    # Someone else reviews and publishes it.
    sign_in_as(page, "admin")
    page.goto(reading_url)
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".messagelist")).to_contain_text("published")
    expect(page.get_by_test_id("version-status")).to_have_text("Published")

    # An associate reads it and confirms.
    sign_in_as(page, "associate")
    page.goto("/admin/sops/sopdocument/?q=AP-001")
    page.get_by_role("link", name=re.compile(r"^v\d+$")).first.click()
    expect(page).to_have_url(reading_url)
    body = page.get_by_test_id("sop-body")
    expect(body).to_contain_text("a second approver signs")
    expect(body.locator("[onerror]")).to_have_count(0)
    expect(body.locator('a[href^="javascript"]')).to_have_count(0)
    page.get_by_role("button", name="I have read this").click()
    expect(page.get_by_test_id("acknowledgement")).to_contain_text("You acknowledged this version on")
    expect(page.get_by_role("button", name="I have read this")).to_have_count(0)

    assert dialogs == []
    assert [e for e in page.console_errors if "favicon" not in e and "/x" not in e] == []
