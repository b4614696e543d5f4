from decimal import Decimal

from django.utils.functional import cached_property
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fast import FastRepresentationMixin
from apps.refunds import services
from apps.refunds.models import (
    CaseApproval,
    CaseAttachment,
    Channel,
    Order,
    OrderLine,
    Payout,
    ReasonCode,
    RefundCase,
    ReportRun,
    ReturnLine,
)
from apps.refunds.pii import can_see_pii, mask_email, mask_name

MONEY = {"max_digits": 14, "decimal_places": 2}


def choice(choices, **kwargs) -> serializers.ChoiceField:
    """A choice field documented inline (no shared enum component whose name other apps could also use)."""
    values = [value for value, _ in choices]

    @extend_schema_field({"type": "string", "enum": values + ([""] if kwargs.get("allow_blank") else [])})
    class InlineChoiceField(serializers.ChoiceField):
        pass

    return InlineChoiceField(choices=choices, **kwargs)


CURRENCY = {"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO-4217 currency code"}


@extend_schema_field(CURRENCY)
class CurrencyCodeField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "description": "Chargebacks: won, lost, accepted; empty until decided"})
class OutcomeTextField(serializers.CharField):
    pass


class ChannelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Channel
        fields = ["id", "code", "name", "return_window_days"]


class ReasonCodeSerializer(serializers.ModelSerializer):
    type = choice(RefundCase.Type.choices, source="case_type", allow_blank=True, read_only=True)

    class Meta:
        model = ReasonCode
        fields = ["id", "code", "label", "type", "active"]


class OrderLineSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "sku", "description", "quantity", "unit_price"]


class OrderSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    """An order; customer name and e-mail masked for people without ``view_customer_pii``."""

    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    currency = CurrencyCodeField(read_only=True)
    refundable_remaining = serializers.SerializerMethodField()
    lines = OrderLineSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "reference",
            "customer_name",
            "customer_email",
            "order_date",
            "channel",
            "currency",
            "total",
            "amount_paid",
            "committed_amount",
            "refundable_remaining",
            "lines",
        ]

    def get_refundable_remaining(self, obj) -> str:
        lost = getattr(obj, "chargeback_lost", None)
        if lost is None:
            return str(services.refundable_remaining(obj))
        return str((obj.amount_paid - obj.committed_amount - Decimal(lost)).quantize(Decimal("0.01")))

    @cached_property
    def sees_pii(self) -> bool:
        """Asked once per serializer, so once per page of a list."""
        request = self.context.get("request")
        return can_see_pii(getattr(request, "user", None))

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not self.sees_pii:
            data["customer_name"] = mask_name(instance.customer_name)
            data["customer_email"] = mask_email(instance.customer_email)
        return data


class OrderLineInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    description = serializers.CharField(max_length=255, required=False, allow_blank=True)
    quantity = serializers.IntegerField(min_value=1)
    unit_price = serializers.DecimalField(**MONEY)


class OrderCreateSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=40)
    customer_name = serializers.CharField(max_length=200)
    customer_email = serializers.EmailField()
    order_date = serializers.DateField()
    channel = serializers.SlugRelatedField(slug_field="code", queryset=Channel.objects.all())
    currency = CurrencyCodeField(max_length=3)
    total = serializers.DecimalField(**MONEY)
    amount_paid = serializers.DecimalField(**MONEY)
    lines = OrderLineInputSerializer(many=True, required=False)


class OrderUpdateSerializer(serializers.Serializer):
    customer_name = serializers.CharField(max_length=200, required=False)
    customer_email = serializers.EmailField(required=False)
    order_date = serializers.DateField(required=False)
    channel = serializers.SlugRelatedField(slug_field="code", queryset=Channel.objects.all(), required=False)
    total = serializers.DecimalField(**MONEY, required=False)
    amount_paid = serializers.DecimalField(**MONEY, required=False)


class ApprovalSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    approver = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CaseApproval
        fields = ["level", "approver", "approved_at", "sop_version"]


class PayoutSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    method = choice(Payout.Method.choices, read_only=True)
    currency = CurrencyCodeField(read_only=True)
    paid_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Payout
        fields = ["id", "method", "amount", "currency", "paid_at", "paid_by", "idempotency_key"]


class ReturnLineSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    sku = serializers.CharField(source="order_line.sku", read_only=True)
    condition = choice(ReturnLine.Condition.choices, allow_blank=True, read_only=True)
    disposition = choice(ReturnLine.Disposition.choices, allow_blank=True, read_only=True)

    class Meta:
        model = ReturnLine
        fields = ["id", "order_line", "sku", "quantity", "condition", "disposition", "inspected_at", "stock_posted_at"]


class CaseAttachmentSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    class Meta:
        model = CaseAttachment
        fields = ["id", "file", "description", "created_at"]
        read_only_fields = ["created_at"]


class RefundCaseSerializer(FastRepresentationMixin, serializers.ModelSerializer):
    order_reference = serializers.CharField(source="order.reference", read_only=True)
    type = choice(RefundCase.Type.choices, read_only=True)
    status = choice(RefundCase.Status.choices, read_only=True)
    currency = CurrencyCodeField(read_only=True)
    network = choice(RefundCase.Network.choices, allow_blank=True, read_only=True)
    outcome = OutcomeTextField(read_only=True)
    reason = serializers.SlugRelatedField(slug_field="code", read_only=True)
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    processed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    over_sla = serializers.BooleanField(read_only=True)
    approvals = ApprovalSerializer(many=True, read_only=True)
    payout = serializers.SerializerMethodField()
    return_lines = ReturnLineSerializer(many=True, read_only=True)
    attachments = CaseAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = RefundCase
        fields = [
            "id",
            "reference",
            "order",
            "order_reference",
            "type",
            "status",
            "amount",
            "currency",
            "reason",
            "notes",
            "override_reason",
            "requested_by",
            "requested_at",
            "due_date",
            "over_sla",
            "approvals_required",
            "approvals",
            "approved_at",
            "decided_by",
            "decision_reason",
            "rejected_at",
            "processed_at",
            "processed_by",
            "closed_at",
            "payout",
            "network",
            "network_reason_code",
            "fee",
            "evidence_due_date",
            "evidence_submitted_at",
            "outcome",
            "amount_lost",
            "return_lines",
            "attachments",
        ]
        read_only_fields = fields

    @extend_schema_field(PayoutSerializer(allow_null=True))
    def get_payout(self, obj):
        payout = getattr(obj, "payout", None) if obj.status in {"processed", "closed"} else None
        return self.payout_serializer.to_representation(payout) if payout is not None else None

    @cached_property
    def payout_serializer(self) -> PayoutSerializer:
        """One payout serializer for every row of a page."""
        return PayoutSerializer()


class ReturnLineInputSerializer(serializers.Serializer):
    order_line = serializers.IntegerField()
    quantity = serializers.IntegerField()


class CaseRequestSerializer(serializers.Serializer):
    order = serializers.IntegerField(help_text="The order's id")
    type = choice(RefundCase.Type.choices)
    amount = serializers.DecimalField(**MONEY, help_text="In the order's currency, positive, two decimals at most")
    currency = CurrencyCodeField(max_length=3, required=False, help_text="Must be the order's currency if given")
    reason = serializers.CharField(max_length=40, help_text="A reason code")
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    override_reason = serializers.CharField(required=False, allow_blank=True, default="")
    return_lines = ReturnLineInputSerializer(many=True, required=False)
    network = choice(RefundCase.Network.choices, required=False, allow_blank=True, default="")
    network_reason_code = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    evidence_due_date = serializers.DateField(required=False, allow_null=True, default=None)
    fee = serializers.DecimalField(**MONEY, required=False, default="0.00")


class CaseReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True)


class OutcomeSerializer(serializers.Serializer):
    outcome = choice(RefundCase.Outcome.choices)
    amount_lost = serializers.DecimalField(**MONEY, required=False, allow_null=True, default=None)


class InspectSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="The return line's id")
    condition = choice(ReturnLine.Condition.choices)
    disposition = choice(ReturnLine.Disposition.choices)


class AgingRowSerializer(serializers.Serializer):
    type = serializers.CharField()
    currency = CurrencyCodeField()
    count = serializers.IntegerField()
    current = serializers.DecimalField(**MONEY)
    d1_30 = serializers.DecimalField(**MONEY)
    d31_60 = serializers.DecimalField(**MONEY)
    d61_90 = serializers.DecimalField(**MONEY)
    d90_plus = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(**MONEY)


class AgingTotalSerializer(AgingRowSerializer):
    type = None


class AgingReportSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    type = serializers.CharField()
    rows = AgingRowSerializer(many=True)
    totals = AgingTotalSerializer(many=True)


class AgingQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False)
    type = choice(RefundCase.Type.choices, required=False)


class ReportRunSerializer(serializers.ModelSerializer):
    kind = choice(ReportRun.Kind.choices)
    format = choice(ReportRun.Format.choices, required=False, default=ReportRun.Format.CSV)
    type = choice(RefundCase.Type.choices, source="case_type", allow_blank=True, required=False, default="")
    status = choice(ReportRun.Status.choices, read_only=True)
    as_of = serializers.DateField(required=False, help_text="Today if omitted")

    class Meta:
        model = ReportRun
        fields = [
            "id",
            "kind",
            "format",
            "as_of",
            "type",
            "scheduled",
            "status",
            "row_count",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = ["scheduled", "status", "row_count", "error", "created_at", "finished_at"]
        validators = []  # the one-per-day constraint is for scheduled runs, which the API never creates
