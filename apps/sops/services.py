"""
Writes of the SOP app: one function per use case and per version transition.

Version flow: draft → in review → published → retired. The author writes the draft and submits it;
someone else holding ``publish_sop`` reviews it (approve, or send it back with a reason) and it is
published — by the reviewer, or by anyone holding ``publish_sop`` once it has been reviewed. The
author never reviews their own version, superusers included. Publishing retires the version in
force and asks the audience to acknowledge the new one.
"""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.core import audit
from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import Notification
from apps.sops import attachments as attachment_rules
from apps.sops.models import Acknowledgement, SOPAttachment, SOPDocument, SOPVersion

Status = SOPVersion.Status

DOCUMENT_FIELDS = ("code", "title", "area", "owner", "review_interval_days", "next_review_date", "governs_area")


# --- Checks ---------------------------------------------------------------------------------------


def _require(actor, perm: str, sentence: str) -> None:
    if not actor.is_active or not actor.has_perm(perm):
        raise PermissionDenied(sentence)


def _require_publisher(actor, version: SOPVersion, doing: str) -> None:
    _require(actor, "sops.publish_sop", f"Only SOP reviewers (permission publish_sop) may {doing}.")
    if actor.pk == version.author_id:
        raise PermissionDenied(f"{version} was written by you: someone else must review it before it is published.")
    if version.reviewer_id and version.reviewed_at is None and version.reviewer_id != actor.pk:
        raise PermissionDenied(f"{version} is assigned to {version.reviewer} for review.")


def _require_author(actor, version: SOPVersion, doing: str) -> None:
    if actor.pk != version.author_id:
        raise PermissionDenied(f"Only the author of {version} ({version.author}) may {doing}.")


def _lock_version(version_id: int) -> SOPVersion:
    try:
        return SOPVersion.objects.select_for_update().select_related("document", "author").get(pk=version_id)
    except SOPVersion.DoesNotExist as exc:
        raise ValidationError({"version": f"SOP version {version_id} does not exist."}) from exc


def _clean(instance, exclude=None) -> None:
    instance.full_clean(exclude=exclude, validate_constraints=False)


def _validate_body(body: str, change_summary: str) -> None:
    errors = {}
    if not (body or "").strip():
        errors["body"] = "The body is empty: write the procedure before submitting it."
    if not (change_summary or "").strip():
        errors["change_summary"] = "Say what changed and why."
    if errors:
        raise ValidationError(errors)


# --- Documents ----------------------------------------------------------------------------------


def _check_governing(document: SOPDocument) -> None:
    if document.governs_area:
        other = (
            SOPDocument.objects.select_for_update()
            .filter(area=document.area, governs_area=True)
            .exclude(pk=document.pk)
            .first()
        )
        if other is not None:
            raise ValidationError(
                {"governs_area": f"{other.code} already governs {document.get_area_display()}: clear it there first."}
            )


@transaction.atomic
def sop_document_create(
    *,
    actor,
    code: str,
    title: str,
    area: str,
    owner=None,
    audience=(),
    review_interval_days: int = 365,
    governs_area: bool = False,
    next_review_date=None,
) -> SOPDocument:
    """Register a new SOP (its text comes as versions)."""
    _require(actor, "sops.add_sopdocument", "You may not create SOP documents.")
    document = SOPDocument(
        code=(code or "").strip().upper(),
        title=(title or "").strip(),
        area=area,
        owner=owner or actor,
        review_interval_days=review_interval_days,
        governs_area=governs_area,
        next_review_date=next_review_date,
        created_by=actor,
        updated_by=actor,
    )
    _clean(document)
    _check_governing(document)
    try:
        with transaction.atomic():
            document.save()
    except IntegrityError as exc:  # someone registered the same code or governing SOP a moment ago
        raise ValidationError(
            {"code": f"{document.code} exists already, or its area already has a governing SOP."}
        ) from exc
    document.audience.set(audience)
    return document


@transaction.atomic
def sop_document_update(*, document_id: int, actor, audience=None, **fields) -> SOPDocument:
    """Change a document's title, area, owner, audience, review interval or next review date."""
    _require(actor, "sops.change_sopdocument", "You may not change SOP documents.")
    document = SOPDocument.objects.select_for_update().get(pk=document_id)
    unknown = set(fields) - set(DOCUMENT_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in sorted(unknown)})
    if "code" in fields:
        fields["code"] = (fields["code"] or "").strip().upper()
        if fields["code"] != document.code and document.versions.exclude(status=Status.DRAFT).exists():
            raise ValidationError({"code": "The code of an SOP that has been reviewed or published never changes."})
    for name, value in fields.items():
        setattr(document, name, value)
    document.updated_by = actor
    _clean(document)
    _check_governing(document)
    document.save()
    if audience is not None:
        document.audience.set(audience)
    return document


@transaction.atomic
def sop_document_mark_reviewed(*, document_id: int, actor, reason: str = "") -> SOPDocument:
    """The periodic review found the version in force still right: the next review moves one interval on."""
    document = SOPDocument.objects.select_for_update().get(pk=document_id)
    if actor.pk != document.owner_id and not actor.has_perm("sops.publish_sop"):
        raise PermissionDenied(f"Only the owner of {document.code} or an SOP reviewer may record its review.")
    if document.current_version_id is None:
        raise TransitionNotAllowed(f"{document.code} has no published version to review: publish one first.")
    previous = document.next_review_date
    document.next_review_date = timezone.localdate() + timedelta(days=document.review_interval_days)
    document.updated_by = actor
    document.save(update_fields=["next_review_date", "updated_by", "updated_at"])
    audit.record(
        action="sop_document.reviewed",
        target=document,
        actor=actor,
        message=reason,
        data={
            "version": document.current_version_id,
            "previous_review_date": previous.isoformat() if previous else None,
            "next_review_date": document.next_review_date.isoformat(),
        },
    )
    return document


# --- Versions: writing --------------------------------------------------------------------------


@transaction.atomic
def sop_version_create(*, document_id: int, actor, change_summary: str, body: str | None = None) -> SOPVersion:
    """Start the next version of a document as a draft (by default from the text in force)."""
    _require(actor, "sops.add_sopversion", "You may not write SOP versions.")
    document = SOPDocument.objects.select_for_update().get(pk=document_id)
    open_version = SOPVersion.objects.filter(document=document, status__in=SOPVersion.OPEN).first()
    if open_version is not None:
        raise TransitionNotAllowed(
            f"{open_version} is still {open_version.get_status_display().lower()}: finish or discard it first."
        )
    if body is None:
        body = document.current_version.body if document.current_version_id else ""
    number = (SOPVersion.objects.filter(document=document).aggregate(n=Max("number"))["n"] or 0) + 1
    version = SOPVersion(
        document=document,
        number=number,
        body=body,
        change_summary=(change_summary or "").strip(),
        author=actor,
        created_by=actor,
        updated_by=actor,
    )
    _clean(version, exclude=["body"] if not body else None)
    version.save()
    return version


@transaction.atomic
def sop_version_update(
    *, version_id: int, actor, body: str | None = None, change_summary: str | None = None
) -> SOPVersion:
    """Edit a draft. Anything past draft never changes: an edit to it is a new version."""
    version = _lock_version(version_id)
    _require(actor, "sops.change_sopversion", "You may not edit SOP versions.")
    _require_author(actor, version, "edit it")
    if version.status != Status.DRAFT:
        raise TransitionNotAllowed(
            f"{version} is {version.get_status_display().lower()} and cannot change: "
            + ("send it back to draft first." if version.status == Status.IN_REVIEW else "start a new version.")
        )
    if body is not None:
        version.body = body
    if change_summary is not None:
        version.change_summary = change_summary.strip()
    version.updated_by = actor
    _clean(version, exclude=["body"] if not version.body else None)
    version.save(update_fields=["body", "change_summary", "updated_by", "updated_at"])
    return version


@transaction.atomic
def sop_version_discard(*, version_id: int, actor) -> None:
    """Throw away a draft that will not be submitted (its attachments go with it)."""
    version = _lock_version(version_id)
    if actor.pk not in (version.author_id, version.document.owner_id):
        raise PermissionDenied(f"Only the author or the owner of {version.document.code} may discard {version}.")
    if version.status != Status.DRAFT:
        raise TransitionNotAllowed(f"{version} is {version.get_status_display().lower()}; only drafts are discarded.")
    files = [attachment.file.name for attachment in version.attachments.all()]
    version.attachments.all().delete()
    audit.record(action="sop_version.discarded", target=version, actor=actor, data={"number": version.number})
    version.delete()
    transaction.on_commit(lambda: _delete_files(files))


def _delete_files(names) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)


@transaction.atomic
def sop_attachment_add(*, version_id: int, actor, uploaded) -> SOPAttachment:
    """Attach a file to a draft: a permitted type, within the size limit."""
    version = _lock_version(version_id)
    _require(actor, "sops.add_sopattachment", "You may not attach files to SOP versions.")
    _require_author(actor, version, "attach files to it")
    if version.status != Status.DRAFT:
        raise TransitionNotAllowed(f"{version} is {version.get_status_display().lower()}: its files are fixed.")
    checked = attachment_rules.check_attachment(uploaded)
    if version.attachments.filter(name=checked.name).exists():
        raise ValidationError({"file": f"{version} already has a file named {checked.name}."})
    attachment = SOPAttachment(
        version=version,
        name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        created_by=actor,
        updated_by=actor,
    )
    attachment.file.save(checked.name, uploaded, save=False)
    stored = attachment.file.name
    try:
        attachment.save()
    except Exception:
        _delete_files([stored])
        raise
    return attachment


@transaction.atomic
def sop_attachment_remove(*, attachment_id: int, actor) -> None:
    """Take a file off a draft."""
    attachment = SOPAttachment.objects.select_related("version").get(pk=attachment_id)
    version = _lock_version(attachment.version_id)
    _require(actor, "sops.delete_sopattachment", "You may not remove files from SOP versions.")
    _require_author(actor, version, "remove its files")
    if version.status != Status.DRAFT:
        raise TransitionNotAllowed(f"{version} is {version.get_status_display().lower()}: its files are fixed.")
    name = attachment.file.name
    attachment.delete()
    transaction.on_commit(lambda: _delete_files([name]))


# --- Versions: review and publishing ------------------------------------------------------------


@transaction.atomic
def sop_version_submit_review(*, version_id: int, actor, reviewer=None) -> SOPVersion:
    """The author hands a draft over for review, optionally to a named reviewer."""
    version = _lock_version(version_id)
    _require(actor, "sops.change_sopversion", "You may not submit SOP versions for review.")
    _require_author(actor, version, "submit it for review")
    if version.status != Status.DRAFT:
        raise TransitionNotAllowed(f"{version} is {version.get_status_display().lower()}, not a draft.")
    _validate_body(version.body, version.change_summary)
    if reviewer is not None:
        if reviewer.pk == version.author_id:
            raise ValidationError({"reviewer": "The reviewer must be someone other than the author."})
        if not reviewer.is_active or not reviewer.has_perm("sops.publish_sop"):
            raise ValidationError({"reviewer": f"{reviewer} may not review SOPs (permission publish_sop)."})
    version.status = Status.IN_REVIEW
    version.reviewer = reviewer
    version.submitted_at = timezone.now()
    version.reviewed_at = None
    version.updated_by = actor
    version.save(update_fields=["status", "reviewer", "submitted_at", "reviewed_at", "updated_by", "updated_at"])
    audit.record(
        action="sop_version.submitted",
        target=version,
        actor=actor,
        data={"reviewer": reviewer.pk if reviewer else None},
    )
    from apps.sops.tasks import notify_review_requested

    notify_review_requested.delay_on_commit(version.pk)
    return version


@transaction.atomic
def sop_version_request_changes(*, version_id: int, actor, reason: str) -> SOPVersion:
    """The reviewer sends a version back to its author as a draft, saying what to change."""
    version = _lock_version(version_id)
    _require_publisher(actor, version, "send SOP versions back")
    if version.status != Status.IN_REVIEW:
        raise TransitionNotAllowed(f"{version} is {version.get_status_display().lower()}, not in review.")
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say what needs to change."})
    version.status = Status.DRAFT
    version.review_comment = reason.strip()
    version.reviewed_at = None
    version.updated_by = actor
    version.save(update_fields=["status", "review_comment", "reviewed_at", "updated_by", "updated_at"])
    audit.record(action="sop_version.changes_requested", target=version, actor=actor, message=reason.strip())
    return version


def _approve(version: SOPVersion, actor, comment: str) -> None:
    version.reviewer = actor
    version.reviewed_at = timezone.now()
    if comment:
        version.review_comment = comment
    audit.record(action="sop_version.reviewed", target=version, actor=actor, message=comment)


@transaction.atomic
def sop_version_approve(*, version_id: int, actor, comment: str = "") -> SOPVersion:
    """A reviewer other than the author approves a version in review; it can then be published."""
    version = _lock_version(version_id)
    _require_publisher(actor, version, "approve SOP versions")
    if version.status != Status.IN_REVIEW:
        raise TransitionNotAllowed(f"{version} is {version.get_status_display().lower()}, not in review.")
    if version.reviewed_at is not None:
        raise TransitionNotAllowed(f"{version} was already approved by {version.reviewer}.")
    _approve(version, actor, (comment or "").strip())
    version.updated_by = actor
    version.save(update_fields=["reviewer", "reviewed_at", "review_comment", "updated_by", "updated_at"])
    return version


@transaction.atomic
def sop_version_publish(*, version_id: int, actor) -> SOPVersion:
    """Put a reviewed version in force: the one before is retired and the audience asked to read the new one.

    Publishing a version nobody has approved yet counts as its review, so only someone other than
    the author may do that.
    """
    version = _lock_version(version_id)
    _require(actor, "sops.publish_sop", "Only SOP reviewers (permission publish_sop) may publish SOP versions.")
    if version.status == Status.DRAFT:
        raise TransitionNotAllowed(f"{version} has not been reviewed: submit it for review first.")
    if version.status != Status.IN_REVIEW:
        raise TransitionNotAllowed(f"{version} is already {version.get_status_display().lower()}.")
    if version.reviewed_at is None:
        _require_publisher(actor, version, "publish SOP versions")
        _approve(version, actor, "")
    document = SOPDocument.objects.select_for_update().get(pk=version.document_id)
    now = timezone.now()
    previous = SOPVersion.objects.select_for_update().filter(document=document, status=Status.PUBLISHED).first()
    if previous is not None:
        previous.status = Status.RETIRED
        previous.retired_at = now
        previous.retired_by = actor
        previous.retired_reason = f"Replaced by v{version.number}."
        previous.updated_by = actor
        previous.save(
            update_fields=["status", "retired_at", "retired_by", "retired_reason", "updated_by", "updated_at"]
        )
    version.status = Status.PUBLISHED
    version.published_at = now
    version.published_by = actor
    version.updated_by = actor
    version.save(
        update_fields=[
            "status",
            "reviewer",
            "reviewed_at",
            "review_comment",
            "published_at",
            "published_by",
            "updated_by",
            "updated_at",
        ]
    )
    document.current_version = version
    document.next_review_date = timezone.localdate() + timedelta(days=document.review_interval_days)
    document.updated_by = actor
    document.save(update_fields=["current_version", "next_review_date", "updated_by", "updated_at"])
    audit.record(
        action="sop_version.published",
        target=version,
        actor=actor,
        data={
            "document": document.code,
            "number": version.number,
            "reviewer": version.reviewer_id,
            "author": version.author_id,
            "retired": previous.pk if previous else None,
        },
    )
    from apps.sops.tasks import notify_audience

    notify_audience.delay_on_commit(version.pk)
    return version


@transaction.atomic
def sop_version_retire(*, version_id: int, actor, reason: str) -> SOPVersion:
    """Withdraw the version in force without a successor: the SOP no longer governs anything."""
    version = _lock_version(version_id)
    _require(actor, "sops.publish_sop", "Only SOP reviewers (permission publish_sop) may retire SOP versions.")
    if version.status != Status.PUBLISHED:
        raise TransitionNotAllowed(
            f"{version} is {version.get_status_display().lower()}; only the version in force is retired."
        )
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the SOP is withdrawn."})
    document = SOPDocument.objects.select_for_update().get(pk=version.document_id)
    version.status = Status.RETIRED
    version.retired_at = timezone.now()
    version.retired_by = actor
    version.retired_reason = reason.strip()[:500]
    version.updated_by = actor
    version.save(update_fields=["status", "retired_at", "retired_by", "retired_reason", "updated_by", "updated_at"])
    document.current_version = None
    document.next_review_date = None
    document.updated_by = actor
    document.save(update_fields=["current_version", "next_review_date", "updated_by", "updated_at"])
    audit.record(action="sop_version.retired", target=version, actor=actor, message=version.retired_reason)
    return version


# --- Acknowledgements ---------------------------------------------------------------------------


@transaction.atomic
def sop_version_acknowledge(*, version_id: int, actor) -> tuple[Acknowledgement, bool]:
    """The person confirms they have read the version in force. Doing it twice changes nothing.

    Returns the acknowledgement and whether it was new.
    """
    version = _lock_version(version_id)
    _require(actor, "sops.add_acknowledgement", "You may not acknowledge SOPs.")
    if version.status != Status.PUBLISHED:
        current = version.document.current_version_id
        hint = " Read the version in force instead." if current else ""
        raise TransitionNotAllowed(f"{version} is {version.get_status_display().lower()}, not in force.{hint}")
    acknowledgement, created = Acknowledgement.objects.get_or_create(
        version=version,
        user=actor,
        defaults={"acknowledged_at": timezone.now(), "created_by": actor, "updated_by": actor},
    )
    if created:
        audit.record(action="sop_version.acknowledged", target=version, actor=actor)
    return acknowledgement, created


# --- Notifications ------------------------------------------------------------------------------


def _notify(user_ids, *, title: str, url: str, body: str = "") -> int:
    already = set(
        Notification.objects.filter(recipient_id__in=user_ids, title=title, url=url).values_list(
            "recipient_id", flat=True
        )
    )
    fresh = [Notification(recipient_id=uid, title=title, url=url, body=body) for uid in user_ids if uid not in already]
    Notification.objects.bulk_create(fresh)
    return len(fresh)


@transaction.atomic
def sop_version_notify_audience(*, version_id: int) -> int:
    """Tell each audience member who has not read the new version yet. Safe to run twice."""
    from apps.sops.selectors import audience_user_ids

    version = SOPVersion.objects.select_related("document").get(pk=version_id)
    if version.status != Status.PUBLISHED:
        return 0
    groups = audience_user_ids(document_ids=[version.document_id]).get(version.document_id, {})
    audience = set().union(*groups.values()) if groups else set()
    readers = set(Acknowledgement.objects.filter(version=version).values_list("user_id", flat=True))
    return _notify(
        sorted(audience - readers),
        title=f"New SOP version in force: {version} {version.document.title}. Please read and acknowledge it.",
        url=version.get_absolute_url(),
        body=version.change_summary,
    )


@transaction.atomic
def sop_version_notify_reviewers(*, version_id: int) -> int:
    """Tell the assigned reviewer (or every reviewer but the author) that a version waits for review."""
    from apps.sops.selectors import sop_publishers

    version = SOPVersion.objects.select_related("document").get(pk=version_id)
    if version.status != Status.IN_REVIEW:
        return 0
    if version.reviewer_id:
        recipients = [version.reviewer_id]
    else:
        recipients = list(sop_publishers().exclude(pk=version.author_id).values_list("pk", flat=True))
    return _notify(
        recipients,
        title=f"SOP {version} {version.document.title} waits for your review.",
        url=version.get_absolute_url(),
        body=version.change_summary,
    )
