"""
Reads of the SOP app: the version in force, compliance, search and what is due.

The SOP version in force — how other apps record which procedure governed a decision
---------------------------------------------------------------------------------
Each area (``invoices``, ``refunds``, ``inventory``, ``vendors``, ``general``) has at most one
governing SOP document (``SOPDocument.governs_area``). Its published version is the one in force.
An app that approves something stores that version on the record, in the same transaction as the
approval::

    # models.py
    from apps.sops.fields import sop_version_field

    class Invoice(BaseModel):
        ...
        sop_version = sop_version_field()  # FK to sops.SOPVersion, null, PROTECT, not editable

    # services.py, inside the @transaction.atomic approval service
    from apps.sops.selectors import sop_version_in_force

    invoice.sop_version = sop_version_in_force(area="invoices")
    invoice.save(update_fields=[..., "sop_version", "updated_at"])
    audit.record(action="invoice.approved", target=invoice, actor=actor,
                 data={"sop_version": invoice.sop_version_id})

``sop_version_in_force(area=..., at=<datetime>)`` answers for a past moment too (the version
published before ``at`` and not retired by then). It returns ``None`` when the area has no
governing SOP or nothing was published yet: an approval then stores ``None`` rather than failing.
Pass ``code="AP-003"`` to ask for a specific document instead of the area's governing one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.sops.models import Acknowledgement, Area, SOPDocument, SOPVersion

User = get_user_model()

# --- The version in force ---------------------------------------------------------------------


def sop_version_in_force(*, area: str, at: datetime | None = None, code: str | None = None) -> SOPVersion | None:
    """The published version governing ``area`` at ``at`` (default now), with its document; one query."""
    if area not in Area.values:
        raise ValueError(f"Unknown SOP area {area!r}; expected one of {', '.join(Area.values)}.")
    at = at or timezone.now()
    versions = SOPVersion.objects.select_related("document").filter(
        document__area=area,
        status__in=[SOPVersion.Status.PUBLISHED, SOPVersion.Status.RETIRED],
        published_at__lte=at,
    )
    versions = versions.filter(Q(retired_at__isnull=True) | Q(retired_at__gt=at))
    versions = versions.filter(document__code=code) if code else versions.filter(document__governs_area=True)
    return versions.order_by("-published_at", "-pk").first()


# --- Documents and versions -------------------------------------------------------------------


def sop_document_list() -> QuerySet[SOPDocument]:
    return SOPDocument.objects.select_related("owner", "current_version").prefetch_related("audience")


def sop_version_history(*, document_id: int) -> QuerySet[SOPVersion]:
    return (
        SOPVersion.objects.filter(document_id=document_id)
        .select_related("author", "reviewer", "published_by")
        .order_by("-number")
    )


def sop_version_previous(*, version: SOPVersion) -> SOPVersion | None:
    return (
        SOPVersion.objects.filter(document_id=version.document_id, number__lt=version.number)
        .order_by("-number")
        .first()
    )


def sop_open_version(*, document_id: int) -> SOPVersion | None:
    """The draft or in-review version of a document, if one is being worked on."""
    return SOPVersion.objects.filter(document_id=document_id, status__in=SOPVersion.OPEN).first()


# --- Audience and compliance ------------------------------------------------------------------


def audience_user_ids(*, document_ids) -> dict[int, dict[int, set[int]]]:
    """For each document, its audience groups and their active members: ``{doc: {group: {user}}}``."""
    Through = SOPDocument.audience.through
    pairs = list(
        Through.objects.filter(sopdocument_id__in=list(document_ids)).values_list("sopdocument_id", "group_id")
    )
    group_ids = {group_id for _, group_id in pairs}
    members: dict[int, set[int]] = defaultdict(set)
    for group_id, user_id in User.groups.through.objects.filter(
        group_id__in=group_ids, user__is_active=True
    ).values_list("group_id", "user_id"):
        members[group_id].add(user_id)
    result: dict[int, dict[int, set[int]]] = defaultdict(dict)
    for document_id, group_id in pairs:
        result[document_id][group_id] = members.get(group_id, set())
    return result


@dataclass
class Compliance:
    """Who of a document's audience acknowledged its published version."""

    document_id: int
    version_id: int | None
    audience: set[int] = field(default_factory=set)
    acknowledged: set[int] = field(default_factory=set)
    by_group: dict[int, set[int]] = field(default_factory=dict)

    @property
    def audience_count(self) -> int:
        return len(self.audience)

    @property
    def acknowledged_count(self) -> int:
        return len(self.audience & self.acknowledged)

    @property
    def missing(self) -> set[int]:
        return self.audience - self.acknowledged

    @property
    def percent(self) -> int | None:
        """Whole percent acknowledged (rounded down: 99 until everyone has read it); None without audience."""
        if self.version_id is None or not self.audience:
            return None
        return self.acknowledged_count * 100 // self.audience_count

    def group_percent(self, group_id: int) -> int | None:
        members = self.by_group.get(group_id, set())
        if self.version_id is None or not members:
            return None
        return len(members & self.acknowledged) * 100 // len(members)


def sop_compliance(*, documents) -> dict[int, Compliance]:
    """Compliance of each given document (instances with ``current_version_id``), in three queries."""
    documents = list(documents)
    audiences = audience_user_ids(document_ids=[d.pk for d in documents])
    version_ids = [d.current_version_id for d in documents if d.current_version_id]
    acknowledged: dict[int, set[int]] = defaultdict(set)
    for version_id, user_id in Acknowledgement.objects.filter(version_id__in=version_ids).values_list(
        "version_id", "user_id"
    ):
        acknowledged[version_id].add(user_id)
    result = {}
    for document in documents:
        by_group = audiences.get(document.pk, {})
        result[document.pk] = Compliance(
            document_id=document.pk,
            version_id=document.current_version_id,
            audience=set().union(*by_group.values()) if by_group else set(),
            acknowledged=acknowledged.get(document.current_version_id, set()),
            by_group=by_group,
        )
    return result


@dataclass
class ComplianceRow:
    document: SOPDocument
    compliance: Compliance
    groups: list[tuple[str, int, int, int | None]]  # (group name, members, acknowledged, percent)
    missing_users: list


def sop_compliance_report(*, area: str | None = None, document_id: int | None = None) -> list[ComplianceRow]:
    """Per published SOP: % of its audience that acknowledged the version in force, per group, and who is missing."""
    from django.contrib.auth.models import Group

    documents = sop_document_list().filter(current_version__isnull=False).order_by("code")
    if area:
        documents = documents.filter(area=area)
    if document_id:
        documents = documents.filter(pk=document_id)
    documents = list(documents)
    compliance = sop_compliance(documents=documents)
    group_names = dict(Group.objects.values_list("pk", "name"))
    missing_ids = set().union(*(c.missing for c in compliance.values())) if compliance else set()
    users = User.objects.filter(pk__in=missing_ids).order_by("username").in_bulk()
    rows = []
    for document in documents:
        c = compliance[document.pk]
        groups = sorted(
            (
                (group_names.get(gid, str(gid)), len(members), len(members & c.acknowledged), c.group_percent(gid))
                for gid, members in c.by_group.items()
            ),
            key=lambda row: row[0],
        )
        missing = sorted((users[uid] for uid in c.missing if uid in users), key=lambda u: u.username)
        rows.append(ComplianceRow(document=document, compliance=c, groups=groups, missing_users=missing))
    return rows


def sop_is_in_audience(*, document: SOPDocument, user) -> bool:
    return document.audience.filter(pk__in=user.groups.values("pk")).exists()


def sop_acknowledgement_of(*, version_id: int, user) -> Acknowledgement | None:
    return Acknowledgement.objects.filter(version_id=version_id, user=user).first()


# --- Search -------------------------------------------------------------------------------------


def sop_search(*, query: str, area: str | None = None) -> QuerySet[SOPVersion]:
    """Published versions whose document title, code or body match ``query``, best first.

    Full-text search with ranking on PostgreSQL; every word must appear (case-insensitive) elsewhere.
    """
    query = (query or "").strip()
    versions = SOPVersion.objects.filter(status=SOPVersion.Status.PUBLISHED).select_related(
        "document", "document__owner"
    )
    if area:
        versions = versions.filter(document__area=area)
    if not query:
        return versions.none()
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = (
            SearchVector("document__code", weight="A", config="english")
            + SearchVector("document__title", weight="A", config="english")
            + SearchVector("body", weight="B", config="english")
        )
        search = SearchQuery(query, search_type="websearch", config="english")
        code_match = Q(document__code__iexact=query)
        return (
            versions.annotate(document_text=vector, rank=SearchRank(vector, search))
            .filter(Q(document_text=search) | code_match)
            .order_by("-rank", "document__code")
        )
    condition = Q()
    for word in query.split()[:10]:
        condition &= Q(document__code__icontains=word) | Q(document__title__icontains=word) | Q(body__icontains=word)
    return versions.filter(condition).order_by("document__code")


# --- What is due (reminders) --------------------------------------------------------------------


def reminder_days(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def sop_reviews_due(*, today: date, within_days: int) -> QuerySet[SOPDocument]:
    """Published SOPs whose periodic review falls on or before ``today + within_days`` (overdue included)."""
    return SOPDocument.objects.filter(
        current_version__isnull=False, next_review_date__lte=today + timedelta(days=within_days)
    ).select_related("owner")


def sop_reviews_waiting(*, since: datetime) -> QuerySet[SOPVersion]:
    """Versions submitted for review before ``since`` and still in review."""
    return SOPVersion.objects.filter(status=SOPVersion.Status.IN_REVIEW, submitted_at__lte=since).select_related(
        "document", "reviewer", "author"
    )


def sop_publishers() -> QuerySet:
    """Active people who may review and publish SOP versions (through a group or directly, or superusers)."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(groups__permissions__codename="publish_sop", groups__permissions__content_type__app_label="sops")
            | Q(user_permissions__codename="publish_sop", user_permissions__content_type__app_label="sops")
        )
        .distinct()
    )


def sop_unacknowledged(*, published_before: datetime) -> dict[int, list[int]]:
    """Published versions (out longer than the grace period) and the audience members who have not read them."""
    versions = list(
        SOPVersion.objects.filter(status=SOPVersion.Status.PUBLISHED, published_at__lte=published_before).values_list(
            "pk", "document_id"
        )
    )
    audiences = audience_user_ids(document_ids=[doc for _, doc in versions])
    acknowledged: dict[int, set[int]] = defaultdict(set)
    for version_id, user_id in Acknowledgement.objects.filter(version_id__in=[v for v, _ in versions]).values_list(
        "version_id", "user_id"
    ):
        acknowledged[version_id].add(user_id)
    result = {}
    for version_id, document_id in versions:
        groups = audiences.get(document_id, {})
        audience = set().union(*groups.values()) if groups else set()
        missing = sorted(audience - acknowledged[version_id])
        if missing:
            result[version_id] = missing
    return result


def sop_versions_to_acknowledge(*, user) -> QuerySet[SOPVersion]:
    """Published versions of SOPs whose audience includes ``user`` and that ``user`` has not acknowledged yet."""
    audience_documents = SOPDocument.objects.filter(audience__in=user.groups.all()).values("pk")
    return SOPVersion.objects.filter(status=SOPVersion.Status.PUBLISHED, document__in=audience_documents).exclude(
        acknowledgements__user=user
    )
