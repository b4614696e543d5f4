"""FilterSets for orders and cases, shared by the API; the admin's list filters use the same conditions."""

from datetime import date

import django_filters
from django.db.models import F, Q
from django.utils import timezone

from apps.refunds import selectors
from apps.refunds.models import Order, RefundCase


def over_sla_condition(today: date) -> Q:
    """Open past the due date, or processed after it."""
    return Q(status__in=RefundCase.OPEN_STATUSES, due_date__lt=today) | Q(
        processed_at__isnull=False, resolved_on__gt=F("due_date")
    )


def open_in_bucket(bucket: str, today: date) -> Q:
    return Q(status__in=RefundCase.OPEN_STATUSES) & selectors.bucket_filters(today)[bucket]


class OrderFilter(django_filters.FilterSet):
    channel = django_filters.CharFilter(field_name="channel__code")
    ordered_after = django_filters.DateFilter(field_name="order_date", lookup_expr="gte")
    ordered_before = django_filters.DateFilter(field_name="order_date", lookup_expr="lte")

    class Meta:
        model = Order
        fields = ["reference", "currency", "channel", "ordered_after", "ordered_before"]


class RefundCaseFilter(django_filters.FilterSet):
    type = django_filters.MultipleChoiceFilter(choices=RefundCase.Type.choices)
    status = django_filters.MultipleChoiceFilter(choices=RefundCase.Status.choices)
    reason = django_filters.CharFilter(field_name="reason__code")
    channel = django_filters.CharFilter(field_name="order__channel__code")
    order = django_filters.CharFilter(field_name="order__reference", help_text="Order reference")
    requested_after = django_filters.IsoDateTimeFilter(field_name="requested_at", lookup_expr="gte")
    requested_before = django_filters.IsoDateTimeFilter(field_name="requested_at", lookup_expr="lt")
    over_sla = django_filters.BooleanFilter(method="filter_over_sla", help_text="Open or processed past the due date")
    age_bucket = django_filters.ChoiceFilter(
        choices=list(selectors.BUCKET_LABELS.items()), method="filter_age_bucket", help_text="Open cases, as of today"
    )

    class Meta:
        model = RefundCase
        fields = ["type", "status", "reason", "channel", "currency", "order", "network", "outcome"]

    def filter_over_sla(self, queryset, name, value):
        condition = over_sla_condition(timezone.localdate())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_age_bucket(self, queryset, name, value):
        return queryset.filter(open_in_bucket(value, timezone.localdate()))
