from datetime import date
from decimal import Decimal

import pytest

from apps.core.models import AuditEvent
from apps.vendors import services
from apps.vendors.models import PerformanceReview, Vendor
from tests.vendors.factories import VendorFactory, criteria

NEW_VENDOR = {"code": "ACME-01", "legal_name": "Acme Ltd", "category": "goods", "default_currency": "USD"}


@pytest.mark.parametrize(
    "role, read, write",
    [
        ("associate", 200, 403),
        ("approver", 200, 403),
        ("vendor_manager", 200, 201),
        ("inventory_controller", 200, 403),
        ("sop_owner", 403, 403),
        ("auditor", 200, 403),
        (None, 403, 403),
    ],
)
def test_who_may_read_and_write_vendors(api_as, role, read, write):
    VendorFactory()
    client = api_as(role)
    assert client.get("/api/v1/vendors/").status_code == read
    assert client.post("/api/v1/vendors/", NEW_VENDOR).status_code == write


def test_auditor_cannot_change_anything(api_as):
    vendor = VendorFactory()
    client = api_as("auditor")
    assert client.patch(f"/api/v1/vendors/{vendor.pk}/", {"legal_name": "x"}).status_code == 403
    assert client.post(f"/api/v1/vendors/{vendor.pk}/hold/", {"reason": "x"}).status_code == 403
    assert client.post(f"/api/v1/vendors/{vendor.pk}/confirm-bank-details/").status_code == 403
    assert client.post("/api/v1/vendor-contacts/", {"vendor": vendor.pk, "name": "x"}).status_code == 403
    assert client.post("/api/v1/vendor-reviews/", {}).status_code == 403


def test_create_update_and_the_bank_details_control(api_as):
    manager = api_as("vendor_manager")
    response = manager.post("/api/v1/vendors/", {**NEW_VENDOR, "bank_account_number": "DE89370400440532013000"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["bank_details_pending"] is True and body["status"] == "active"

    # whoever changed them cannot confirm them
    denied = manager.post(f"/api/v1/vendors/{body['id']}/confirm-bank-details/")
    assert denied.status_code == 403
    assert denied.json() == {"detail": "You changed these bank details: a different person must confirm them."}

    confirmed = api_as("approver").post(f"/api/v1/vendors/{body['id']}/confirm-bank-details/")
    assert confirmed.status_code == 200 and confirmed.json()["bank_details_pending"] is False
    assert api_as("approver").post(f"/api/v1/vendors/{body['id']}/confirm-bank-details/").status_code == 409


def test_bad_input_names_the_field_and_saves_nothing(api_as):
    manager = api_as("vendor_manager")
    manager.post("/api/v1/vendors/", NEW_VENDOR)
    duplicate = manager.post("/api/v1/vendors/", {**NEW_VENDOR, "code": "acme-01"})
    assert duplicate.status_code == 400 and "code" in duplicate.json()
    bad = manager.post("/api/v1/vendors/", {**NEW_VENDOR, "code": "NEW-1", "payment_terms_days": 999})
    assert bad.status_code == 400 and "payment_terms_days" in bad.json()
    assert Vendor.objects.count() == 1

    vendor = Vendor.objects.get()
    contract = manager.post(
        "/api/v1/vendor-contracts/",
        {"vendor": vendor.pk, "reference": "C1", "title": "t", "start_date": "2026-05-01", "end_date": "2026-04-01"},
    )
    assert contract.status_code == 400
    assert contract.json() == {"end_date": ["The contract cannot end before it starts."]}


def test_hold_block_release_through_the_api(api_as):
    vendor = VendorFactory()
    manager = api_as("vendor_manager")
    missing = manager.post(f"/api/v1/vendors/{vendor.pk}/hold/", {})
    assert missing.status_code == 400 and "reason" in missing.json()
    held = manager.post(f"/api/v1/vendors/{vendor.pk}/hold/", {"reason": "Audit", "release_date": "2099-01-31"})
    assert held.status_code == 200 and held.json()["status"] == "on_hold"
    assert manager.post(f"/api/v1/vendors/{vendor.pk}/hold/", {"reason": "again"}).status_code == 409
    released = manager.post(f"/api/v1/vendors/{vendor.pk}/release/", {"reason": "Done"})
    assert released.json()["status"] == "active"
    assert manager.post(f"/api/v1/vendors/{vendor.pk}/block/", {"reason": "Fraud"}).json()["status"] == "blocked"


def test_filters_and_search(api_as):
    VendorFactory(code="AAA-1", legal_name="Alpha", status=Vendor.Status.ACTIVE, category="goods")
    VendorFactory(code="BBB-1", legal_name="Beta", status=Vendor.Status.BLOCKED, hold_reason="x", category="software")
    client = api_as("associate")
    assert [v["code"] for v in client.get("/api/v1/vendors/?status=blocked").json()["results"]] == ["BBB-1"]
    assert [v["code"] for v in client.get("/api/v1/vendors/?category=goods").json()["results"]] == ["AAA-1"]
    assert [v["code"] for v in client.get("/api/v1/vendors/?search=alph").json()["results"]] == ["AAA-1"]


def test_contacts_one_primary(api_as):
    vendor = VendorFactory()
    manager = api_as("vendor_manager")
    first = manager.post("/api/v1/vendor-contacts/", {"vendor": vendor.pk, "name": "Ann", "is_primary": True})
    second = manager.post("/api/v1/vendor-contacts/", {"vendor": vendor.pk, "name": "Bob", "is_primary": True})
    assert first.status_code == second.status_code == 201
    primaries = manager.get(f"/api/v1/vendor-contacts/?vendor={vendor.pk}&is_primary=true").json()["results"]
    assert [c["name"] for c in primaries] == ["Bob"]


def test_review_draft_and_finalize(api_as):
    vendor = VendorFactory()
    manager = api_as("vendor_manager")
    created = manager.post(
        "/api/v1/vendor-reviews/",
        {"vendor": vendor.pk, "period_start": "2026-07-01", "period_end": "2026-09-30"},
        format="json",
    )
    assert created.status_code == 201, created.json()
    review = created.json()
    assert review["status"] == "draft" and len(review["criteria"]) == 4

    bad = manager.patch(
        f"/api/v1/vendor-reviews/{review['id']}/",
        {"criteria": [{"name": "Only", "kpi": "other", "weight": "90", "score": "80"}]},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json() == {"criteria": ["The weights must total 100; they total 90."]}

    scored = manager.patch(
        f"/api/v1/vendor-reviews/{review['id']}/",
        {
            "criteria": [
                {"name": "Delivery", "kpi": "on_time_delivery", "weight": "70", "score": "92"},
                {"name": "Quality", "kpi": "quality", "weight": "30", "score": "70"},
            ]
        },
        format="json",
    )
    assert scored.status_code == 200, scored.json()

    assert api_as("approver").post(f"/api/v1/vendor-reviews/{review['id']}/finalize/").status_code == 403
    final = manager.post(f"/api/v1/vendor-reviews/{review['id']}/finalize/")
    assert final.status_code == 200
    assert (final.json()["overall_score"], final.json()["standing"]) == ("85.40", "Good")
    again = manager.post(f"/api/v1/vendor-reviews/{review['id']}/finalize/")
    assert again.status_code == 409
    assert "Only a draft review can be finalized" in again.json()["detail"]
    frozen = manager.patch(f"/api/v1/vendor-reviews/{review['id']}/", {"comments": "late edit"}, format="json")
    assert frozen.status_code == 409

    replacement = manager.post(f"/api/v1/vendor-reviews/{review['id']}/supersede/")
    assert replacement.status_code == 201 and replacement.json()["supersedes"] == review["id"]


def test_scorecard_and_ranking_report(api_as, make_user):
    manager = make_user("vendor_manager")
    strong, weak = VendorFactory(code="STRONG"), VendorFactory(code="WEAK")
    for vendor, score in ((strong, 95), (weak, 40)):
        review = services.review_create(
            actor=manager,
            vendor_id=vendor.pk,
            period_start=date(2026, 7, 1),
            period_end=date(2026, 9, 30),
            criteria=criteria((100, score)),
        )
        services.review_finalize(review_id=review.pk, actor=manager)
    VendorFactory(code="NEW")
    client = api_as("associate")

    card = client.get(f"/api/v1/vendors/{strong.pk}/scorecard/").json()
    assert card["overall"] == ["95.00"] and card["measures"][0]["scores"] == ["95.00"]

    ranking = client.get("/api/v1/reports/vendor-scorecards/").json()
    assert [(r["rank"], r["code"], r["standing"]) for r in ranking] == [
        (1, "STRONG", "Excellent"),
        (2, "WEAK", "Poor"),
        (None, "NEW", ""),
    ]
    assert client.get("/api/v1/reports/vendor-scorecards/?format=csv").status_code == 403  # no export permission

    auditor = api_as("auditor")
    csv = auditor.get("/api/v1/reports/vendor-scorecards/?format=csv")
    assert csv.status_code == 200 and csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0] == "rank,code,legal name,category,status,latest score,standing,latest review end"
    assert lines[1].startswith("1,STRONG,")
    event = AuditEvent.objects.get(action="records.exported")
    assert event.data["rows"] == 3 and len(event.data["sha256"]) == 64
    xlsx = auditor.get("/api/v1/reports/vendor-scorecards/?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"


def test_the_review_list_does_not_query_per_row(api_as, make_user, django_assert_max_num_queries):
    manager = make_user("vendor_manager")
    for _ in range(15):
        services.review_create(
            actor=manager, vendor_id=VendorFactory().pk, period_start=date(2026, 7, 1), period_end=date(2026, 9, 30)
        )
    client = api_as("auditor")
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/vendor-reviews/")
    assert len(response.json()["results"]) == 15
    assert PerformanceReview.objects.count() == 15
    assert Decimal(response.json()["results"][0]["criteria"][0]["weight"]) == Decimal("30")
