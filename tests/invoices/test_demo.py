"""Demo data: about 2,000 invoices over 18 months, every rule true in the data, and a second run changes nothing."""

import time
from decimal import Decimal

import pytest
from django.db.models import F, Q, Sum
from django.utils import timezone

from apps.invoices import demo
from apps.invoices.models import Invoice, InvoiceLine, Payment
from apps.invoices.policy import second_approval_threshold
from apps.invoices.selectors import ap_aging
from apps.vendors import demo as vendor_demo

pytestmark = pytest.mark.django_db
S = Invoice.Status


def test_seed_is_realistic_keeps_the_rules_and_is_idempotent(make_user):
    users = {
        name: make_user(role)
        for name, role in [
            ("associate", "associate"),
            ("associate2", "associate"),
            ("approver", "approver"),
            ("approver2", "approver"),
            ("vendor_manager", "vendor_manager"),
        ]
    }
    vendor_demo.seed(users=users)

    started = time.monotonic()
    demo.seed(users=users)
    elapsed = time.monotonic() - started
    count = Invoice.objects.count()
    demo.seed(users=users)

    assert Invoice.objects.count() == count
    assert 1990 <= count <= 2010
    assert elapsed < 120
    statuses = set(Invoice.objects.values_list("status", flat=True))
    assert {S.PAID, S.EXCEPTION, S.DISPUTED, S.APPROVED, S.SCHEDULED, S.MATCHED, S.DRAFT} <= statuses
    assert Invoice.objects.filter(status=S.PAID).count() > count * 0.6
    span = Invoice.objects.order_by("invoice_date").first().invoice_date, timezone.localdate()
    assert (span[1] - span[0]).days >= 500

    # Rules true in the data.
    assert all(t == s + x for s, x, t in Invoice.objects.values_list("subtotal", "tax", "total"))
    assert not Invoice.objects.filter(Q(approved_by=F("created_by")) | Q(approved_by=F("submitted_by"))).exists()
    big = Invoice.objects.filter(total__gt=second_approval_threshold(), status__in=[S.APPROVED, S.SCHEDULED, S.PAID])
    assert not big.filter(second_approved_by__isnull=True).exists()
    for invoice in Invoice.objects.filter(status=S.PAID).annotate(paid=Sum("payments__amount"))[:300]:
        assert (invoice.paid or Decimal(0)) + invoice.credited_amount == invoice.total
    assert not Invoice.objects.filter(
        status__in=[S.APPROVED, S.SCHEDULED], vendor__status__in=["on_hold", "blocked"]
    ).exists()
    assert not Invoice.objects.filter(status__in=[S.APPROVED, S.SCHEDULED], vendor__bank_details_pending=True).exists()
    for invoice in Invoice.objects.filter(status=S.SCHEDULED, paid_amount__gt=0)[:50]:
        assert invoice.payments.aggregate(s=Sum("amount"))["s"] == invoice.paid_amount
    assert not Invoice.objects.filter(status=S.EXCEPTION, exception_reasons="").exists()
    assert not InvoiceLine.objects.filter(invoice__status=S.EXCEPTION, match_status="pending").exists()
    assert Payment.objects.count() >= Invoice.objects.filter(status=S.PAID, credited_amount__lt=F("total")).count()

    # Overdue in every aging bucket.
    report = ap_aging(as_of=timezone.localdate())
    for bucket in ("current", "d1_30", "d31_60", "d61_90", "d90_plus"):
        assert sum(t[bucket] for t in report.totals) > 0, bucket
