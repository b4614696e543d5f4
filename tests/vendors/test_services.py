from datetime import date, timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import AuditEvent
from apps.vendors import kpis, services
from apps.vendors.models import PerformanceReview, ReviewCriterion, StandingBand, Vendor, VendorContact
from tests.vendors.factories import ContractFactory, VendorFactory, criteria

BANK = {
    "bank_account_holder": "Acme",
    "bank_name": "First Bank",
    "bank_account_number": "123456789",
    "bank_routing_code": "021000021",
}


def new_vendor(actor, **fields):
    return services.vendor_save(
        actor=actor, code=fields.pop("code", "ACME-01"), legal_name="Acme Ltd", category="goods", **fields
    )


# --- master data and bank details -------------------------------------------------------------


def test_new_bank_details_wait_for_a_second_person(manager, approver):
    vendor = new_vendor(manager, **BANK)
    assert vendor.bank_details_pending
    assert vendor.bank_details_changed_by == manager
    assert "second person" in vendor.payment_block_reason()
    event = AuditEvent.objects.get(action="vendor.bank_details_changed")
    assert event.data["account_after"] == "…6789"
    assert "123456789" not in str(event.data)

    services.vendor_confirm_bank_details(vendor_id=vendor.pk, actor=approver)

    vendor.refresh_from_db()
    assert not vendor.bank_details_pending and vendor.payment_block_reason() == ""
    assert vendor.bank_details_confirmed_by == approver
    assert AuditEvent.objects.filter(action="vendor.bank_details_confirmed", actor=approver).exists()


def test_whoever_changed_the_bank_details_cannot_confirm_them_not_even_a_superuser(django_user_model, manager):
    root = django_user_model.objects.create_superuser("root", "r@example.com", "x-password-1")
    vendor = new_vendor(root, **BANK)
    with pytest.raises(PermissionDenied, match="different person"):
        services.vendor_confirm_bank_details(vendor_id=vendor.pk, actor=root)
    vendor.refresh_from_db()
    assert vendor.bank_details_pending


def test_confirming_needs_the_permission(manager, make_user):
    vendor = new_vendor(manager, **BANK)
    with pytest.raises(PermissionDenied):
        services.vendor_confirm_bank_details(vendor_id=vendor.pk, actor=make_user("associate"))


def test_a_changed_account_number_needs_confirmation_again(manager, approver):
    vendor = new_vendor(manager, **BANK)
    services.vendor_confirm_bank_details(vendor_id=vendor.pk, actor=approver)

    services.vendor_save(actor=manager, vendor_id=vendor.pk, legal_name="Acme Limited")
    vendor.refresh_from_db()
    assert not vendor.bank_details_pending  # other fields: no new confirmation

    services.vendor_save(actor=manager, vendor_id=vendor.pk, bank_account_number="987654321")
    vendor.refresh_from_db()
    assert vendor.bank_details_pending and vendor.bank_details_confirmed_by is None


def test_nothing_to_confirm_is_a_conflict(manager, approver):
    vendor = new_vendor(manager)
    with pytest.raises(TransitionNotAllowed):
        services.vendor_confirm_bank_details(vendor_id=vendor.pk, actor=approver)


def test_duplicate_code_is_refused_by_name(manager):
    new_vendor(manager, code="ACME-01")
    with pytest.raises(ValidationError) as error:
        new_vendor(manager, code="acme-01")
    assert "code" in error.value.message_dict
    assert Vendor.objects.count() == 1


@pytest.mark.parametrize("field, value", [("code", "a b"), ("payment_terms_days", 400), ("default_currency", "XYZ")])
def test_bad_master_data_names_the_field(manager, field, value):
    with pytest.raises(ValidationError) as error:
        new_vendor(manager, **{field: value})
    assert field in error.value.message_dict
    assert not Vendor.objects.exists()


def test_associates_cannot_add_vendors(make_user):
    with pytest.raises(PermissionDenied):
        new_vendor(make_user("associate"))


# --- hold, block, release ------------------------------------------------------------------------


def test_hold_and_release(manager):
    vendor = VendorFactory()
    services.vendor_hold(vendor_id=vendor.pk, actor=manager, reason="Insurance expired")
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.ON_HOLD
    assert vendor.payment_block_reason() == f"Vendor {vendor.code} is on hold: Insurance expired"

    with pytest.raises(TransitionNotAllowed):
        services.vendor_hold(vendor_id=vendor.pk, actor=manager, reason="again")

    services.vendor_release(vendor_id=vendor.pk, actor=manager, reason="Certificate received")
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.ACTIVE and vendor.hold_reason == ""
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "vendor.put_on_hold",
        "vendor.released",
    ]


def test_a_hold_needs_a_reason(manager):
    vendor = VendorFactory()
    with pytest.raises(ValidationError) as error:
        services.vendor_hold(vendor_id=vendor.pk, actor=manager, reason="  ")
    assert "hold_reason" in error.value.message_dict
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.ACTIVE


def test_block_and_release_of_an_active_vendor(manager):
    vendor = VendorFactory()
    services.vendor_block(vendor_id=vendor.pk, actor=manager, reason="Sanctions screening")
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.BLOCKED and "blocked" in vendor.payment_block_reason()
    with pytest.raises(TransitionNotAllowed):
        services.vendor_block(vendor_id=vendor.pk, actor=manager, reason="again")
    with pytest.raises(TransitionNotAllowed):
        services.vendor_release(vendor_id=VendorFactory().pk, actor=manager, reason="not held")


def test_release_date_in_the_past_is_refused(manager):
    vendor = VendorFactory()
    with pytest.raises(ValidationError) as error:
        services.vendor_hold(
            vendor_id=vendor.pk, actor=manager, reason="x", release_date=timezone.localdate() - timedelta(days=1)
        )
    assert "hold_release_date" in error.value.message_dict


# --- contacts and contracts ------------------------------------------------------------------------


def test_a_new_primary_contact_replaces_the_old_one(manager):
    vendor = VendorFactory()
    first = services.contact_save(actor=manager, vendor=vendor, name="Ann", email="ann@x.com", is_primary=True)
    second = services.contact_save(actor=manager, vendor=vendor, name="Bob", email="bob@x.com", is_primary=True)
    first.refresh_from_db()
    assert not first.is_primary and second.is_primary
    assert VendorContact.objects.filter(vendor=vendor, is_primary=True).count() == 1


def test_the_replaced_primary_contact_is_in_the_change_log(manager):
    vendor = VendorFactory()
    first = services.contact_save(actor=manager, vendor=vendor, name="Ann", email="ann@x.com", is_primary=True)
    services.contact_save(actor=manager, vendor=vendor, name="Bob", email="bob@x.com", is_primary=True)

    entry = LogEntry.objects.get_for_object(first).get(action=LogEntry.Action.UPDATE)
    assert entry.changes["is_primary"] == [True, False]


def test_a_contract_cannot_end_before_it_starts(manager):
    vendor = VendorFactory()
    with pytest.raises(ValidationError) as error:
        services.contract_save(
            actor=manager,
            vendor=vendor,
            reference="C-1",
            title="Supply",
            start_date=date(2026, 5, 1),
            end_date=date(2026, 4, 30),
        )
    assert error.value.message_dict["end_date"] == ["The contract cannot end before it starts."]
    assert not vendor.contracts.exists()


def test_sla_targets_are_percentages(manager):
    with pytest.raises(ValidationError) as error:
        services.contract_save(
            actor=manager,
            vendor=VendorFactory(),
            reference="C-1",
            title="Supply",
            start_date=date(2026, 1, 1),
            end_date=date(2026, 12, 31),
            on_time_delivery_target=Decimal("101"),
        )
    assert "on_time_delivery_target" in error.value.message_dict


# --- standing bands -------------------------------------------------------------------------------


def bands(*ranges):
    return [{"name": f"B{low}", "min_score": Decimal(low), "max_score": Decimal(high)} for low, high in ranges]


@pytest.mark.parametrize(
    "ranges, message",
    [
        ([(0, 50), (40, 100)], "overlap between 40 and 50"),
        ([(0, 50), (60, 100)], "Scores from 50 to 60 are in no band"),
        ([(10, 50), (50, 100)], "the lowest band must start at 0"),
        ([(0, 50), (50, 90)], "the highest band must end at 100"),
        ([(0, 50), (50, 120)], "must lie within 0-100"),
    ],
)
def test_bands_must_cover_0_to_100_exactly(db, ranges, message):
    with pytest.raises(ValidationError) as error:
        services.validate_bands(bands(*ranges))
    assert any(message in m for m in error.value.message_dict["bands"])


def test_replacing_bands_is_all_or_nothing(manager):
    before = list(StandingBand.objects.values_list("name", "min_score", "max_score"))
    with pytest.raises(ValidationError):
        services.bands_replace(actor=manager, bands=bands((0, 50), (40, 100)))
    assert list(StandingBand.objects.values_list("name", "min_score", "max_score")) == before
    services.bands_replace(actor=manager, bands=bands((0, 60), (60, 100)))
    assert StandingBand.objects.count() == 2


@pytest.mark.parametrize(
    "score, standing",
    [
        ("0", "Poor"),
        ("49.99", "Poor"),
        ("50", "Fair"),
        ("74.99", "Fair"),
        ("75", "Good"),
        ("89.99", "Good"),
        ("90", "Excellent"),
        ("100", "Excellent"),
    ],
)
def test_default_bands(db, score, standing):
    assert services.band_for(Decimal(score)) == standing


# --- reviews --------------------------------------------------------------------------------------


def test_draft_uses_the_default_criteria(manager):
    review = services.review_create(
        actor=manager, vendor_id=VendorFactory().pk, period_start=date(2026, 7, 1), period_end=date(2026, 9, 30)
    )
    assert [c.name for c in review.criteria.all()] == [c["name"] for c in services.DEFAULT_CRITERIA]
    assert sum(c.weight for c in review.criteria.all()) == 100
    assert review.status == PerformanceReview.Status.DRAFT and review.reviewer == manager


@pytest.fixture
def on_time_provider():
    calls = []

    def provider(*, vendor_id, start, end):
        calls.append((vendor_id, start, end))
        return kpis.Measurement(Decimal("94.00"), "47 of 50 receipts on or before the promised date")

    kpis.register(ReviewCriterion.Kpi.ON_TIME_DELIVERY, provider)
    yield calls
    kpis.unregister(ReviewCriterion.Kpi.ON_TIME_DELIVERY)


def test_measured_kpis_are_proposed_with_their_figures(manager, on_time_provider):
    vendor = VendorFactory()
    review = services.review_create(
        actor=manager, vendor_id=vendor.pk, period_start=date(2026, 7, 1), period_end=date(2026, 9, 30)
    )
    on_time = review.criteria.get(kpi=ReviewCriterion.Kpi.ON_TIME_DELIVERY)
    assert (on_time.proposed_score, on_time.score) == (Decimal("94.00"), Decimal("94.00"))
    assert on_time.proposed_basis == "47 of 50 receipts on or before the promised date"
    assert on_time_provider == [(vendor.pk, date(2026, 7, 1), date(2026, 9, 30))]
    assert review.criteria.get(kpi=ReviewCriterion.Kpi.QUALITY).proposed_score is None  # no data: left to the reviewer


def test_overriding_a_proposed_score_needs_a_reason(manager, on_time_provider):
    data = [dict(c) for c in services.DEFAULT_CRITERIA]
    data[0]["score"] = Decimal("80")
    with pytest.raises(ValidationError) as error:
        services.review_create(
            actor=manager,
            vendor_id=VendorFactory().pk,
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            criteria=data,
        )
    assert "give a reason for overriding the proposed score 94.00" in error.value.message_dict["criteria"][0]
    assert not PerformanceReview.objects.exists()

    data[0]["override_reason"] = "Two late shipments were our receiving backlog"
    review = services.review_create(
        actor=manager,
        vendor_id=VendorFactory().pk,
        period_start=date(2026, 7, 1),
        period_end=date(2026, 9, 30),
        criteria=data,
    )
    assert review.criteria.get(kpi="on_time_delivery").score == Decimal("80")


@pytest.mark.parametrize(
    "items, message",
    [
        (criteria((60, 80), (30, 90)), "The weights must total 100; they total 90."),
        (criteria((60, 101), (40, 90)), "the score must be between 0 and 100"),
        (criteria((60, -1), (40, 90)), "the score must be between 0 and 100"),
        (criteria((0, 50), (100, 90)), "the weight must be above 0"),
        ([], "A review needs at least one criterion."),
    ],
)
def test_bad_criteria_are_refused_and_nothing_is_saved(manager, items, message):
    with pytest.raises(ValidationError) as error:
        services.review_create(
            actor=manager,
            vendor_id=VendorFactory().pk,
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            criteria=items,
        )
    assert any(message in m for m in error.value.message_dict["criteria"]), error.value.message_dict
    assert not PerformanceReview.objects.exists()
    assert not ReviewCriterion.objects.exists()


def test_a_period_ending_before_it_starts_is_refused(manager):
    with pytest.raises(ValidationError) as error:
        services.review_create(
            actor=manager, vendor_id=VendorFactory().pk, period_start=date(2026, 7, 1), period_end=date(2026, 6, 30)
        )
    assert "period_end" in error.value.message_dict


def draft(manager, vendor=None, items=None, end=date(2026, 9, 30)):
    return services.review_create(
        actor=manager,
        vendor_id=(vendor or VendorFactory()).pk,
        period_start=end.replace(day=1) - timedelta(days=60),
        period_end=end,
        criteria=items or criteria((60, 80), (40, 95)),
    )


def test_finalize_computes_score_and_standing_and_freezes_the_review(manager):
    review = draft(manager, items=criteria((60, "80.5"), (40, "95.25")))

    services.review_finalize(review_id=review.pk, actor=manager)

    review.refresh_from_db()
    assert review.overall_score == Decimal("86.40")  # (60*80.5 + 40*95.25) / 100
    assert review.standing == "Good"
    assert review.status == PerformanceReview.Status.FINALIZED and review.finalized_by == manager
    vendor = review.vendor
    vendor.refresh_from_db()
    assert (vendor.latest_score, vendor.latest_standing, vendor.latest_review_end) == (
        Decimal("86.40"),
        "Good",
        date(2026, 9, 30),
    )
    with pytest.raises(TransitionNotAllowed, match="cannot be edited"):
        services.review_update(actor=manager, review_id=review.pk, comments="changed")
    with pytest.raises(TransitionNotAllowed):
        services.review_finalize(review_id=review.pk, actor=manager)
    assert AuditEvent.objects.get(action="vendor_review.finalized").data == {
        "overall_score": "86.40",
        "standing": "Good",
        "sop_version": None,
    }


def test_every_criterion_is_scored_before_finalizing(manager):
    items = criteria((60, 80), (40, 95))
    items[1]["score"] = None
    review = draft(manager, items=items)
    with pytest.raises(ValidationError, match="Score every criterion"):
        services.review_finalize(review_id=review.pk, actor=manager)
    review.refresh_from_db()
    assert review.status == PerformanceReview.Status.DRAFT


def test_finalizing_needs_the_permission(manager, make_user):
    review = draft(manager)
    with pytest.raises(PermissionDenied):
        services.review_finalize(review_id=review.pk, actor=make_user("approver"))


def test_a_superseding_review_replaces_the_finalized_one(manager):
    review = draft(manager, items=criteria((50, 40), (50, 50)))
    services.review_finalize(review_id=review.pk, actor=manager)

    replacement = services.review_supersede(review_id=review.pk, actor=manager)
    assert replacement.status == PerformanceReview.Status.DRAFT and replacement.supersedes == review
    assert [c.score for c in replacement.criteria.all()] == [Decimal("40.00"), Decimal("50.00")]
    with pytest.raises(TransitionNotAllowed, match="already has a replacement"):
        services.review_supersede(review_id=review.pk, actor=manager)

    services.review_update(actor=manager, review_id=replacement.pk, criteria=criteria((50, 90), (50, 92)))
    services.review_finalize(review_id=replacement.pk, actor=manager)

    review.refresh_from_db()
    assert review.status == PerformanceReview.Status.SUPERSEDED
    review.vendor.refresh_from_db()
    assert review.vendor.latest_score == Decimal("91.00") and review.vendor.latest_standing == "Excellent"


def test_latest_standing_follows_the_latest_period_not_the_latest_finalization(manager):
    vendor = VendorFactory()
    recent = draft(manager, vendor=vendor, items=criteria((100, 95)), end=date(2026, 9, 30))
    older = draft(manager, vendor=vendor, items=criteria((100, 30)), end=date(2026, 6, 30))
    services.review_finalize(review_id=recent.pk, actor=manager)
    services.review_finalize(review_id=older.pk, actor=manager)
    vendor.refresh_from_db()
    assert vendor.latest_standing == "Excellent"


def test_action_items_are_completed_by_their_owner_after_finalizing(manager, make_user):
    owner = make_user("associate")
    review = services.review_create(
        actor=manager,
        vendor_id=VendorFactory().pk,
        period_start=date(2026, 7, 1),
        period_end=date(2026, 9, 30),
        criteria=criteria((100, 60)),
        action_items=[{"description": "Fix labels", "owner": owner, "due_date": date(2026, 10, 31)}],
    )
    services.review_finalize(review_id=review.pk, actor=manager)
    item = review.action_items.get()
    with pytest.raises(PermissionDenied):
        services.action_item_complete(item_id=item.pk, actor=make_user("associate"))
    services.action_item_complete(item_id=item.pk, actor=owner)
    item.refresh_from_db()
    assert item.done and item.done_at is not None


def test_action_items_need_owner_and_due_date(manager):
    with pytest.raises(ValidationError) as error:
        services.review_create(
            actor=manager,
            vendor_id=VendorFactory().pk,
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            action_items=[{"description": "Fix labels"}],
        )
    assert error.value.message_dict["action_items"] == [
        "Action item 1: give it an owner.",
        "Action item 1: give it a due date.",
    ]


def test_contract_factory_is_valid(db):
    ContractFactory().full_clean()


def test_finalizing_records_the_vendors_sop_version_in_force(manager, make_user, role_groups):
    from apps.sops import services as sop_services

    author, reviewer = make_user("sop_owner"), make_user("sop_owner")
    document = sop_services.sop_document_create(
        actor=author,
        code="VM-001",
        title="Vendor reviews",
        area="vendors",
        governs_area=True,
        audience=[role_groups["vendor_manager"]],
        review_interval_days=365,
    )
    version = sop_services.sop_version_create(
        document_id=document.pk, actor=author, change_summary="First issue.", body="# Reviews\n\n1. Score.\n"
    )
    sop_services.sop_version_submit_review(version_id=version.pk, actor=author)
    version = sop_services.sop_version_publish(version_id=version.pk, actor=reviewer)

    review = draft(manager)
    services.review_finalize(review_id=review.pk, actor=manager)

    review.refresh_from_db()
    assert review.sop_version == version
    assert AuditEvent.objects.get(action="vendor_review.finalized").data["sop_version"] == version.pk


def test_without_a_published_sop_nothing_is_recorded_and_nothing_fails(manager):
    review = draft(manager)
    services.review_finalize(review_id=review.pk, actor=manager)
    review.refresh_from_db()
    assert review.sop_version is None
