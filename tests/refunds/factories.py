from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from apps.refunds.models import ApproverLimit, Channel, Order, OrderLine, ReasonCode, RefundPolicy


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ["code"]

    code = "web"
    name = "Web shop"
    return_window_days = 30


class ReasonCodeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReasonCode
        django_get_or_create = ["code"]

    code = "damaged"
    label = "Arrived damaged"


class PolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RefundPolicy

    dual_approval_threshold = Decimal("500.00")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    reference = factory.Sequence(lambda n: f"SO-T{n:05d}")
    customer_name = "Jane Doe"
    customer_email = factory.Sequence(lambda n: f"jane.doe{n}@example.com")
    order_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=3))
    channel = factory.SubFactory(ChannelFactory)
    currency = "EUR"
    total = Decimal("1000.00")
    amount_paid = Decimal("1000.00")


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    sku = factory.Sequence(lambda n: f"SKU-{n:04d}")
    description = "Desk lamp"
    quantity = 2
    unit_price = Decimal("100.00")


class ApproverLimitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApproverLimit

    max_amount = Decimal("1000.00")
