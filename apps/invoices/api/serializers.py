from rest_framework import serializers

from apps.core.api.fast import FastRepresentationMixin
from apps.core.money import CURRENCIES
from apps.invoices.models import (
    AgingReportRun,
    CreditMemo,
    DisputeContact,
    GoodsReceipt,
    Invoice,
    InvoiceLine,
    Payment,
    PurchaseOrder,
    PurchaseOrderLine,
)
from apps.vendors.models import Vendor

# Status and choice fields are plain strings in the schema: several apps name a field "status".


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = PurchaseOrderLine
        fields = ["id", "line_number", "item_code", "description", "quantity", "unit_price", "promised_date"]
        read_only_fields = ["id", "line_number"]
        extra_kwargs = {"description": {"required": False}}


class PurchaseOrderSerializer(serializers.ModelSerializer):
    lines = PurchaseOrderLineSerializer(many=True)
    status = serializers.CharField(read_only=True)
    currency = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = PurchaseOrder
        fields = ["id", "number", "vendor", "order_date", "currency", "status", "notes", "lines", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"number": {"validators": []}}


class GoodsReceiptSerializer(serializers.ModelSerializer):
    class Meta:
        model = GoodsReceipt
        fields = ["id", "po_line", "received_date", "quantity_received", "quantity_damaged", "reference", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []


class InvoiceLineSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    match_status = serializers.CharField(read_only=True)
    match_reason = serializers.CharField(read_only=True)

    class Meta:
        model = InvoiceLine
        fields = [
            "id",
            "line_number",
            "po_line",
            "description",
            "quantity",
            "unit_price",
            "amount",
            "match_status",
            "match_reason",
            "match_detail",
        ]
        read_only_fields = ["id", "line_number", "amount", "match_detail"]
        extra_kwargs = {"description": {"required": False}, "po_line": {"required": False}}


class InvoiceSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    lines = InvoiceLineSerializer(many=True)
    vendor = serializers.PrimaryKeyRelatedField(queryset=Vendor.objects.all())
    currency = serializers.CharField(required=False, allow_blank=True)
    status = serializers.CharField(read_only=True)
    match_result = serializers.CharField(read_only=True)
    open_balance = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    due_date = serializers.DateField(required=False, allow_null=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "vendor",
            "number",
            "purchase_order",
            "invoice_date",
            "due_date",
            "currency",
            "subtotal",
            "tax",
            "total",
            "paid_amount",
            "credited_amount",
            "open_balance",
            "status",
            "match_result",
            "exception_reasons",
            "match_override_reason",
            "suspected_duplicate_of",
            "duplicate_override_reason",
            "submitted_by",
            "submitted_at",
            "approved_by",
            "approved_at",
            "second_approved_by",
            "second_approved_at",
            "scheduled_payment_date",
            "paid_at",
            "hold_reason",
            "dispute_reason",
            "cancel_reason",
            "notes",
            "lines",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            name
            for name in fields
            if name
            not in {
                "vendor",
                "number",
                "purchase_order",
                "invoice_date",
                "due_date",
                "currency",
                "tax",
                "notes",
                "lines",
            }
        ]
        validators = []  # number uniqueness is the service's rule (and the database's)


class InvoiceUpdateSerializer(InvoiceSerializer):
    vendor = serializers.PrimaryKeyRelatedField(read_only=True)
    lines = InvoiceLineSerializer(many=True, required=False)


def lines_data(lines) -> list[dict]:
    return [
        {
            "po_line": line.get("po_line"),
            "description": line.get("description", ""),
            "quantity": line["quantity"],
            "unit_price": line["unit_price"],
        }
        for line in lines
    ]


class InvoiceReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class InvoiceOptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class InvoiceSubmitSerializer(serializers.Serializer):
    duplicate_reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Needed when the invoice is a likely duplicate."
    )


class InvoiceScheduleSerializer(serializers.Serializer):
    payment_date = serializers.DateField(required=False, allow_null=True)


class CreditMemoSerializer(serializers.ModelSerializer):
    vendor = serializers.PrimaryKeyRelatedField(read_only=True)
    currency = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = CreditMemo
        fields = ["id", "vendor", "invoice", "number", "memo_date", "amount", "currency", "reason", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []


class PaymentSerializer(serializers.ModelSerializer):
    method = serializers.ChoiceField(choices=Payment.Method.choices, default=Payment.Method.ACH)

    class Meta:
        model = Payment
        fields = ["id", "invoice", "payment_date", "amount", "method", "reference", "created_at"]
        read_only_fields = ["id", "created_at"]
        validators = []


class DisputeContactSerializer(serializers.ModelSerializer):
    channel = serializers.ChoiceField(choices=DisputeContact.Channel.choices, default=DisputeContact.Channel.EMAIL)
    contacted_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = DisputeContact
        fields = ["id", "contacted_at", "channel", "contact_name", "note"]
        read_only_fields = ["id"]


class APAgingAmountsSerializer(serializers.Serializer):
    currency = serializers.CharField()
    current = serializers.CharField()
    d1_30 = serializers.CharField()
    d31_60 = serializers.CharField()
    d61_90 = serializers.CharField()
    d90_plus = serializers.CharField()
    total = serializers.CharField()


class APAgingRowSerializer(APAgingAmountsSerializer):
    vendor = serializers.IntegerField()
    vendor_code = serializers.CharField()
    vendor_name = serializers.CharField()


class APAgingReportSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    rows = APAgingRowSerializer(many=True)
    totals = APAgingAmountsSerializer(many=True)


class APAgingQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False)
    vendor = serializers.PrimaryKeyRelatedField(queryset=Vendor.objects.all(), required=False)
    currency = serializers.ChoiceField(choices=CURRENCIES, required=False)


class AgingReportRunSerializer(serializers.ModelSerializer):
    status = serializers.CharField(read_only=True)
    currency = serializers.CharField(required=False, allow_blank=True)

    class Meta:
        model = AgingReportRun
        fields = [
            "id",
            "as_of",
            "vendor",
            "currency",
            "scheduled",
            "status",
            "row_count",
            "error",
            "finished_at",
            "created_by",
            "created_at",
        ]
        read_only_fields = ["id", "scheduled", "row_count", "error", "finished_at", "created_by", "created_at"]
