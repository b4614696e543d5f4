"""Browser tests: Playwright drives the machine's Chromium (Debian's package) against a live server.

Playwright never downloads a browser here: the executable is ``$OPSPORTAL_CHROMIUM`` or
``/usr/bin/chromium``; a missing browser is an error with the install command, not a skip.
"""

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    candidate = os.environ.get("OPSPORTAL_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(candidate).exists():
        pytest.fail(
            f"Chromium not found at {candidate}. Install Debian's package (apt-get install chromium) "
            "or set OPSPORTAL_CHROMIUM to a Chromium executable."
        )
    return candidate


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.console_errors = []
    page.on("console", lambda message: message.type == "error" and page.console_errors.append(message.text))
    page.on("pageerror", lambda error: page.console_errors.append(str(error)))
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def demo_users(transactional_db):
    from apps.core.services.demo import demo_seed

    demo_seed(password=DEMO_PASSWORD, records=False)


DEMO_PASSWORD = "demo-journey-pass-1"


def log_in(page, username, password=DEMO_PASSWORD):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
