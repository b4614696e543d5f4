from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.invoices import services
from apps.invoices.selectors import BUCKETS, aging_as_json, ap_aging
from apps.vendors import services as vendor_services
from apps.vendors.models import ReviewCriterion
from tests.invoices.factories import PurchaseOrderLineFactory, ReceiptFactory
from tests.vendors.factories import VendorFactory

pytestmark = pytest.mark.django_db
AS_OF = date(2026, 11, 20)


@pytest.fixture
def vendor():
    return VendorFactory(code="AGE-01")


@pytest.fixture
def open_invoice(associate, vendor):
    """open_invoice(days_past_due, amount) — a submitted invoice due that many days before AS_OF."""

    def make(days_past_due, amount="100.00", **kwargs):
        due = AS_OF - timedelta(days=days_past_due)
        invoice = services.invoice_create(
            actor=associate,
            vendor_id=kwargs.pop("vendor", vendor).pk,
            number=f"A{days_past_due}-{amount}-{make.n}",
            invoice_date=min(due, AS_OF),
            due_date=due,
            lines=[{"description": "Service", "quantity": "1", "unit_price": amount}],
            **kwargs,
        )
        make.n += 1
        return services.invoice_submit(invoice_id=invoice.pk, actor=associate)

    make.n = 0
    return make


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-5, "current"),
        (0, "current"),
        (1, "d1_30"),
        (30, "d1_30"),
        (31, "d31_60"),
        (60, "d31_60"),
        (61, "d61_90"),
        (90, "d61_90"),
        (91, "d90_plus"),
    ],
)
def test_each_boundary_day_falls_in_exactly_one_bucket(open_invoice, days, bucket):
    open_invoice(days, "123.45")

    report = ap_aging(as_of=AS_OF)

    [row] = report.rows
    assert row[bucket] == Decimal("123.45")
    assert all(row[name] == 0 for name in BUCKETS if name != bucket)
    assert row["total"] == Decimal("123.45")


def test_buckets_add_up_to_the_open_balance_after_payments_and_credits(open_invoice, approver, associate):
    amounts = {0: "10.01", 1: "20.02", 30: "30.03", 31: "40.04", 60: "50.05", 61: "60.06", 90: "70.07", 91: "80.08"}
    invoices = {days: open_invoice(days, amount) for days, amount in amounts.items()}
    paid = invoices[91]
    services.invoice_override_match(invoice_id=paid.pk, actor=approver, reason="Services, no order")
    services.invoice_approve(invoice_id=paid.pk, actor=approver)
    services.invoice_schedule(invoice_id=paid.pk, actor=approver)
    services.payment_record(invoice_id=paid.pk, actor=associate, amount="0.08", payment_date=AS_OF, reference="PART")
    services.credit_memo_apply(
        actor=associate, invoice_id=invoices[0].pk, number="C1", memo_date=AS_OF, amount="0.01", reason="Rounding"
    )

    report = ap_aging(as_of=AS_OF)

    [row] = report.rows
    expected_open = sum(Decimal(a) for a in amounts.values()) - Decimal("0.09")
    assert row["total"] == expected_open
    assert sum(row[name] for name in BUCKETS) == row["total"]
    assert row["d90_plus"] == Decimal("80.00")
    assert row["current"] == Decimal("10.00")
    assert report.totals[0]["total"] == expected_open


def test_payments_after_the_as_of_day_still_count_as_open(open_invoice, approver, associate):
    invoice = open_invoice(10, "50.00")
    services.invoice_override_match(invoice_id=invoice.pk, actor=approver, reason="Services, no order")
    services.invoice_approve(invoice_id=invoice.pk, actor=approver)
    services.invoice_schedule(invoice_id=invoice.pk, actor=approver)
    services.payment_record(invoice_id=invoice.pk, actor=associate, amount="50.00", payment_date=AS_OF, reference="X")

    assert ap_aging(as_of=AS_OF - timedelta(days=1)).rows[0]["d1_30"] == Decimal("50.00")
    assert ap_aging(as_of=AS_OF).rows == []


def test_drafts_cancelled_and_future_invoices_are_left_out(open_invoice, associate, vendor):
    cancelled = open_invoice(5, "10.00")
    services.invoice_cancel(invoice_id=cancelled.pk, actor=associate, reason="Wrong vendor")
    services.invoice_create(
        actor=associate,
        vendor_id=vendor.pk,
        number="DRAFT",
        invoice_date=AS_OF,
        lines=[{"description": "x", "quantity": "1", "unit_price": "5"}],
    )
    assert ap_aging(as_of=AS_OF).rows == []


def test_aging_is_one_query_per_vendor_and_currency_with_totals_per_currency(open_invoice):
    eur = VendorFactory(code="EUR-01", default_currency="EUR")
    open_invoice(5, "10.00")
    open_invoice(45, "20.00")
    open_invoice(5, "7.00", vendor=eur)
    open_invoice(100, "3.00", vendor=eur)

    with CaptureQueriesContext(connection) as queries:
        report = ap_aging(as_of=AS_OF)

    assert len(queries.captured_queries) == 1
    assert [(r["vendor__code"], r["currency"], r["total"]) for r in report.rows] == [
        ("AGE-01", "USD", Decimal("30.00")),
        ("EUR-01", "EUR", Decimal("10.00")),
    ]
    assert {t["currency"]: t["total"] for t in report.totals} == {"EUR": Decimal("10.00"), "USD": Decimal("30.00")}
    data = aging_as_json(ap_aging(as_of=AS_OF, currency="EUR"))
    assert data["rows"][0]["d90_plus"] == "3.00"
    assert data["totals"] == [
        {
            "currency": "EUR",
            "current": "0.00",
            "d1_30": "7.00",
            "d31_60": "0.00",
            "d61_90": "0.00",
            "d90_plus": "3.00",
            "total": "10.00",
        }
    ]


# --- KPIs proposed to vendor reviews ------------------------------------------------------------


def test_a_drafted_vendor_review_proposes_the_measured_kpis(make_user, submitted, associate):
    manager = make_user("vendor_manager")
    line = PurchaseOrderLineFactory(promised_date=date(2026, 9, 10))
    vendor = line.purchase_order.vendor
    ReceiptFactory(po_line=line, received_date=date(2026, 9, 10), quantity_received=Decimal("50"))
    ReceiptFactory(po_line=line, received_date=date(2026, 9, 12), quantity_received=Decimal("50"))
    submitted(line, "100")
    disputed = submitted(line, "1", invoice_date=date(2026, 10, 2))  # over ordered: exception
    services.invoice_dispute(invoice_id=disputed.pk, actor=associate, reason="Not ordered")

    review = vendor_services.review_create(
        actor=manager,
        vendor_id=vendor.pk,
        period_start=date(2026, 7, 1),
        period_end=date(2026, 12, 31),
        criteria=[
            {"name": "On time", "kpi": ReviewCriterion.Kpi.ON_TIME_DELIVERY, "weight": Decimal("40")},
            {"name": "Accuracy", "kpi": ReviewCriterion.Kpi.INVOICE_ACCURACY, "weight": Decimal("30")},
            {"name": "Disputes", "kpi": ReviewCriterion.Kpi.DISPUTE_RATE, "weight": Decimal("30")},
        ],
    )

    proposed = {c.kpi: (c.proposed_score, c.proposed_basis) for c in review.criteria.all()}
    assert proposed["on_time_delivery"] == (Decimal("50.00"), "1 of 2 receipts on or before the promised date")
    assert proposed["invoice_accuracy"] == (Decimal("50.00"), "1 of 2 invoices matched without an exception")
    assert proposed["dispute_rate"] == (Decimal("50.00"), "1 of 2 invoices disputed")


def test_kpis_without_data_propose_nothing(make_user):
    from apps.invoices import kpis

    vendor = VendorFactory()
    assert kpis.on_time_delivery(vendor_id=vendor.pk, start=date(2026, 1, 1), end=date(2026, 12, 31)) is None
    assert kpis.invoice_accuracy(vendor_id=vendor.pk, start=date(2026, 1, 1), end=date(2026, 12, 31)) is None


@pytest.mark.parametrize(
    "situation", ["ready", "entered by me", "submitted by me", "first approval mine", "I changed the bank details"]
)
def test_awaiting_my_approval_lists_exactly_what_the_approve_service_would_let_me_approve(
    submitted, po_line, approver, settings, situation
):
    from django.core.exceptions import PermissionDenied
    from django.db import transaction
    from django.utils import timezone

    from apps.invoices import selectors, services
    from apps.invoices.models import Invoice
    from apps.vendors.models import Vendor

    settings.INVOICE_SECOND_APPROVAL_THRESHOLD = "1.00"  # every invoice needs two approvals
    invoice = submitted(po_line)
    change = {
        "ready": {},
        "entered by me": {"created_by": approver},
        "submitted by me": {"submitted_by": approver},
        "first approval mine": {"approved_by": approver},
    }.get(situation)
    if change is None:
        Vendor.objects.filter(pk=invoice.vendor_id).update(
            bank_details_changed_by=approver, bank_details_changed_at=timezone.now()
        )
    else:
        Invoice.objects.filter(pk=invoice.pk).update(**change)

    listed = selectors.invoices_awaiting_approval_by(approver).filter(pk=invoice.pk).exists()
    with transaction.atomic():
        try:
            services.invoice_approve(invoice_id=invoice.pk, actor=approver)
            allowed = True
        except PermissionDenied:
            allowed = False
        transaction.set_rollback(True)

    assert listed == allowed == (situation == "ready")
