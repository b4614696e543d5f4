"""Refund decisions record the refunds SOP in force, and the case page links to it."""

from apps.refunds import hooks


def test_the_refunds_sop_in_force_is_recorded_and_linked(make_user, role_groups):
    from apps.sops import services as sop_services

    assert hooks.sop_version_in_force() == ""  # nothing published yet: nothing recorded, nothing fails
    author, reviewer = make_user("sop_owner"), make_user("sop_owner")
    document = sop_services.sop_document_create(
        actor=author,
        code="RF-001",
        title="Refund approval",
        area="refunds",
        governs_area=True,
        audience=[role_groups["associate"]],
        review_interval_days=365,
    )
    version = sop_services.sop_version_create(
        document_id=document.pk, actor=author, change_summary="First issue.", body="# Refunds\n\n1. Check.\n"
    )
    sop_services.sop_version_submit_review(version_id=version.pk, actor=author)
    version = sop_services.sop_version_publish(version_id=version.pk, actor=reviewer)

    assert hooks.sop_version_in_force() == f"RF-001 v{version.number} (#{version.pk})"
    assert hooks.governing_sop_url() == f"/admin/sops/sopversion/{version.pk}/read/"
