from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.vendors import services
from apps.vendors.models import PerformanceReview, StandingBand, Vendor
from apps.vendors.resources import VendorResource
from tests.vendors.factories import VendorFactory, criteria


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_vendor_list_has_a_bounded_number_of_queries(manager_client, django_assert_max_num_queries):
    for _ in range(30):
        VendorFactory()
    with django_assert_max_num_queries(12):
        response = manager_client.get(reverse("admin:vendors_vendor_changelist"))
    assert response.status_code == 200
    assert response.content.count(b'class="action-select"') == 30
    assert b"Scorecards" in response.content and b"Import" in response.content


def test_search_and_filters(manager_client):
    VendorFactory(code="FIND-ME", legal_name="Findable GmbH", tax_id="DE123")
    VendorFactory(code="OTHER")
    page = manager_client.get(reverse("admin:vendors_vendor_changelist") + "?q=DE123").content.decode()
    assert "FIND-ME" in page and "OTHER" not in page
    page = manager_client.get(reverse("admin:vendors_vendor_changelist") + "?status__exact=on_hold").content.decode()
    assert "FIND-ME" not in page


def test_adding_a_vendor_in_the_admin_holds_its_bank_details(manager_client, manager):
    response = manager_client.post(
        reverse("admin:vendors_vendor_add"),
        {
            "code": "NEW-01",
            "legal_name": "New Vendor",
            "category": "goods",
            "payment_terms_days": "30",
            "default_currency": "EUR",
            "bank_account_number": "DE89370400440532013000",
            "contacts-TOTAL_FORMS": "2",
            "contacts-INITIAL_FORMS": "0",
            "contacts-0-name": "Ann",
            "contacts-0-is_primary": "on",
            "contacts-1-name": "Bob",
            "contracts-TOTAL_FORMS": "0",
            "contracts-INITIAL_FORMS": "0",
            "reviews-TOTAL_FORMS": "0",
            "reviews-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["errors"] if response.context else response
    vendor = Vendor.objects.get(code="NEW-01")
    assert vendor.bank_details_pending and vendor.bank_details_changed_by == manager
    assert [c.name for c in vendor.contacts.filter(is_primary=True)] == ["Ann"]
    assert vendor.contacts.count() == 2


def test_two_primary_contacts_are_refused_in_the_form(manager_client):
    response = manager_client.post(
        reverse("admin:vendors_vendor_add"),
        {
            "code": "NEW-02",
            "legal_name": "New Vendor",
            "category": "goods",
            "payment_terms_days": "30",
            "default_currency": "EUR",
            "contacts-TOTAL_FORMS": "2",
            "contacts-INITIAL_FORMS": "0",
            "contacts-0-name": "Ann",
            "contacts-0-is_primary": "on",
            "contacts-1-name": "Bob",
            "contacts-1-is_primary": "on",
            "contracts-TOTAL_FORMS": "0",
            "contracts-INITIAL_FORMS": "0",
            "reviews-TOTAL_FORMS": "0",
            "reviews-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "Only one contact can be the primary contact." in response.content.decode()
    assert not Vendor.objects.filter(code="NEW-02").exists()


def test_hold_action_asks_for_a_reason_then_holds(manager_client):
    vendor = VendorFactory()
    url = reverse("admin:vendors_vendor_changelist")
    base = {"action": "put_on_hold", "_selected_action": [vendor.pk]}

    confirm = manager_client.post(url, base)
    assert confirm.status_code == 200 and "Hold reason" in confirm.content.decode()
    # the confirmation posts back the action under the name the admin registered it by
    assert '<input type="hidden" name="action" value="put_on_hold">' in confirm.content.decode()

    missing = manager_client.post(url, {**base, "confirmed": "yes", "reason": ""})
    assert "Hold reason is required." in missing.content.decode()
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.ACTIVE

    done = manager_client.post(url, {**base, "confirmed": "yes", "reason": "Insurance expired"}, follow=True)
    assert "Put on hold: 1 vendor." in done.content.decode()
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.ON_HOLD and vendor.hold_reason == "Insurance expired"


def test_confirming_own_bank_change_is_refused_with_a_message(manager_client, manager):
    vendor = services.vendor_save(
        actor=manager, code="BANK-1", legal_name="Bank", category="goods", bank_account_number="123"
    )
    response = manager_client.post(
        reverse("admin:vendors_vendor_changelist"),
        {"action": "confirm_bank_details", "_selected_action": [vendor.pk], "confirmed": "yes"},
        follow=True,
    )
    assert "a different person must confirm them" in response.content.decode()
    vendor.refresh_from_db()
    assert vendor.bank_details_pending
    assert AuditEvent.objects.filter(action="vendor.confirmed", outcome="denied").exists()


def test_vendor_page_shows_the_scorecard(manager_client, manager):
    vendor = VendorFactory()
    for end, score in ((date(2026, 3, 31), 70), (date(2026, 6, 30), 80)):
        review = services.review_create(
            actor=manager,
            vendor_id=vendor.pk,
            period_start=end.replace(day=1),
            period_end=end,
            criteria=criteria((100, score)),
        )
        services.review_finalize(review_id=review.pk, actor=manager)
    page = manager_client.get(reverse("admin:vendors_vendor_change", args=[vendor.pk])).content.decode()
    assert 'id="scorecard-chart"' in page
    assert '"overall": ["70.00", "80.00"]' in page
    assert "vendor/chartjs/chart.umd.min.js" in page


def test_scorecards_page_and_export(client, manager, make_user):
    vendor = VendorFactory(code="TOP")
    review = services.review_create(
        actor=manager,
        vendor_id=vendor.pk,
        period_start=date(2026, 7, 1),
        period_end=date(2026, 9, 30),
        criteria=criteria((100, 91)),
    )
    services.review_finalize(review_id=review.pk, actor=manager)
    client.force_login(make_user("auditor"))
    page = client.get(reverse("admin:vendors_vendor_scorecards")).content.decode()
    assert "TOP" in page and "Excellent" in page and "Export CSV" in page
    export = client.get(reverse("admin:vendors_vendor_scorecards") + "?format=csv")
    assert export.status_code == 200 and b"TOP" in export.content
    assert client.get(reverse("admin:vendors_vendor_scorecards") + "?format=pdf").status_code == 400


def test_bands_are_validated_as_a_whole_on_the_list_page(client, manager):
    client.force_login(manager)
    bands = list(StandingBand.objects.order_by("min_score"))
    data = {"form-TOTAL_FORMS": str(len(bands)), "form-INITIAL_FORMS": str(len(bands)), "_save": "Save"}
    for i, band in enumerate(bands):
        data.update(
            {f"form-{i}-id": band.pk, f"form-{i}-min_score": band.min_score, f"form-{i}-max_score": band.max_score}
        )
    data["form-0-max_score"] = "55"  # Poor now overlaps Fair (50-75)

    response = client.post(reverse("admin:vendors_standingband_changelist"), data)

    assert response.status_code == 200
    assert "overlap between 50.00 and 55" in response.content.decode()
    assert StandingBand.objects.get(name="Poor").max_score == Decimal("50")


def test_review_add_then_score_then_finalize_in_the_admin(manager_client, manager):
    vendor = VendorFactory()
    added = manager_client.post(
        reverse("admin:vendors_performancereview_add"),
        {"vendor": vendor.pk, "period_start": "2026-07-01", "period_end": "2026-09-30", "reviewer": manager.pk},
    )
    assert added.status_code == 302
    review = PerformanceReview.objects.get()
    criteria_rows = list(review.criteria.all())
    assert len(criteria_rows) == 4

    data = {
        "vendor": vendor.pk,
        "period_start": "2026-07-01",
        "period_end": "2026-09-30",
        "reviewer": manager.pk,
        "comments": "Solid quarter",
        "criteria-TOTAL_FORMS": "4",
        "criteria-INITIAL_FORMS": "4",
        "action_items-TOTAL_FORMS": "0",
        "action_items-INITIAL_FORMS": "0",
        "_finalize": "Save and finalize",
    }
    for i, c in enumerate(criteria_rows):
        data.update(
            {
                f"criteria-{i}-id": c.pk,
                f"criteria-{i}-review": review.pk,
                f"criteria-{i}-name": c.name,
                f"criteria-{i}-kpi": c.kpi,
                f"criteria-{i}-weight": c.weight,
                f"criteria-{i}-score": "80",
            }
        )
    data["criteria-0-weight"] = "40"  # now 110 in all
    bad = manager_client.post(reverse("admin:vendors_performancereview_change", args=[review.pk]), data)
    assert bad.status_code == 200
    assert "The weights must total 100; they total 110." in bad.content.decode()

    data["criteria-0-weight"] = "30"
    done = manager_client.post(reverse("admin:vendors_performancereview_change", args=[review.pk]), data)
    assert done.status_code == 302
    review.refresh_from_db()
    assert review.status == PerformanceReview.Status.FINALIZED
    assert (review.overall_score, review.standing, review.comments) == (Decimal("80.00"), "Good", "Solid quarter")

    frozen = manager_client.get(reverse("admin:vendors_performancereview_change", args=[review.pk])).content.decode()
    assert 'name="_save"' not in frozen and "Save and finalize" not in frozen


def test_import_goes_through_the_service_and_holds_bank_changes(manager, approver, make_user):
    import tablib

    vendor = services.vendor_save(actor=manager, code="IMP-1", legal_name="Old name", category="goods")
    dataset = tablib.Dataset(headers=["code", "legal_name", "category", "bank_account_number"])
    dataset.append(["IMP-1", "New name", "goods", "111222333"])
    dataset.append(["IMP-2", "Second", "services", ""])

    refused = VendorResource().import_data(dataset, dry_run=False, user=approver)  # approvers keep no vendors
    assert refused.has_errors()
    assert "You may not change vendors." in str(refused.rows[0].errors[0].error)
    vendor.refresh_from_db()
    assert vendor.legal_name == "Old name" and not Vendor.objects.filter(code="IMP-2").exists()

    importer = make_user("vendor_manager")
    result = VendorResource().import_data(dataset, dry_run=False, user=importer)

    assert not result.has_errors() and not result.has_validation_errors()
    vendor.refresh_from_db()
    assert vendor.legal_name == "New name" and vendor.bank_details_pending
    assert vendor.bank_details_changed_by == importer
    assert Vendor.objects.get(code="IMP-2").category == "services"
    again = VendorResource().import_data(dataset, dry_run=False, user=importer)
    assert [row.import_type for row in again.rows] == ["skip", "skip"]  # same file: nothing changes


def test_auditors_may_export_but_not_import(client, make_user):
    client.force_login(make_user("auditor"))
    page = client.get(reverse("admin:vendors_vendor_changelist")).content.decode()
    assert "Export" in page and "import_link" not in page
    assert client.get(reverse("admin:core_importjob_add") + "?target=vendors.vendor").status_code == 403


def test_admin_export_needs_export_records_is_formula_safe_and_audited(client, make_user):
    VendorFactory(code="EVIL-1", legal_name="=HYPERLINK(1)", remit_to="-5 Main St", payment_terms_days=30)
    client.force_login(make_user("vendor_manager"))  # keeps vendors, but exporting is the auditors' permission
    assert client.get(reverse("admin:vendors_vendor_export")).status_code == 403

    client.force_login(make_user("auditor"))
    page = client.get(reverse("admin:vendors_vendor_export")).content.decode()
    assert ">csv" in page and ">xlsx" in page and ">json" not in page
    response = client.post(
        reverse("admin:vendors_vendor_export"),
        {
            "format": "0",
            "resource": "0",
            "vendorresource_code": "on",
            "vendorresource_legal_name": "on",
            "vendorresource_remit_to": "on",
            "vendorresource_payment_terms_days": "on",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "'=HYPERLINK(1)" in body and "'-5 Main St" in body
    assert ",30" in body  # numbers stay numbers
    event = AuditEvent.objects.get(action="records.exported")
    assert event.data["what"] == "vendors.vendor" and event.data["rows"] == 1 and len(event.data["sha256"]) == 64


def test_vendor_pages_show_the_sop_in_force(manager_client):
    vendor = VendorFactory()
    for url in (
        reverse("admin:vendors_vendor_changelist"),
        reverse("admin:vendors_vendor_change", args=[vendor.pk]),
        reverse("admin:vendors_performancereview_changelist"),
    ):
        page = manager_client.get(url).content.decode()
        assert 'data-testid="sop-in-force"' in page, url
        assert "No SOP is in force for Vendors." in page
