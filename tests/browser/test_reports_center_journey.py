"""An auditor extracts a person's changes from the audit trail in the reports center and downloads the CSV."""

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from apps.core import audit
from tests.browser.conftest import log_in
from tests.vendors.factories import VendorFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def eager_tasks():
    """The live server runs the report's task itself once the request commits (the worker tests use a real one)."""
    from opsportal.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


def test_an_auditor_runs_an_audit_trail_extract_and_downloads_the_csv(
    page, demo_users, eager_tasks, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path)
    associate = get_user_model().objects.get(username="associate")
    with audit.audit_context(path="admin", actor=associate):
        VendorFactory(code="TRAIL-01", legal_name="Trail Supplies")
    VendorFactory(code="OTHER-01")  # nobody's change: not in the extract

    log_in(page, "auditor")
    page.goto("/admin/reports/")
    section = page.locator("#audit_trail")
    expect(section.get_by_role("heading", name="Audit trail extract")).to_be_visible()
    section.get_by_label("Model").select_option("vendors.vendor")
    section.get_by_label("User").fill("associate")
    section.get_by_role("button", name="Run Audit trail extract").click()

    expect(page.locator(".messagelist")).to_contain_text("Audit trail extract run #")
    run = page.locator("#audit_trail .report-runs tbody tr").first
    for _ in range(20):  # the report is ready once its task has run
        if run.locator(".report-status").inner_text() == "succeeded":
            break
        page.wait_for_timeout(250)
        page.reload()
    expect(run.locator(".report-status")).to_have_text("succeeded")
    expect(run).to_contain_text("auditor")
    expect(page.get_by_test_id("unread-count")).to_have_text("1")  # "your report is ready"

    with page.expect_download() as download_info:
        run.get_by_role("link", name="CSV").click()
    download = download_info.value
    rows = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))

    assert download.suggested_filename.endswith(".csv")
    assert rows[0][:4] == ["timestamp", "source", "action", "user"]
    assert [(row[1], row[2], row[3], row[7]) for row in rows[1:]] == [
        ("change", "create", "associate", "TRAIL-01 — Trail Supplies")
    ]
    assert page.console_errors == []
