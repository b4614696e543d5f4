"""
Demo SOPs: thirty procedures across the five areas, each with a few versions, some due for
review, some with a draft or a version in review, and partial acknowledgements by the demo users.

Idempotent: a document whose code exists is left as it is. The rules hold in the data: the
reviewer is never the author, one published version per SOP, the versions before it retired.
"""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from apps.core import roles
from apps.sops.models import Acknowledgement, Area, SOPDocument, SOPVersion

# (code, title, area, audience roles, steps)
CATALOGUE = [
    (
        "AP-001",
        "Vendor invoice approval",
        Area.INVOICES,
        "invoice",
        ["Check the invoice is matched or its exception resolved", "Confirm the amount is within your limit"],
    ),
    ("AP-002", "Two- and three-way matching", Area.INVOICES, "invoice", ["Compare each line with the PO and receipts"]),
    ("AP-003", "Duplicate invoice review", Area.INVOICES, "invoice", ["Open the flagged pair side by side"]),
    ("AP-004", "Payment run scheduling", Area.INVOICES, "invoice", ["Select approved invoices due in the run window"]),
    ("AP-005", "Credit memo handling", Area.INVOICES, "invoice", ["Link the memo to the original invoice"]),
    ("AP-006", "Invoice exception queue", Area.INVOICES, "invoice", ["Work the queue oldest first by reason code"]),
    ("RF-001", "Refund approval", Area.REFUNDS, "refund", ["Check the order was paid and not already refunded"]),
    ("RF-002", "Chargeback evidence", Area.REFUNDS, "refund", ["Collect proof of delivery before the due date"]),
    ("RF-003", "Returns and RMA disposition", Area.REFUNDS, "refund", ["Inspect the goods and choose a disposition"]),
    ("RF-004", "Store credit issuance", Area.REFUNDS, "refund", ["Issue credit in the order's currency"]),
    ("RF-005", "Return window and policy checks", Area.REFUNDS, "refund", ["Refuse returns outside the window"]),
    ("RF-006", "Refund case aging follow-up", Area.REFUNDS, "refund", ["Review cases open more than 30 days"]),
    ("INV-001", "Count variance approval", Area.INVENTORY, "inventory", ["Approve only counts you did not count"]),
    ("INV-002", "Blind cycle counting", Area.INVENTORY, "inventory", ["Count without looking up system quantities"]),
    ("INV-003", "ABC classification", Area.INVENTORY, "inventory", ["Rank items by annual usage value"]),
    ("INV-004", "Recounts above threshold", Area.INVENTORY, "inventory", ["Assign the recount to someone else"]),
    ("INV-005", "Reorder point review", Area.INVENTORY, "inventory", ["Review items below their reorder point"]),
    ("INV-006", "Stock adjustment ledger", Area.INVENTORY, "inventory", ["Post adjustments only from approved counts"]),
    ("VM-001", "Vendor performance review", Area.VENDORS, "vendor", ["Score each weighted criterion from KPIs"]),
    ("VM-002", "Vendor onboarding", Area.VENDORS, "vendor", ["Verify tax id and legal name"]),
    ("VM-003", "Bank detail changes", Area.VENDORS, "vendor", ["Call back on a known number before saving"]),
    ("VM-004", "Vendor hold and release", Area.VENDORS, "vendor", ["Record the hold reason and release date"]),
    ("VM-005", "Contracts and SLA targets", Area.VENDORS, "vendor", ["Enter the SLA targets from the signed contract"]),
    ("VM-006", "Vendor offboarding", Area.VENDORS, "vendor", ["Block the vendor once open items are settled"]),
    ("GEN-001", "SOP document control", Area.GENERAL, "all", ["Have every version reviewed by someone else"]),
    ("GEN-002", "Segregation of duties", Area.GENERAL, "all", ["Never approve what you entered or requested"]),
    ("GEN-003", "File imports", Area.GENERAL, "all", ["Run a dry run and read the row errors first"]),
    ("GEN-004", "Records retention", Area.GENERAL, "all", ["Keep financial records for seven years"]),
    ("GEN-005", "Audit requests", Area.GENERAL, "all", ["Export from the audit trail, never from screenshots"]),
    ("GEN-006", "Quarterly access review", Area.GENERAL, "all", ["Confirm each person's role with their lead"]),
]

AUDIENCES = {
    "invoice": [roles.ASSOCIATE, roles.APPROVER],
    "refund": [roles.ASSOCIATE, roles.APPROVER],
    "inventory": [roles.ASSOCIATE, roles.INVENTORY_CONTROLLER],
    "vendor": [roles.VENDOR_MANAGER, roles.APPROVER],
    "all": [roles.ASSOCIATE, roles.APPROVER, roles.VENDOR_MANAGER, roles.INVENTORY_CONTROLLER, roles.SOP_OWNER],
}

CHANGES = [
    "First issue.",
    "Clarified who approves and added the records to keep.",
    "Added the escalation path and the tolerance table.",
    "Aligned with this year's internal audit findings.",
]


def _body(code: str, title: str, area_label: str, steps: list[str], number: int) -> str:
    extra = [
        "Record the outcome in the portal with a reason",
        "Escalate anything unclear to the process owner",
        "Attach the evidence to the record",
    ][: number - 1]
    lines = [f"{i}. {step}." for i, step in enumerate(["Open the record in the portal", *steps, *extra], 1)]
    tolerance = (
        "\n\n## Tolerances\n\n| check | limit |\n|---|---|\n| quantity | 2 % or 1 unit |\n| price | 1 % or 5.00 |"
        if number >= 3
        else ""
    )
    return (
        f"## Purpose\n\nHow {title.lower()} is done in {area_label.lower()}, so that every decision is "
        f"consistent and can be audited.\n\n"
        f"## Scope\n\nEveryone who works on {area_label.lower()} records in the Ops Portal.\n\n"
        f"## Responsibilities\n\n- **Preparer**: enters and checks the record.\n"
        f"- **Approver**: decides, never on their own entries.\n\n"
        f"## Procedure\n\n" + "\n".join(lines) + tolerance + "\n\n"
        "## Records\n\nThe portal keeps the decision, who made it, when, and the SOP version in force.\n"
    )


@transaction.atomic
def seed(*, users) -> None:
    """About 30 SOPs with 1-4 versions each, some due for review, partly acknowledged."""
    owner, reviewer = users.get("sop_owner"), users.get("admin")
    if owner is None or reviewer is None:
        return
    groups = {group.name: group for group in Group.objects.filter(name__in=roles.ALL_ROLES)}
    members: dict[str, list] = {}
    for user in users.values():
        for name in user.groups.values_list("name", flat=True):
            members.setdefault(name, []).append(user)
    now = timezone.now()
    today = timezone.localdate()
    existing = set(SOPDocument.objects.filter(code__in=[c[0] for c in CATALOGUE]).values_list("code", flat=True))
    for index, (code, title, area, audience_key, steps) in enumerate(CATALOGUE):
        if code in existing:
            continue
        # Alternate who writes and who reviews, so both have each role; never the same person.
        author, checker = (owner, reviewer) if index % 3 else (reviewer, owner)
        document = SOPDocument.objects.create(
            code=code,
            title=title,
            area=area,
            owner=owner,
            governs_area=code.endswith("-001"),
            review_interval_days=180 if index % 4 == 0 else 365,
            created_by=author,
            updated_by=author,
        )
        audience_roles = AUDIENCES[audience_key]
        document.audience.set([groups[name] for name in audience_roles if name in groups])
        published_count = 1 + index % 4
        start = now - timedelta(days=60 + published_count * 75 + index * 3)
        versions = []
        for number in range(1, published_count + 1):
            published_at = start + timedelta(days=(number - 1) * 75)
            versions.append(
                SOPVersion(
                    document=document,
                    number=number,
                    status=SOPVersion.Status.PUBLISHED if number == published_count else SOPVersion.Status.RETIRED,
                    body=_body(code, title, area.label, steps, number),
                    change_summary=CHANGES[number - 1],
                    author=author,
                    reviewer=checker,
                    submitted_at=published_at - timedelta(days=3),
                    reviewed_at=published_at - timedelta(days=1),
                    published_at=published_at,
                    published_by=checker,
                    retired_at=None if number == published_count else published_at + timedelta(days=75),
                    retired_by=None if number == published_count else checker,
                    retired_reason="" if number == published_count else f"Replaced by v{number + 1}.",
                    created_by=author,
                    updated_by=checker,
                )
            )
        # Some SOPs are being reworked: a draft, or a version waiting for review.
        if index % 5 == 2:
            open_status = SOPVersion.Status.IN_REVIEW if index % 2 else SOPVersion.Status.DRAFT
            versions.append(
                SOPVersion(
                    document=document,
                    number=published_count + 1,
                    status=open_status,
                    body=_body(code, title, area.label, steps, min(published_count + 1, 4))
                    + "\n## Open questions\n\nConfirm the new threshold with finance.\n",
                    change_summary="Proposed: new threshold and an extra check.",
                    author=author,
                    submitted_at=now - timedelta(days=5) if open_status == SOPVersion.Status.IN_REVIEW else None,
                    created_by=author,
                    updated_by=author,
                )
            )
        SOPVersion.objects.bulk_create(versions)
        current = SOPVersion.objects.get(document=document, status=SOPVersion.Status.PUBLISHED)
        if index % 5 == 0:
            next_review = today - timedelta(days=7 * (1 + index % 3))  # overdue
        elif index % 5 == 1:
            next_review = today + timedelta(days=10)  # due soon
        else:
            next_review = timezone.localtime(current.published_at).date() + timedelta(
                days=document.review_interval_days
            )
        document.current_version = current
        document.next_review_date = next_review
        document.save(update_fields=["current_version", "next_review_date"])
        # Partial acknowledgements: most readers read the version in force, some only an older one.
        readers = {user.pk: user for name in audience_roles for user in members.get(name, [])}
        acknowledgements = []
        for position, user in enumerate(sorted(readers.values(), key=lambda u: u.username)):
            if (position + index) % 3 == 0:
                continue
            for version in versions:
                if version.status not in (SOPVersion.Status.PUBLISHED, SOPVersion.Status.RETIRED):
                    continue
                if version.status == SOPVersion.Status.PUBLISHED and (position + index) % 4 == 1:
                    continue  # read an earlier version, not this one yet
                read_at = version.published_at + timedelta(days=1 + position)
                acknowledgements.append(
                    Acknowledgement(
                        version=version,
                        user=user,
                        acknowledged_at=min(read_at, now),
                        created_by=user,
                        updated_by=user,
                    )
                )
        Acknowledgement.objects.bulk_create(acknowledgements, ignore_conflicts=True)
