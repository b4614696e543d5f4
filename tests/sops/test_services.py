"""SOP services: who may do what to a version, in which state, and what each transition leaves behind."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import AuditEvent, Notification
from apps.sops import services
from apps.sops.models import Acknowledgement, SOPDocument, SOPVersion
from apps.sops.selectors import sop_compliance, sop_version_in_force

Status = SOPVersion.Status


# --- Documents -------------------------------------------------------------------------------------


def test_create_document_normalises_the_code_and_sets_audience(author, role_groups):
    document = services.sop_document_create(
        actor=author, code=" ap-010 ", title="Payment runs", area="invoices", audience=[role_groups["approver"]]
    )
    assert document.code == "AP-010"
    assert document.owner == author
    assert list(document.audience.all()) == [role_groups["approver"]]


@pytest.mark.parametrize("code", ["AP3", "ap_003", "-003", "TOOLONGPREFIX-001", "AP-03"])
def test_create_document_refuses_a_malformed_code(author, code):
    with pytest.raises(ValidationError) as error:
        services.sop_document_create(actor=author, code=code, title="X", area="invoices")
    assert "code" in error.value.message_dict


def test_create_document_refuses_an_unknown_area_and_out_of_range_interval(author):
    with pytest.raises(ValidationError) as error:
        services.sop_document_create(actor=author, code="AP-011", title="X", area="payroll", review_interval_days=3)
    assert {"area", "review_interval_days"} <= set(error.value.message_dict)


@pytest.mark.parametrize("days,ok", [(6, False), (7, True), (1095, True), (1096, False)])
def test_review_interval_boundaries(author, days, ok):
    if ok:
        assert (
            services.sop_document_create(
                actor=author, code="AP-012", title="X", area="invoices", review_interval_days=days
            ).review_interval_days
            == days
        )
    else:
        with pytest.raises(ValidationError):
            services.sop_document_create(
                actor=author, code="AP-012", title="X", area="invoices", review_interval_days=days
            )


def test_only_sop_owners_create_documents(associate, make_user):
    for person in (associate, make_user("auditor")):
        with pytest.raises(PermissionDenied, match="may not create SOP documents"):
            services.sop_document_create(actor=person, code="AP-020", title="X", area="invoices")


def test_one_governing_document_per_area(document, author):
    with pytest.raises(ValidationError) as error:
        services.sop_document_create(actor=author, code="AP-002", title="X", area="invoices", governs_area=True)
    assert "AP-001 already governs Invoices" in error.value.message_dict["governs_area"][0]
    # another area is fine
    services.sop_document_create(actor=author, code="RF-001", title="Refunds", area="refunds", governs_area=True)


def test_one_governing_document_per_area_holds_in_the_database(document, author):
    other = SOPDocument.objects.create(code="AP-002", title="X", area="invoices", owner=author)
    with pytest.raises(IntegrityError), transaction.atomic():
        SOPDocument.objects.filter(pk=other.pk).update(governs_area=True)


def test_code_of_a_reviewed_sop_never_changes(document, in_review, author):
    with pytest.raises(ValidationError) as error:
        services.sop_document_update(document_id=document.pk, actor=author, code="AP-099")
    assert "never changes" in error.value.message_dict["code"][0]
    updated = services.sop_document_update(document_id=document.pk, actor=author, title="Invoice approval")
    assert updated.title == "Invoice approval"


# --- Writing versions -------------------------------------------------------------------------------


def test_versions_are_numbered_and_start_from_the_text_in_force(document, publish, author):
    first = publish(document, body="# One\n")
    second = services.sop_version_create(document_id=document.pk, actor=author, change_summary="Next.")
    assert (first.number, second.number) == (1, 2)
    assert second.body == "# One\n"
    assert second.status == Status.DRAFT and second.author == author


def test_only_one_open_version_per_document(draft, document, author):
    with pytest.raises(TransitionNotAllowed, match="AP-001 v1 is still draft"):
        services.sop_version_create(document_id=document.pk, actor=author, change_summary="Another.")


def test_one_open_version_holds_in_the_database(draft, author):
    with pytest.raises(IntegrityError), transaction.atomic():
        SOPVersion.objects.create(document=draft.document, number=2, body="x", change_summary="x", author=author)


def test_associates_do_not_write_versions(document, associate):
    with pytest.raises(PermissionDenied):
        services.sop_version_create(document_id=document.pk, actor=associate, change_summary="x", body="x")


def test_the_author_edits_a_draft(draft, author):
    updated = services.sop_version_update(version_id=draft.pk, actor=author, body="# New\n", change_summary="Better.")
    assert (updated.body, updated.change_summary) == ("# New\n", "Better.")


def test_someone_else_may_not_edit_the_authors_draft(draft, reviewer, make_user):
    for person in (reviewer, make_user(None, is_superuser=True)):
        with pytest.raises(PermissionDenied, match="Only the author"):
            services.sop_version_update(version_id=draft.pk, actor=person, body="mine now")


def test_a_version_in_review_or_published_never_changes(in_review, author, reviewer):
    with pytest.raises(TransitionNotAllowed, match="send it back to draft first"):
        services.sop_version_update(version_id=in_review.pk, actor=author, body="x")
    services.sop_version_publish(version_id=in_review.pk, actor=reviewer)
    with pytest.raises(TransitionNotAllowed, match="start a new version"):
        services.sop_version_update(version_id=in_review.pk, actor=author, body="x")
    assert SOPVersion.objects.get(pk=in_review.pk).body == "# Approve\n\n1. Check the match.\n"


def test_hostile_body_is_stored_as_written(document, author):
    body = '<script>alert("x")</script>\n<img src=x onerror=alert(1)>'
    version = services.sop_version_create(document_id=document.pk, actor=author, change_summary="x", body=body)
    assert SOPVersion.objects.get(pk=version.pk).body == body


def test_discarding_a_draft(draft, author, reviewer):
    with pytest.raises(PermissionDenied):
        services.sop_version_discard(version_id=draft.pk, actor=reviewer)
    services.sop_version_discard(version_id=draft.pk, actor=author)
    assert not SOPVersion.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.filter(action="sop_version.discarded").exists()


def test_only_drafts_are_discarded(in_review, author):
    with pytest.raises(TransitionNotAllowed, match="only drafts are discarded"):
        services.sop_version_discard(version_id=in_review.pk, actor=author)


# --- Review ------------------------------------------------------------------------------------------


def test_submit_for_review(draft, author, reviewer):
    version = services.sop_version_submit_review(version_id=draft.pk, actor=author, reviewer=reviewer)
    assert version.status == Status.IN_REVIEW and version.reviewer == reviewer and version.submitted_at
    event = AuditEvent.objects.get(action="sop_version.submitted")
    assert event.actor == author and event.data == {"reviewer": reviewer.pk}


def test_submit_refuses_an_empty_body(document, author):
    version = services.sop_version_create(document_id=document.pk, actor=author, change_summary="x", body="")
    with pytest.raises(ValidationError) as error:
        services.sop_version_submit_review(version_id=version.pk, actor=author)
    assert set(error.value.message_dict) == {"body"}


def test_a_draft_keeps_a_change_summary(draft, author):
    with pytest.raises(ValidationError) as error:
        services.sop_version_update(version_id=draft.pk, actor=author, change_summary=" ")
    assert "change_summary" in error.value.message_dict


def test_only_the_author_submits(draft, reviewer):
    with pytest.raises(PermissionDenied, match="Only the author"):
        services.sop_version_submit_review(version_id=draft.pk, actor=reviewer)


def test_the_author_cannot_be_the_reviewer(draft, author):
    with pytest.raises(ValidationError) as error:
        services.sop_version_submit_review(version_id=draft.pk, actor=author, reviewer=author)
    assert "someone other than the author" in error.value.message_dict["reviewer"][0]


def test_the_reviewer_must_be_allowed_to_publish(draft, author, associate):
    with pytest.raises(ValidationError) as error:
        services.sop_version_submit_review(version_id=draft.pk, actor=author, reviewer=associate)
    assert "publish_sop" in error.value.message_dict["reviewer"][0]


def test_submitting_twice_is_refused(in_review, author):
    with pytest.raises(TransitionNotAllowed, match="not a draft"):
        services.sop_version_submit_review(version_id=in_review.pk, actor=author)


def test_the_author_may_not_approve_their_own_version_superuser_or_not(document, make_user):
    boss = make_user(None, is_superuser=True)
    version = services.sop_version_create(document_id=document.pk, actor=boss, change_summary="x", body="# x")
    services.sop_version_submit_review(version_id=version.pk, actor=boss)
    with pytest.raises(PermissionDenied, match="someone else must review it"):
        services.sop_version_approve(version_id=version.pk, actor=boss)
    with pytest.raises(PermissionDenied, match="someone else must review it"):
        services.sop_version_publish(version_id=version.pk, actor=boss)
    assert SOPVersion.objects.get(pk=version.pk).status == Status.IN_REVIEW


def test_reviewing_needs_publish_sop(in_review, associate, make_user):
    for person in (associate, make_user("approver"), make_user("auditor")):
        with pytest.raises(PermissionDenied, match="publish_sop"):
            services.sop_version_approve(version_id=in_review.pk, actor=person)


def test_an_assigned_review_is_for_the_assigned_reviewer(draft, author, reviewer, make_user):
    services.sop_version_submit_review(version_id=draft.pk, actor=author, reviewer=reviewer)
    other = make_user("sop_owner")
    with pytest.raises(PermissionDenied, match="assigned to"):
        services.sop_version_approve(version_id=draft.pk, actor=other)
    approved = services.sop_version_approve(version_id=draft.pk, actor=reviewer, comment="Clear.")
    assert approved.reviewed_at and approved.reviewer == reviewer and approved.review_comment == "Clear."


def test_approving_twice_or_a_draft_is_refused(draft, author, reviewer):
    with pytest.raises(TransitionNotAllowed, match="not in review"):
        services.sop_version_approve(version_id=draft.pk, actor=reviewer)
    services.sop_version_submit_review(version_id=draft.pk, actor=author)
    services.sop_version_approve(version_id=draft.pk, actor=reviewer)
    with pytest.raises(TransitionNotAllowed, match="already approved"):
        services.sop_version_approve(version_id=draft.pk, actor=reviewer)


def test_request_changes_sends_the_version_back_with_the_reason(in_review, author, reviewer):
    with pytest.raises(ValidationError) as error:
        services.sop_version_request_changes(version_id=in_review.pk, actor=reviewer, reason="  ")
    assert "reason" in error.value.message_dict
    version = services.sop_version_request_changes(version_id=in_review.pk, actor=reviewer, reason="Add step 3.")
    assert version.status == Status.DRAFT and version.review_comment == "Add step 3."
    services.sop_version_update(version_id=version.pk, actor=author, body="# Approve\n\n1. a\n2. b\n3. c\n")


# --- Publishing ----------------------------------------------------------------------------------------


def test_publishing_without_a_review_is_refused(draft, reviewer):
    with pytest.raises(TransitionNotAllowed, match="submit it for review first"):
        services.sop_version_publish(version_id=draft.pk, actor=reviewer)


def test_the_reviewer_publishes_and_becomes_the_recorded_reviewer(in_review, reviewer, document):
    version = services.sop_version_publish(version_id=in_review.pk, actor=reviewer)
    assert version.status == Status.PUBLISHED
    assert version.reviewer == reviewer and version.reviewed_at and version.published_by == reviewer
    document.refresh_from_db()
    assert document.current_version == version
    assert document.next_review_date == timezone.localdate() + timedelta(days=180)
    event = AuditEvent.objects.get(action="sop_version.published")
    assert event.data["reviewer"] == reviewer.pk and event.data["author"] == version.author_id


def test_the_author_publishes_once_someone_else_approved(in_review, author, reviewer):
    services.sop_version_approve(version_id=in_review.pk, actor=reviewer)
    version = services.sop_version_publish(version_id=in_review.pk, actor=author)
    assert version.status == Status.PUBLISHED and version.published_by == author and version.reviewer == reviewer


def test_publishing_retires_the_version_in_force(document, publish):
    first = publish(document, body="# v1\n")
    second = publish(document, body="# v2\n")
    first.refresh_from_db()
    assert first.status == Status.RETIRED and first.retired_at == second.published_at
    assert first.retired_reason == "Replaced by v2."
    assert SOPVersion.objects.filter(document=document, status=Status.PUBLISHED).get() == second


def test_a_published_version_cannot_be_published_again(document, publish, reviewer):
    version = publish(document)
    with pytest.raises(TransitionNotAllowed, match="already published"):
        services.sop_version_publish(version_id=version.pk, actor=reviewer)


def test_publishing_asks_the_audience_after_commit(in_review, reviewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.sop_version_publish(version_id=in_review.pk, actor=reviewer)
    assert len(callbacks) == 1


def test_the_database_refuses_a_published_version_without_a_review(document, author):
    with pytest.raises(IntegrityError), transaction.atomic():
        SOPVersion.objects.create(
            document=document,
            number=1,
            body="x",
            change_summary="x",
            author=author,
            status=Status.PUBLISHED,
            published_at=timezone.now(),
        )


def test_the_database_refuses_the_author_as_reviewer(document, author):
    with pytest.raises(IntegrityError), transaction.atomic():
        SOPVersion.objects.create(
            document=document, number=1, body="x", change_summary="x", author=author, reviewer=author
        )


def test_retire_withdraws_the_sop(document, publish, reviewer):
    version = publish(document)
    with pytest.raises(ValidationError):
        services.sop_version_retire(version_id=version.pk, actor=reviewer, reason="")
    retired = services.sop_version_retire(version_id=version.pk, actor=reviewer, reason="Process outsourced.")
    document.refresh_from_db()
    assert retired.status == Status.RETIRED and retired.retired_reason == "Process outsourced."
    assert document.current_version is None and document.next_review_date is None
    assert sop_version_in_force(area="invoices") is None
    with pytest.raises(TransitionNotAllowed):
        services.sop_version_retire(version_id=version.pk, actor=reviewer, reason="again")


def test_retire_needs_publish_sop(document, publish, associate):
    version = publish(document)
    with pytest.raises(PermissionDenied):
        services.sop_version_retire(version_id=version.pk, actor=associate, reason="x")


# --- Periodic review -----------------------------------------------------------------------------------


def test_mark_reviewed_moves_the_next_review_one_interval_on(document, publish, author):
    publish(document)
    SOPDocument.objects.filter(pk=document.pk).update(next_review_date=timezone.localdate() - timedelta(days=3))
    updated = services.sop_document_mark_reviewed(document_id=document.pk, actor=author, reason="Still right.")
    assert updated.next_review_date == timezone.localdate() + timedelta(days=180)
    event = AuditEvent.objects.get(action="sop_document.reviewed")
    assert event.message == "Still right." and event.data["version"] == updated.current_version_id


def test_mark_reviewed_needs_a_published_version_and_the_owner_or_a_reviewer(document, publish, associate):
    with pytest.raises(TransitionNotAllowed, match="no published version"):
        services.sop_document_mark_reviewed(document_id=document.pk, actor=document.owner)
    publish(document)
    with pytest.raises(PermissionDenied):
        services.sop_document_mark_reviewed(document_id=document.pk, actor=associate)


# --- Acknowledgements ----------------------------------------------------------------------------------


def test_acknowledge_once_then_again_changes_nothing(document, publish, associate):
    version = publish(document)
    first, created = services.sop_version_acknowledge(version_id=version.pk, actor=associate)
    second, created_again = services.sop_version_acknowledge(version_id=version.pk, actor=associate)
    assert created and not created_again and first.pk == second.pk
    assert AuditEvent.objects.filter(action="sop_version.acknowledged", actor=associate).count() == 1


def test_only_the_version_in_force_is_acknowledged(document, publish, associate):
    old = publish(document, body="# v1")
    publish(document, body="# v2")
    with pytest.raises(TransitionNotAllowed, match=r"retired, not in force\. Read the version in force instead\."):
        services.sop_version_acknowledge(version_id=old.pk, actor=associate)


def test_a_draft_is_not_acknowledged(draft, associate):
    with pytest.raises(TransitionNotAllowed, match="draft, not in force"):
        services.sop_version_acknowledge(version_id=draft.pk, actor=associate)


def test_auditors_do_not_acknowledge(document, publish, make_user):
    version = publish(document)
    with pytest.raises(PermissionDenied, match="may not acknowledge"):
        services.sop_version_acknowledge(version_id=version.pk, actor=make_user("auditor"))
    assert not Acknowledgement.objects.exists()


def test_a_new_version_resets_acknowledgements(document, publish, associate, make_user):
    colleague = make_user("associate")
    first = publish(document, body="# v1")
    services.sop_version_acknowledge(version_id=first.pk, actor=associate)
    services.sop_version_acknowledge(version_id=first.pk, actor=colleague)
    document.refresh_from_db()
    assert sop_compliance(documents=[document])[document.pk].percent == 100

    second = publish(document, body="# v2")
    document.refresh_from_db()
    compliance = sop_compliance(documents=[document])[document.pk]
    assert compliance.version_id == second.pk
    assert compliance.percent == 0 and compliance.missing == {associate.pk, colleague.pk}

    services.sop_version_acknowledge(version_id=second.pk, actor=associate)
    assert sop_compliance(documents=[document])[document.pk].percent == 50
    assert Acknowledgement.objects.filter(version=first).count() == 2  # the old ones stay on record


def test_publishing_notifies_the_audience_once(document, publish, associate, make_user):
    reader_who_read = make_user("associate")
    version = publish(document)
    services.sop_version_acknowledge(version_id=version.pk, actor=reader_who_read)
    assert services.sop_version_notify_audience(version_id=version.pk) == 1
    assert services.sop_version_notify_audience(version_id=version.pk) == 0
    note = Notification.objects.get(recipient=associate)
    assert "AP-001 v1" in note.title and note.url == f"/admin/sops/sopversion/{version.pk}/read/"
    assert not Notification.objects.filter(recipient=reader_who_read).exists()


def test_submitting_notifies_the_reviewers_but_not_the_author(in_review, author, reviewer):
    assert services.sop_version_notify_reviewers(version_id=in_review.pk) == 1
    assert Notification.objects.get(recipient=reviewer).title.startswith("SOP AP-001 v1")
    assert not Notification.objects.filter(recipient=author).exists()


def test_changes_are_on_the_record_trail(in_review, reviewer):
    from auditlog.models import LogEntry

    services.sop_version_publish(version_id=in_review.pk, actor=reviewer)
    entries = LogEntry.objects.filter(object_pk=str(in_review.pk), content_type__model="sopversion")
    entry = entries.order_by("timestamp", "id").last()
    assert entry.changes["status"] == ["in_review", "published"]


def test_the_notification_tasks_run_the_services(in_review, reviewer, associate):
    from apps.sops.tasks import notify_audience, notify_review_requested

    assert notify_review_requested.apply(args=[in_review.pk]).get() == 1
    services.sop_version_publish(version_id=in_review.pk, actor=reviewer)
    assert notify_audience.apply(args=[in_review.pk]).get() == 1
    assert notify_audience.apply(args=[in_review.pk]).get() == 0  # safe to run twice
