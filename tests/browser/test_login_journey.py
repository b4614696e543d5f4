"""First journeys: a person signs in and lands on the portal's admin index."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_associate_logs_in_and_sees_the_admin_index(page, demo_users):
    log_in(page, "associate")

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#site-name")).to_have_text("Ops Portal")
    expect(page.locator("#user-tools")).to_contain_text("Associate")
    expect(page.get_by_test_id("unread-count")).to_have_text("0")
    expect(page.get_by_role("link", name="Notifications", exact=True).first).to_be_visible()
    assert page.console_errors == []


def test_auditor_sees_the_trail_without_add_or_change_controls(page, demo_users):
    log_in(page, "auditor")

    expect(page.locator("#site-name")).to_have_text("Ops Portal")
    expect(page.get_by_role("link", name="Audit events")).to_be_visible()
    expect(page.locator("a.addlink")).to_have_count(0)
    expect(page.locator("a.changelink")).to_have_count(0)

    page.get_by_role("link", name="Users").click()
    expect(page.locator("#result_list")).to_be_visible()
    expect(page.locator("a.addlink")).to_have_count(0)
    assert page.console_errors == []


def test_a_wrong_password_is_refused_with_a_message(page, demo_users):
    log_in(page, "associate", password="not-the-password")

    expect(page.locator(".errornote")).to_contain_text("Please enter the correct username and password")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
