"""A vendor manager imports vendors from a CSV with one bad row, reads the error report, fixes the file,
checks the dry run, confirms and watches the worker finish; an auditor exports the result, filtered."""

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.core.models import ImportJob
from apps.vendors.models import Vendor
from tests.browser.conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker]

BAD = (
    "Code,Legal name,Category,Payment terms days,Default currency\n"
    "JRN-001,Journey Paper,goods,30,USD\n"
    "JRN-002,Journey Ink,goods,thirty,USD\n"
    "JRN-003,Journey Freight,logistics,45,EUR\n"
)
FIXED = BAD.replace("thirty", "30")


@pytest.fixture
def worker(demo_users, django_db_blocker):
    """A real Celery worker (in this process) consuming the test run's queue."""
    from celery.contrib.testing.worker import start_worker

    from opsportal.celery import app

    with (
        django_db_blocker.unblock(),
        start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20, loglevel="WARNING"),
    ):
        yield


def _upload(page, path: Path):
    page.goto("/admin/vendors/vendor/")
    page.get_by_role("link", name="Import", exact=True).click()
    expect(page.get_by_label("Import into")).to_have_value("vendors.vendor")
    page.get_by_label("File").set_input_files(str(path))
    page.get_by_role("button", name="Save", exact=True).click()


def _wait_until_finished(page):
    # The page polls the job and reloads itself when the worker is done; the bar then reads 100%.
    expect(page.get_by_test_id("import-progress")).to_have_text("100%", timeout=60_000)


def test_import_with_a_bad_row_then_fixed_dry_run_confirm_and_filtered_export(page, worker, tmp_path, settings):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    bad, fixed = tmp_path / "vendors.csv", tmp_path / "vendors-fixed.csv"
    bad.write_text(BAD, encoding="utf-8")
    fixed.write_text(FIXED, encoding="utf-8")

    log_in(page, "vendor_manager")
    _upload(page, bad)
    _wait_until_finished(page)
    expect(page.get_by_test_id("import-status")).to_have_text("Failed")
    expect(page.locator("#import-message")).to_contain_text("nothing was written")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download the error report").click()
    report = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8"))))
    assert [(row["row"], row["value"]) for row in report] == [("3", "thirty")], report
    assert "payment_terms_days" in report[0]["column"]
    assert not Vendor.objects.filter(code__startswith="JRN-").exists()

    _upload(page, fixed)
    _wait_until_finished(page)
    expect(page.get_by_test_id("import-status")).to_have_text("Succeeded")
    expect(page.get_by_test_id("import-summary")).to_contain_text("New: 3")
    expect(page.locator("#import-job")).to_contain_text("JRN-001")  # the first rows of the dry run
    assert not Vendor.objects.filter(code__startswith="JRN-").exists()  # a dry run writes nothing

    page.get_by_role("button", name="Confirm import").click()
    _wait_until_finished(page)
    expect(page.get_by_test_id("import-status")).to_have_text("Succeeded")
    expect(page.locator("#import-message")).to_contain_text("3 new")
    assert set(Vendor.objects.filter(code__startswith="JRN-").values_list("code", flat=True)) == {
        "JRN-001",
        "JRN-002",
        "JRN-003",
    }
    job = ImportJob.objects.latest("pk")
    assert (job.dry_run, job.rows_processed, job.rows_total) == (False, 3, 3)

    # An auditor exports what was imported, filtered to the goods vendors among them.
    page.context.clear_cookies()
    log_in(page, "auditor")
    page.goto("/admin/vendors/vendor/?q=JRN-&category__exact=goods")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    page.get_by_role("link", name="Export", exact=True).click()
    page.get_by_label("Format").select_option(label="csv")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Submit").click()
    exported = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
    assert sorted(row["code"] for row in exported) == ["JRN-001", "JRN-002"]
    assert page.console_errors == []
