"""Writes for vendors: master data, bank-detail control, holds, contacts, contracts, reviews, bands."""

import itertools
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core import audit
from apps.core.exceptions import TransitionNotAllowed
from apps.core.permissions import require_perm
from apps.sops.selectors import sop_version_in_force
from apps.vendors import kpis
from apps.vendors.models import (
    PerformanceReview,
    ReviewActionItem,
    ReviewCriterion,
    StandingBand,
    Vendor,
    VendorContact,
    VendorContract,
)

HUNDRED = Decimal("100")
CENT = Decimal("0.01")

VENDOR_FIELDS = {
    "code",
    "legal_name",
    "tax_id",
    "category",
    "payment_terms_days",
    "default_currency",
    "manager",
    "remit_to",
    *Vendor.BANK_FIELDS,
}

DEFAULT_CRITERIA = [
    {"name": "On-time delivery", "kpi": ReviewCriterion.Kpi.ON_TIME_DELIVERY, "weight": Decimal("30")},
    {"name": "Invoice accuracy", "kpi": ReviewCriterion.Kpi.INVOICE_ACCURACY, "weight": Decimal("25")},
    {"name": "Quality", "kpi": ReviewCriterion.Kpi.QUALITY, "weight": Decimal("25")},
    {"name": "Responsiveness", "kpi": ReviewCriterion.Kpi.RESPONSE_TIME, "weight": Decimal("20")},
]


def _masked(value: str) -> str:
    return f"…{value[-4:]}" if value else ""


# --- Vendor master data -------------------------------------------------------------------------


@transaction.atomic
def vendor_save(*, actor, vendor_id: int | None = None, **fields) -> Vendor:
    """Create or update a vendor. Any change of bank details must be confirmed by a different person."""
    unknown = set(fields) - VENDOR_FIELDS
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})
    if vendor_id is None:
        require_perm(actor, "vendors.add_vendor", "You may not add vendors.")
        vendor = Vendor()
        before = dict.fromkeys(Vendor.BANK_FIELDS, "")
    else:
        require_perm(actor, "vendors.change_vendor", "You may not change vendors.")
        vendor = Vendor.objects.select_for_update().get(pk=vendor_id)
        before = {name: getattr(vendor, name) for name in Vendor.BANK_FIELDS}
    if fields.get("code"):
        fields["code"] = fields["code"].strip().upper()
    for name, value in fields.items():
        setattr(vendor, name, value)
    vendor.full_clean()
    changed_bank = [name for name in Vendor.BANK_FIELDS if (getattr(vendor, name) or "") != (before[name] or "")]
    if changed_bank:
        vendor.bank_details_pending = True
        vendor.bank_details_changed_by = actor
        vendor.bank_details_changed_at = timezone.now()
        vendor.bank_details_confirmed_by = None
        vendor.bank_details_confirmed_at = None
    vendor.save()
    if changed_bank:
        audit.record(
            action="vendor.bank_details_changed",
            actor=actor,
            target=vendor,
            message="Bank details changed; payments wait for a second person's confirmation.",
            data={
                "fields": changed_bank,
                "account_before": _masked(before["bank_account_number"]),
                "account_after": _masked(vendor.bank_account_number),
            },
        )
    return vendor


@transaction.atomic
def vendor_confirm_bank_details(*, vendor_id: int, actor) -> Vendor:
    """A second person confirms changed bank details; until then the vendor's invoices cannot be approved."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor_id)
    require_perm(actor, "vendors.confirm_bank_details", "You may not confirm vendor bank details.")
    if not vendor.bank_details_pending:
        raise TransitionNotAllowed(f"Vendor {vendor.code} has no unconfirmed bank details.")
    if vendor.bank_details_changed_by_id == actor.pk:
        raise PermissionDenied("You changed these bank details: a different person must confirm them.")
    vendor.bank_details_pending = False
    vendor.bank_details_confirmed_by = actor
    vendor.bank_details_confirmed_at = timezone.now()
    vendor.save(update_fields=["bank_details_pending", "bank_details_confirmed_by", "bank_details_confirmed_at"])
    sop = sop_version_in_force(area="vendors")
    audit.record(
        action="vendor.bank_details_confirmed",
        actor=actor,
        target=vendor,
        data={"sop_version": sop.pk if sop else None},
    )
    return vendor


def _require_reason(reason: str, field: str = "hold_reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({field: "Give a reason."})
    return reason


@transaction.atomic
def vendor_hold(*, vendor_id: int, actor, reason: str, release_date=None) -> Vendor:
    """Put an active vendor on hold: its invoices cannot be approved or scheduled until released."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor_id)
    require_perm(actor, "vendors.change_vendor", "You may not put vendors on hold.")
    if vendor.status != Vendor.Status.ACTIVE:
        raise TransitionNotAllowed(
            f"Only an active vendor can be put on hold; {vendor.code} is {vendor.get_status_display().lower()}."
        )
    vendor.hold_reason = _require_reason(reason)
    if release_date is not None and release_date < timezone.localdate():
        raise ValidationError({"hold_release_date": "The release date cannot be in the past."})
    vendor.status = Vendor.Status.ON_HOLD
    vendor.hold_release_date = release_date
    vendor.save(update_fields=["status", "hold_reason", "hold_release_date", "updated_at", "updated_by"])
    audit.record(action="vendor.put_on_hold", actor=actor, target=vendor, message=vendor.hold_reason)
    return vendor


@transaction.atomic
def vendor_block(*, vendor_id: int, actor, reason: str) -> Vendor:
    """Block a vendor: nothing is approved or paid to it until it is released."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor_id)
    require_perm(actor, "vendors.change_vendor", "You may not block vendors.")
    if vendor.status == Vendor.Status.BLOCKED:
        raise TransitionNotAllowed(f"Vendor {vendor.code} is already blocked.")
    vendor.hold_reason = _require_reason(reason)
    vendor.status = Vendor.Status.BLOCKED
    vendor.hold_release_date = None
    vendor.save(update_fields=["status", "hold_reason", "hold_release_date", "updated_at", "updated_by"])
    audit.record(action="vendor.blocked", actor=actor, target=vendor, message=vendor.hold_reason)
    return vendor


@transaction.atomic
def vendor_release(*, vendor_id: int, actor, reason: str) -> Vendor:
    """Release a vendor on hold or blocked back to active."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor_id)
    require_perm(actor, "vendors.change_vendor", "You may not release vendors.")
    if vendor.status == Vendor.Status.ACTIVE:
        raise TransitionNotAllowed(f"Vendor {vendor.code} is not on hold or blocked.")
    reason = _require_reason(reason, field="reason")
    previous = vendor.get_status_display().lower()
    vendor.status = Vendor.Status.ACTIVE
    vendor.hold_reason = ""
    vendor.hold_release_date = None
    vendor.save(update_fields=["status", "hold_reason", "hold_release_date", "updated_at", "updated_by"])
    audit.record(action="vendor.released", actor=actor, target=vendor, message=reason, data={"was": previous})
    return vendor


# --- Contacts and contracts ---------------------------------------------------------------------


@transaction.atomic
def contact_save(*, actor, contact_id: int | None = None, **fields) -> VendorContact:
    """Create or update a contact; making one primary makes the vendor's previous primary an ordinary contact."""
    if contact_id is None:
        require_perm(actor, "vendors.add_vendorcontact", "You may not add vendor contacts.")
        contact = VendorContact()
    else:
        require_perm(actor, "vendors.change_vendorcontact", "You may not change vendor contacts.")
        contact = VendorContact.objects.select_for_update().get(pk=contact_id)
    for name, value in fields.items():
        setattr(contact, name, value)
    if contact.vendor_id is None:
        raise ValidationError({"vendor": "Choose the vendor."})
    Vendor.objects.select_for_update().get(pk=contact.vendor_id)  # one primary switch at a time per vendor
    contact.full_clean(validate_constraints=False)
    if contact.is_primary:
        others = VendorContact.objects.filter(vendor_id=contact.vendor_id, is_primary=True).exclude(pk=contact.pk)
        audit.logged_update(others, is_primary=False)
    contact.validate_constraints()
    contact.save()
    return contact


@transaction.atomic
def contract_save(*, actor, contract_id: int | None = None, **fields) -> VendorContract:
    """Create or update a contract with its SLA targets."""
    if contract_id is None:
        require_perm(actor, "vendors.add_vendorcontract", "You may not add vendor contracts.")
        contract = VendorContract()
    else:
        require_perm(actor, "vendors.change_vendorcontract", "You may not change vendor contracts.")
        contract = VendorContract.objects.select_for_update().get(pk=contract_id)
    for name, value in fields.items():
        setattr(contract, name, value)
    contract.full_clean()
    contract.save()
    return contract


# --- Standing bands -----------------------------------------------------------------------------


def validate_bands(bands: list[dict]) -> None:
    """Bands must cover 0-100 exactly: sorted by minimum, each starts where the previous one ends."""
    if not bands:
        raise ValidationError({"bands": "Define at least one band covering 0-100."})
    errors = []
    names = [band["name"].strip() for band in bands]
    if any(not name for name in names):
        errors.append("Every band needs a name.")
    if len(set(names)) != len(names):
        errors.append("Band names must be different.")
    ordered = sorted(bands, key=lambda band: Decimal(band["min_score"]))
    for band in ordered:
        low, high = Decimal(band["min_score"]), Decimal(band["max_score"])
        if not (0 <= low < high <= 100):
            errors.append(f"Band {band['name']}: the range {low}-{high} must lie within 0-100, minimum below maximum.")
    if Decimal(ordered[0]["min_score"]) != 0:
        errors.append(f"Scores from 0 to {ordered[0]['min_score']} are in no band: the lowest band must start at 0.")
    if Decimal(ordered[-1]["max_score"]) != HUNDRED:
        errors.append(f"Scores above {ordered[-1]['max_score']} are in no band: the highest band must end at 100.")
    for lower, upper in itertools.pairwise(ordered):
        low_end, high_start = Decimal(lower["max_score"]), Decimal(upper["min_score"])
        if high_start < low_end:
            errors.append(f"Bands {lower['name']} and {upper['name']} overlap between {high_start} and {low_end}.")
        elif high_start > low_end:
            errors.append(
                f"Scores from {low_end} to {high_start} are in no band (between {lower['name']} and {upper['name']})."
            )
    if errors:
        raise ValidationError({"bands": errors})


@transaction.atomic
def bands_replace(*, actor, bands: list[dict]) -> list[StandingBand]:
    """Replace the standing bands as a whole (they are only valid together)."""
    require_perm(actor, "vendors.change_standingband", "You may not change the standing bands.")
    validate_bands(bands)
    StandingBand.objects.select_for_update().all().delete()
    created = [
        StandingBand.objects.create(name=b["name"].strip(), min_score=b["min_score"], max_score=b["max_score"])
        for b in bands
    ]
    audit.record(action="vendor_bands.replaced", actor=actor, data={"bands": [str(band) for band in created]})
    return created


def band_for(score: Decimal, bands: list[StandingBand] | None = None) -> str:
    bands = bands if bands is not None else list(StandingBand.objects.all())
    for band in bands:
        if band.min_score <= score < band.max_score or (score == band.max_score == HUNDRED):
            return band.name
    return ""


# --- Performance reviews ------------------------------------------------------------------------


def overall_score(criteria) -> Decimal:
    """Weighted score: the sum of weight * score over the criteria / 100, rounded half-up to cents."""
    total = sum((c.weight * c.score for c in criteria), Decimal("0")) / HUNDRED
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def _validate_period(start, end) -> None:
    if start is None or end is None:
        raise ValidationError({"period_start": "Give the period's start and end."})
    PerformanceReview(period_start=start, period_end=end).clean()


def validate_criteria(data: list[dict], *, proposed: dict[str, kpis.Measurement | None]) -> None:
    """The rules for a review's criteria as a whole (weights total 100, scores 0-100, overrides explained)."""
    _criteria_from(data, proposed=proposed)


def proposals_for(review: PerformanceReview) -> dict[str, kpis.Measurement]:
    """The measurements recorded on a review's criteria when it was drafted."""
    return {
        c.kpi: kpis.Measurement(c.proposed_score, c.proposed_basis)
        for c in review.criteria.all()
        if c.proposed_score is not None
    }


def _criteria_from(data: list[dict], *, proposed: dict[str, kpis.Measurement | None]) -> list[ReviewCriterion]:
    errors = []
    criteria = []
    for index, item in enumerate(data, start=1):
        name = (item.get("name") or "").strip()
        label = name or f"#{index}"
        try:
            weight = Decimal(str(item.get("weight")))
        except Exception:
            errors.append(f"Criterion {label}: the weight must be a number.")
            continue
        score = item.get("score")
        try:
            score = None if score in (None, "") else Decimal(str(score))
        except Exception:
            errors.append(f"Criterion {label}: the score must be a number.")
            continue
        if not name:
            errors.append(f"Criterion {index}: give it a name.")
        if not (0 < weight <= 100):
            errors.append(f"Criterion {label}: the weight must be above 0 and at most 100.")
        if score is not None and not (0 <= score <= 100):
            errors.append(f"Criterion {label}: the score must be between 0 and 100.")
        kpi = item.get("kpi") or ReviewCriterion.Kpi.OTHER
        measurement = proposed.get(kpi)
        reason = (item.get("override_reason") or "").strip()
        if measurement is not None and score is not None and score != measurement.score and not reason:
            errors.append(
                f"Criterion {label}: give a reason for overriding the proposed score {measurement.score} "
                f"({measurement.basis})."
            )
        criteria.append(
            ReviewCriterion(
                name=name,
                kpi=kpi,
                weight=weight,
                score=score,
                proposed_score=measurement.score if measurement else None,
                proposed_basis=measurement.basis[:255] if measurement else "",
                override_reason=reason,
            )
        )
    names = [c.name for c in criteria]
    if len(set(names)) != len(names):
        errors.append("Each criterion needs a different name.")
    total = sum((c.weight for c in criteria), Decimal("0"))
    if criteria and total != HUNDRED:
        errors.append(f"The weights must total 100; they total {total.normalize():f}.")
    if not data:
        errors.append("A review needs at least one criterion.")
    if errors:
        raise ValidationError({"criteria": errors})
    return criteria


def _proposals(vendor_id: int, start, end, kpi_names) -> dict[str, kpis.Measurement | None]:
    return {kpi: kpis.measure(kpi, vendor_id=vendor_id, start=start, end=end) for kpi in set(kpi_names)}


def _with_proposed_scores(data: list[dict], proposed) -> list[dict]:
    """Criteria left unscored take the measured value, when there is one."""
    filled = []
    for item in data:
        item = dict(item)
        measurement = proposed.get(item.get("kpi"))
        if measurement is not None and item.get("score") in (None, ""):
            item["score"] = measurement.score
        filled.append(item)
    return filled


def _replace_action_items(review, items: list[dict]) -> None:
    errors = []
    objects = []
    for index, item in enumerate(items, start=1):
        description = (item.get("description") or "").strip()
        if not description:
            errors.append(f"Action item {index}: describe it.")
        if not item.get("owner"):
            errors.append(f"Action item {index}: give it an owner.")
        if not item.get("due_date"):
            errors.append(f"Action item {index}: give it a due date.")
        objects.append(
            ReviewActionItem(
                review=review,
                description=description,
                owner=item.get("owner"),
                due_date=item.get("due_date"),
                done=bool(item.get("done", False)),
            )
        )
    if errors:
        raise ValidationError({"action_items": errors})
    review.action_items.all().delete()
    for obj in objects:
        obj.save()


@transaction.atomic
def review_create(
    *,
    actor,
    vendor_id: int,
    period_start,
    period_end,
    reviewer=None,
    criteria: list[dict] | None = None,
    comments: str = "",
    action_items: list[dict] | None = None,
) -> PerformanceReview:
    """Draft a review. Criteria the portal can measure for the period get a proposed score."""
    require_perm(actor, "vendors.add_performancereview", "You may not draft vendor reviews.")
    _validate_period(period_start, period_end)
    vendor = Vendor.objects.get(pk=vendor_id)
    data = criteria if criteria is not None else [dict(item) for item in DEFAULT_CRITERIA]
    proposed = _proposals(vendor.pk, period_start, period_end, [item.get("kpi") for item in data])
    built = _criteria_from(_with_proposed_scores(data, proposed), proposed=proposed)
    review = PerformanceReview.objects.create(
        vendor=vendor,
        period_start=period_start,
        period_end=period_end,
        reviewer=reviewer or actor,
        comments=comments,
    )
    for criterion in built:
        criterion.review = review
        criterion.save()  # one by one: each lands on the audit trail
    _replace_action_items(review, action_items or [])
    return review


@transaction.atomic
def review_update(
    *,
    actor,
    review_id: int,
    criteria: list[dict] | None = None,
    action_items: list[dict] | None = None,
    **fields,
) -> PerformanceReview:
    """Change a draft review; criteria and action items, when given, replace the current ones."""
    review = PerformanceReview.objects.select_for_update().get(pk=review_id)
    require_perm(actor, "vendors.change_performancereview", "You may not change vendor reviews.")
    if not review.is_editable:
        raise TransitionNotAllowed("A finalized review cannot be edited; supersede it with a new review instead.")
    for name in ("period_start", "period_end", "comments", "reviewer"):
        if name in fields:
            setattr(review, name, fields[name])
    _validate_period(review.period_start, review.period_end)
    review.save()
    if criteria is not None:
        proposed = _proposals(
            review.vendor_id, review.period_start, review.period_end, [c.get("kpi") for c in criteria]
        )
        built = _criteria_from(_with_proposed_scores(criteria, proposed), proposed=proposed)
        review.criteria.all().delete()
        for criterion in built:
            criterion.review = review
            criterion.save()
    if action_items is not None:
        _replace_action_items(review, action_items)
    return review


@transaction.atomic
def review_finalize(*, review_id: int, actor) -> PerformanceReview:
    """Compute the overall score and standing and freeze the review; it replaces the one it supersedes."""
    review = PerformanceReview.objects.select_for_update().select_related("vendor").get(pk=review_id)
    require_perm(actor, "vendors.finalize_performancereview", "You may not finalize vendor reviews.")
    if review.status != PerformanceReview.Status.DRAFT:
        raise TransitionNotAllowed(
            f"Only a draft review can be finalized; this one is {review.get_status_display().lower()}."
        )
    criteria = list(review.criteria.all())
    data = [
        {"name": c.name, "kpi": c.kpi, "weight": c.weight, "score": c.score, "override_reason": c.override_reason}
        for c in criteria
    ]
    validate_criteria(data, proposed=proposals_for(review))  # the same rules as on save
    unscored = [c.name for c in criteria if c.score is None]
    if unscored:
        raise ValidationError({"criteria": [f"Score every criterion before finalizing: {', '.join(unscored)}."]})
    if not StandingBand.objects.exists():
        raise ValidationError({"bands": "Define the standing bands before finalizing reviews."})
    review.overall_score = overall_score(criteria)
    review.standing = band_for(review.overall_score)
    review.status = PerformanceReview.Status.FINALIZED
    review.finalized_by = actor
    review.finalized_at = timezone.now()
    review.sop_version = sop_version_in_force(area="vendors")
    review.save()
    if review.supersedes_id:
        audit.logged_update(
            PerformanceReview.objects.filter(pk=review.supersedes_id), status=PerformanceReview.Status.SUPERSEDED
        )
    _refresh_vendor_standing(review.vendor_id)
    audit.record(
        action="vendor_review.finalized",
        actor=actor,
        target=review,
        data={
            "overall_score": str(review.overall_score),
            "standing": review.standing,
            "sop_version": review.sop_version_id,
        },
    )
    return review


def _refresh_vendor_standing(vendor_id: int) -> None:
    latest = (
        PerformanceReview.objects.filter(vendor_id=vendor_id, status=PerformanceReview.Status.FINALIZED)
        .order_by("-period_end", "-finalized_at")
        .first()
    )
    audit.logged_update(
        Vendor.objects.filter(pk=vendor_id),
        latest_score=latest.overall_score if latest else None,
        latest_standing=latest.standing if latest else "",
        latest_review_end=latest.period_end if latest else None,
    )


@transaction.atomic
def review_supersede(*, review_id: int, actor) -> PerformanceReview:
    """Start a new draft that will replace a finalized review once it is finalized itself."""
    review = PerformanceReview.objects.select_for_update().get(pk=review_id)
    require_perm(actor, "vendors.add_performancereview", "You may not draft vendor reviews.")
    if review.status != PerformanceReview.Status.FINALIZED:
        raise TransitionNotAllowed("Only a finalized review can be superseded.")
    if PerformanceReview.objects.filter(supersedes=review).exists():
        raise TransitionNotAllowed("This review already has a replacement in progress.")
    replacement = PerformanceReview.objects.create(
        vendor_id=review.vendor_id,
        period_start=review.period_start,
        period_end=review.period_end,
        reviewer=actor,
        comments=review.comments,
        supersedes=review,
    )
    for c in review.criteria.all():
        ReviewCriterion.objects.create(
            review=replacement,
            name=c.name,
            kpi=c.kpi,
            weight=c.weight,
            score=c.score,
            proposed_score=c.proposed_score,
            proposed_basis=c.proposed_basis,
            override_reason=c.override_reason,
        )
    audit.record(action="vendor_review.superseded", actor=actor, target=review, data={"replacement": replacement.pk})
    return replacement


@transaction.atomic
def action_item_complete(*, item_id: int, actor) -> ReviewActionItem:
    """Mark an action item done (also on a finalized review: follow-up happens after the review)."""
    item = ReviewActionItem.objects.select_for_update().get(pk=item_id)
    if item.owner_id != actor.pk and not actor.has_perm("vendors.change_reviewactionitem"):
        raise PermissionDenied("Only the owner or a vendor manager can complete this action item.")
    if item.done:
        raise TransitionNotAllowed("This action item is already done.")
    item.done = True
    item.done_at = timezone.now()
    item.save(update_fields=["done", "done_at", "updated_at", "updated_by"])
    return item
