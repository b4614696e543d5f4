"""Reads: the version in force at a moment (what approvals record), compliance, search."""

from datetime import timedelta

import pytest
from django.db import models
from django.utils import timezone

from apps.sops import services
from apps.sops.fields import sop_version_field
from apps.sops.models import SOPDocument, SOPVersion
from apps.sops.selectors import (
    sop_compliance,
    sop_compliance_report,
    sop_search,
    sop_version_in_force,
)


def test_nothing_is_in_force_before_the_first_publication(document, draft):
    assert sop_version_in_force(area="invoices") is None


def test_the_governing_sops_published_version_is_in_force(document, publish):
    version = publish(document)
    found = sop_version_in_force(area="invoices")
    assert found == version and found.document == document


def test_the_version_in_force_at_a_past_moment(document, publish):
    first = publish(document, body="# v1")
    between = timezone.now()
    SOPVersion.objects.filter(pk=first.pk).update(published_at=between - timedelta(hours=1))
    second = publish(document, body="# v2")

    assert sop_version_in_force(area="invoices", at=between - timedelta(hours=2)) is None
    assert sop_version_in_force(area="invoices", at=between) == first
    assert sop_version_in_force(area="invoices", at=second.published_at) == second
    assert sop_version_in_force(area="invoices") == second


def test_an_approval_keeps_the_version_it_was_made_under(document, publish):
    """What an approval service stores stays the version in force at that moment, after later publications too."""
    first = publish(document, body="# v1")
    recorded_at_approval = sop_version_in_force(area="invoices")
    publish(document, body="# v2")

    assert recorded_at_approval == first
    assert SOPVersion.objects.get(pk=recorded_at_approval.pk).status == SOPVersion.Status.RETIRED
    assert sop_version_in_force(area="invoices", at=first.published_at) == first


def test_a_retired_sop_is_no_longer_in_force(document, publish, reviewer):
    version = publish(document)
    services.sop_version_retire(version_id=version.pk, actor=reviewer, reason="Withdrawn.")
    assert sop_version_in_force(area="invoices") is None
    assert sop_version_in_force(area="invoices", at=version.published_at) == version


def test_only_the_governing_document_counts_unless_a_code_is_given(document, publish, author):
    other = services.sop_document_create(actor=author, code="AP-002", title="Matching", area="invoices")
    matching = publish(other)
    assert sop_version_in_force(area="invoices") is None
    assert sop_version_in_force(area="invoices", code="AP-002") == matching
    assert sop_version_in_force(area="refunds", code="AP-002") is None


def test_an_unknown_area_is_a_programming_error(db):
    with pytest.raises(ValueError, match="Unknown SOP area 'payroll'"):
        sop_version_in_force(area="payroll")


def test_the_lookup_is_one_query(document, publish, django_assert_num_queries):
    publish(document)
    with django_assert_num_queries(1):
        version = sop_version_in_force(area="invoices")
        assert version.document.code == "AP-001"


def test_the_field_other_apps_use_is_a_protected_nullable_foreign_key():
    field = sop_version_field()
    assert isinstance(field, models.ForeignKey)
    assert field.remote_field.model == "sops.SOPVersion"
    assert field.null and not field.editable
    assert field.remote_field.on_delete is models.PROTECT


def test_a_version_that_governed_a_decision_cannot_be_deleted(document, publish, associate):
    """The acknowledgement is a record that points at the version, as an approval does."""
    from django.db.models import ProtectedError

    version = publish(document)
    services.sop_version_acknowledge(version_id=version.pk, actor=associate)
    with pytest.raises(ProtectedError):
        version.delete()


# --- Compliance ------------------------------------------------------------------------------------


def test_compliance_per_sop_and_per_group(document, publish, make_user, role_groups, author):
    services.sop_document_update(
        document_id=document.pk, actor=author, audience=[role_groups["associate"], role_groups["approver"]]
    )
    readers = [make_user("associate") for _ in range(3)]
    approver = make_user("approver")
    make_user("associate", is_active=False)  # left: not counted
    version = publish(document)
    for person in readers[:2]:
        services.sop_version_acknowledge(version_id=version.pk, actor=person)
    document.refresh_from_db()

    compliance = sop_compliance(documents=[document])[document.pk]
    assert (compliance.audience_count, compliance.acknowledged_count, compliance.percent) == (4, 2, 50)
    assert compliance.group_percent(role_groups["associate"].pk) == 66
    assert compliance.group_percent(role_groups["approver"].pk) == 0
    assert compliance.missing == {readers[2].pk, approver.pk}

    [row] = sop_compliance_report(document_id=document.pk)
    assert [name for name, *_ in row.groups] == ["Approver", "Associate"]
    assert [u.username for u in row.missing_users] == sorted([readers[2].username, approver.username])


def test_compliance_is_none_without_audience_or_version(author, document):
    bare = services.sop_document_create(actor=author, code="GEN-009", title="x", area="general")
    result = sop_compliance(documents=[bare, document])
    assert result[bare.pk].percent is None and result[document.pk].percent is None


def test_an_acknowledgement_outside_the_audience_does_not_count(document, publish, make_user):
    member = make_user("associate")
    version = publish(document)
    services.sop_version_acknowledge(version_id=version.pk, actor=make_user("approver"))
    document.refresh_from_db()
    compliance = sop_compliance(documents=[document])[document.pk]
    assert compliance.acknowledged_count == 0 and compliance.missing == {member.pk}


def test_compliance_report_filters_by_area_and_lists_only_published(document, publish, author):
    publish(document)
    services.sop_document_create(actor=author, code="RF-001", title="Refunds", area="refunds")
    assert [row.document.code for row in sop_compliance_report()] == ["AP-001"]
    assert sop_compliance_report(area="refunds") == []


def test_compliance_of_a_page_of_documents_takes_three_queries(document, publish, django_assert_max_num_queries):
    publish(document)
    documents = list(SOPDocument.objects.all())
    with django_assert_max_num_queries(3):
        sop_compliance(documents=documents)


# --- Search --------------------------------------------------------------------------------------------


@pytest.fixture
def library(document, publish, author):
    publish(document, body="# Approval\n\nCheck the **three-way match** before approving.")
    counts = services.sop_document_create(actor=author, code="INV-002", title="Blind cycle counting", area="inventory")
    publish(counts, body="Count the shelf without looking at the expected quantity.")
    draft_only = services.sop_document_create(actor=author, code="GEN-007", title="Unpublished idea", area="general")
    services.sop_version_create(document_id=draft_only.pk, actor=author, change_summary="x", body="secret shelf plan")
    return document, counts


def test_search_finds_titles_and_bodies_of_published_versions(library):
    assert [v.document.code for v in sop_search(query="shelf")] == ["INV-002"]
    assert [v.document.code for v in sop_search(query="blind")] == ["INV-002"]
    assert [v.document.code for v in sop_search(query="approving")] == ["AP-001"]


def test_search_leaves_out_drafts_and_respects_the_area(library):
    assert list(sop_search(query="idea")) == []
    assert list(sop_search(query="shelf", area="invoices")) == []
    assert list(sop_search(query="")) == []


@pytest.mark.postgres
def test_full_text_search_ranks_and_stems_on_postgres(library):
    assert [v.document.code for v in sop_search(query="counted shelf")] == ["INV-002"]
    assert [v.document.code for v in sop_search(query="AP-001")] == ["AP-001"]
