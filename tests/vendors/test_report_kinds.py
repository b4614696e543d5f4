"""Vendor scorecards in the reports center: a stored run of the ranking, for those who may export it."""

import pytest
from django.core.exceptions import PermissionDenied

from apps.core import reports
from apps.core.models import ReportRun
from tests.core.test_reports_center import rows_of, run_in_center
from tests.vendors.factories import VendorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def test_vendor_managers_see_scorecards_but_only_exporters_run_them(
    client, make_user, django_capture_on_commit_callbacks
):
    manager = make_user("vendor_manager")
    assert reports.get("vendor_scorecards").can_view(manager)
    client.force_login(manager)
    assert run_in_center(client, "vendor_scorecards", django_capture_on_commit_callbacks).status_code == 403
    with pytest.raises(PermissionDenied):
        reports.report_run_request(actor=manager, kind="vendor_scorecards")
    assert not ReportRun.objects.exists()


def test_the_scorecard_run_holds_the_same_rows_as_the_ranking_export(make_user):
    VendorFactory(code="B-2", legal_name="Beta")
    VendorFactory(code="A-1", legal_name="Alpha")
    run = reports.report_run_request(actor=make_user("auditor"), kind="vendor_scorecards")
    run = reports.report_run_generate(run_id=run.pk)
    header, *rows = rows_of(run.csv_file)
    assert header[:3] == ["rank", "code", "legal name"]
    assert [row[1] for row in rows] == ["A-1", "B-2"]  # unreviewed vendors by code
    assert run.row_count == 2
