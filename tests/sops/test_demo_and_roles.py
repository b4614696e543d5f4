"""Demo SOPs follow the rules and can be seeded twice; the role table gives each role what it needs."""

from django.contrib.auth.models import Group, Permission

from apps.core import roles
from apps.core.services.demo import demo_seed
from apps.sops.models import Acknowledgement, Area, SOPDocument, SOPVersion
from apps.sops.selectors import sop_compliance, sop_version_in_force


def test_demo_data_is_realistic_and_idempotent(db, monkeypatch):
    from apps.core.services import demo as core_demo
    from apps.sops import demo

    monkeypatch.setattr(core_demo, "app_modules", lambda name: [demo])  # only this app's demo records
    demo_seed(password="demo-pass-123")
    counts = (SOPDocument.objects.count(), SOPVersion.objects.count(), Acknowledgement.objects.count())
    demo_seed(password="demo-pass-123")
    assert (SOPDocument.objects.count(), SOPVersion.objects.count(), Acknowledgement.objects.count()) == counts

    assert counts[0] == 30
    assert set(SOPDocument.objects.values_list("area", flat=True)) == set(Area.values)
    assert counts[1] > 2 * counts[0]  # several versions each
    for area in Area.values:
        assert sop_version_in_force(area=area) is not None
    for version in SOPVersion.objects.exclude(reviewer=None):
        assert version.reviewer_id != version.author_id
    assert SOPVersion.objects.filter(status=SOPVersion.Status.IN_REVIEW).exists()
    assert SOPVersion.objects.filter(status=SOPVersion.Status.DRAFT).exists()
    from django.utils import timezone

    assert SOPDocument.objects.filter(next_review_date__lt=timezone.localdate()).exists()
    percents = [c.percent for c in sop_compliance(documents=SOPDocument.objects.all()).values()]
    assert any(0 < p < 100 for p in percents)  # partial acknowledgements


def perms_of(role):
    return set(
        Permission.objects.filter(group__name=role, content_type__app_label="sops").values_list("codename", flat=True)
    )


def test_roles(role_groups):
    assert {"publish_sop", "add_sopversion", "change_sopversion", "add_sopdocument"} <= perms_of(roles.SOP_OWNER)
    assert perms_of(roles.ASSOCIATE) == {
        "view_sopdocument",
        "view_sopversion",
        "view_sopattachment",
        "add_acknowledgement",
    }
    assert "view_acknowledgement" in perms_of(roles.APPROVER)
    assert "publish_sop" not in perms_of(roles.APPROVER)
    assert all(code.startswith("view_") for code in perms_of(roles.AUDITOR))
    assert Group.objects.get(name=roles.AUDITOR).permissions.filter(codename="view_acknowledgement").exists()
