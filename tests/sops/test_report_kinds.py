"""SOP compliance in the reports center: who of each published SOP's audience acknowledged it."""

import pytest

from apps.core import reports
from apps.sops import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def test_the_compliance_rows_name_who_is_missing(document, publish, associate, make_user):
    late = make_user("associate", username="late-reader")
    version = publish(document)
    services.sop_version_acknowledge(version_id=version.pk, actor=associate)

    headers, rows = reports.get("sop_compliance").build({"area": "invoices"})
    _, other_area = reports.get("sop_compliance").build({"area": "refunds"})

    assert headers[0] == "code" and headers[-1] == "missing"
    [row] = rows
    assert row[:4] == ["AP-001", "Vendor invoice approval", "Invoices", version.number]
    assert row[4:7] == [2, 1, 50]
    assert row[7] == late.username
    assert other_area == []


def test_leads_see_compliance_and_auditors_run_it(make_user):
    kind = reports.get("sop_compliance")
    assert kind.can_view(make_user("approver")) and not kind.can_run(make_user("approver"))
    assert kind.can_run(make_user("auditor"))
    assert not kind.can_view(make_user("associate"))
