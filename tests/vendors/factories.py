from datetime import date
from decimal import Decimal

import factory

from apps.vendors.models import PerformanceReview, ReviewCriterion, Vendor, VendorContract
from tests.core.factories import UserFactory


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor

    code = factory.Sequence(lambda n: f"V-{n:04d}")
    legal_name = factory.Sequence(lambda n: f"Vendor {n} Ltd")
    category = Vendor.Category.GOODS
    default_currency = "USD"


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VendorContract

    vendor = factory.SubFactory(VendorFactory)
    reference = factory.Sequence(lambda n: f"C-{n}")
    title = "Supply agreement"
    start_date = date(2026, 1, 1)
    end_date = date(2026, 12, 31)


class ReviewFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PerformanceReview

    vendor = factory.SubFactory(VendorFactory)
    period_start = date(2026, 7, 1)
    period_end = date(2026, 9, 30)
    reviewer = factory.SubFactory(UserFactory)


def criteria(*weights_and_scores):
    """criteria((60, 80), (40, 90)) — the dicts the services take."""
    return [
        {"name": f"Criterion {i}", "kpi": ReviewCriterion.Kpi.OTHER, "weight": Decimal(w), "score": Decimal(s)}
        for i, (w, s) in enumerate(weights_and_scores, start=1)
    ]
