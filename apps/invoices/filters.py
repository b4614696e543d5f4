"""Filters shared by the API and the admin: status, vendor, due-date ranges, overdue, exception reason, currency."""

import django_filters
from django.utils import timezone

from apps.invoices.models import (
    AgingReportRun,
    CreditMemo,
    ExceptionReason,
    GoodsReceipt,
    Invoice,
    Payment,
    PurchaseOrder,
)


def overdue(queryset, value: bool):
    """Open invoices past their due date (or, with ``False``, everything else)."""
    condition = {"status__in": Invoice.OPEN_STATUSES, "due_date__lt": timezone.localdate()}
    return queryset.filter(**condition) if value else queryset.exclude(**condition)


def with_exception_reason(queryset, code: str):
    return queryset.filter(exception_reasons__contains=code) if code else queryset


class InvoiceFilter(django_filters.FilterSet):
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    invoice_date_after = django_filters.DateFilter(field_name="invoice_date", lookup_expr="gte")
    invoice_date_before = django_filters.DateFilter(field_name="invoice_date", lookup_expr="lte")
    overdue = django_filters.BooleanFilter(method="filter_overdue")
    exception_reason = django_filters.ChoiceFilter(choices=ExceptionReason.choices, method="filter_exception_reason")

    class Meta:
        model = Invoice
        fields = ["status", "vendor", "currency", "match_result", "purchase_order", "number"]

    def filter_overdue(self, queryset, name, value):
        return overdue(queryset, value)

    def filter_exception_reason(self, queryset, name, value):
        return with_exception_reason(queryset, value)


class PurchaseOrderFilter(django_filters.FilterSet):
    class Meta:
        model = PurchaseOrder
        fields = ["vendor", "status", "currency", "number"]


class GoodsReceiptFilter(django_filters.FilterSet):
    received_after = django_filters.DateFilter(field_name="received_date", lookup_expr="gte")
    received_before = django_filters.DateFilter(field_name="received_date", lookup_expr="lte")
    purchase_order = django_filters.NumberFilter(field_name="po_line__purchase_order")

    class Meta:
        model = GoodsReceipt
        fields = ["po_line", "purchase_order", "received_after", "received_before"]


class CreditMemoFilter(django_filters.FilterSet):
    class Meta:
        model = CreditMemo
        fields = ["vendor", "invoice", "currency"]


class PaymentFilter(django_filters.FilterSet):
    paid_after = django_filters.DateFilter(field_name="payment_date", lookup_expr="gte")
    paid_before = django_filters.DateFilter(field_name="payment_date", lookup_expr="lte")
    vendor = django_filters.NumberFilter(field_name="invoice__vendor")

    class Meta:
        model = Payment
        fields = ["invoice", "method", "vendor", "paid_after", "paid_before"]


class AgingReportRunFilter(django_filters.FilterSet):
    class Meta:
        model = AgingReportRun
        fields = ["as_of", "status", "scheduled"]
