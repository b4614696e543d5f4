from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.api.fast import FastRepresentationMixin
from apps.core.money import CURRENCY_CHOICES
from apps.inventory import selectors
from apps.inventory.models import (
    CycleCount,
    CycleCountLine,
    InventoryReportRun,
    Item,
    LedgerEntry,
    Location,
    ReorderAlert,
    StockLevel,
    Warehouse,
)

QTY = {"max_digits": 14, "decimal_places": 3}


def inline_choice(choices, **kwargs) -> serializers.ChoiceField:
    """A choice field whose schema is an inline enum, so that the inventory's many ``status`` and
    ``kind`` fields do not compete for one shared component name."""
    schema = {"allOf": [{"type": "string", "enum": [value for value, _ in choices]}]}
    field_class = extend_schema_field(schema)(type("InlineChoiceField", (serializers.ChoiceField,), {}))
    return field_class(choices=choices, **kwargs)


class ItemSerializer(serializers.ModelSerializer):
    currency = inline_choice(CURRENCY_CHOICES, default="USD")
    on_hand = serializers.DecimalField(source="on_hand_total", read_only=True, allow_null=True, **QTY)
    available = serializers.DecimalField(source="available_total", read_only=True, allow_null=True, **QTY)

    class Meta:
        model = Item
        fields = [
            "id",
            "sku",
            "description",
            "unit_of_measure",
            "unit_cost",
            "currency",
            "abc_class",
            "reorder_point",
            "reorder_quantity",
            "is_critical",
            "is_active",
            "count_frequency_days",
            "tolerance_units",
            "tolerance_percent",
            "tolerance_value",
            "last_counted_on",
            "on_hand",
            "available",
        ]
        read_only_fields = ["last_counted_on"]


class WarehouseSerializer(serializers.ModelSerializer):
    class Meta:
        model = Warehouse
        fields = ["id", "code", "name", "is_active"]


class LocationSerializer(serializers.ModelSerializer):
    warehouse = serializers.SlugRelatedField(slug_field="code", queryset=Warehouse.objects.all())

    class Meta:
        model = Location
        fields = ["id", "code", "warehouse", "zone", "bin", "is_active"]


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="item.sku", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    available = serializers.DecimalField(source="available_quantity", read_only=True, **QTY)

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "item",
            "sku",
            "location",
            "location_code",
            "quantity",
            "reserved_quantity",
            "available",
            "last_movement_at",
            "last_counted_at",
        ]


class LedgerEntrySerializer(FastRepresentationMixin, serializers.ModelSerializer):
    sku = serializers.CharField(source="item.sku", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    count = serializers.IntegerField(source="count_line.count_id", read_only=True, allow_null=True)
    kind = inline_choice(LedgerEntry.Kind.choices, read_only=True)
    currency = inline_choice(CURRENCY_CHOICES, read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "posted_at",
            "item",
            "sku",
            "location",
            "location_code",
            "kind",
            "quantity",
            "balance_after",
            "unit_cost",
            "value",
            "currency",
            "reason",
            "reference",
            "count",
            "posted_by",
        ]


class CountLineSerializer(serializers.ModelSerializer):
    """A count line as its counter sees it: no expected quantity, no variance."""

    sku = serializers.CharField(source="item.sku", read_only=True)
    description = serializers.CharField(source="item.description", read_only=True)
    unit_of_measure = serializers.CharField(source="item.unit_of_measure", read_only=True)
    location_code = serializers.CharField(source="location.code", read_only=True)
    status = inline_choice(CycleCountLine.Status.choices, read_only=True)

    class Meta:
        model = CycleCountLine
        fields = [
            "id",
            "item",
            "sku",
            "description",
            "unit_of_measure",
            "location",
            "location_code",
            "status",
            "counted_quantity",
            "counted_at",
            "recount_required",
            "recount_quantity",
            "recounted_at",
        ]


class CountLineReviewSerializer(CountLineSerializer):
    """A count line as a reviewer sees it: expected, counted, recount, variance and value side by side."""

    variance_quantity = serializers.DecimalField(read_only=True, allow_null=True, **QTY)
    variance_value = serializers.DecimalField(read_only=True, allow_null=True, max_digits=14, decimal_places=2)
    stock_moved = serializers.BooleanField(read_only=True)

    class Meta(CountLineSerializer.Meta):
        fields = [
            *CountLineSerializer.Meta.fields,
            "counted_by",
            "recounted_by",
            "expected_quantity",
            "snapshot_at",
            "unit_cost",
            "variance_quantity",
            "variance_value",
            "recount_reason",
            "stock_moved",
            "first_count_within_tolerance",
        ]


def serialize_lines(count, user, lines=None) -> list[dict]:
    """The lines of ``count`` for ``user``: blind while they count it or may not see expected quantities."""
    lines = lines if lines is not None else count.lines.select_related("item", "location")
    if selectors.can_see_expected(user=user, count=count):
        return CountLineReviewSerializer(lines, many=True).data
    data = CountLineSerializer(lines, many=True).data
    if user.pk != count.counter_id:
        # A recount is independent: nobody but the counter sees the first count while the count is open.
        for row in data:
            row["counted_quantity"] = None
    return data


class CycleCountSerializer(serializers.ModelSerializer):
    warehouse = serializers.SlugRelatedField(slug_field="code", read_only=True)
    lines_total = serializers.IntegerField(read_only=True)
    lines_counted = serializers.IntegerField(read_only=True)
    lines_awaiting_recount = serializers.IntegerField(read_only=True)
    status = inline_choice(CycleCount.Status.choices, read_only=True)
    kind = inline_choice(CycleCount.Kind.choices, read_only=True)

    class Meta:
        model = CycleCount
        fields = [
            "id",
            "number",
            "warehouse",
            "zone",
            "kind",
            "status",
            "due_date",
            "counter",
            "recounter",
            "round",
            "started_at",
            "submitted_at",
            "approved_at",
            "approved_by",
            "approved_sop_version",
            "notes",
            "status_reason",
            "lines_total",
            "lines_counted",
            "lines_awaiting_recount",
        ]
        read_only_fields = fields


class CycleCountDetailSerializer(CycleCountSerializer):
    lines = serializers.SerializerMethodField(
        help_text="Expected quantities, variances and values are left out for its counter and recounter, and for "
        "anyone without view_expected_quantity, while the count is open."
    )

    class Meta(CycleCountSerializer.Meta):
        fields = [*CycleCountSerializer.Meta.fields, "lines"]
        read_only_fields = fields

    @extend_schema_field(CountLineReviewSerializer(many=True))
    def get_lines(self, obj):
        return serialize_lines(obj, self.context["request"].user)


class CycleCountCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[c for c in CycleCount.Kind.choices if c[0] != CycleCount.Kind.SCHEDULED])
    item_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    location_ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    variance_days = serializers.IntegerField(min_value=1, max_value=730, default=90)
    counter = serializers.IntegerField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class CountEntrySerializer(serializers.Serializer):
    line = serializers.IntegerField(required=False, help_text="A line of this count, or give sku (and location).")
    sku = serializers.CharField(required=False)
    location = serializers.CharField(required=False, help_text="Location code, when the item is in several bins.")
    quantity = serializers.DecimalField(**QTY, help_text="Counted quantity, zero or more.")

    def validate_quantity(self, value):
        if value < 0:
            raise serializers.ValidationError("A counted quantity cannot be negative.")
        return value

    def validate(self, attrs):
        if attrs.get("line") is None and not attrs.get("sku"):
            raise serializers.ValidationError("Name a line or an item (sku).")
        return attrs


class CountEntriesSerializer(serializers.Serializer):
    lines = CountEntrySerializer(many=True, allow_empty=False)


class RecountRequestSerializer(serializers.Serializer):
    lines = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ApproveSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class CountReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class AssignSerializer(serializers.Serializer):
    counter = serializers.IntegerField(required=False, allow_null=True)
    recounter = serializers.IntegerField(required=False, allow_null=True)
    due_date = serializers.DateField(required=False, allow_null=True)


class ReorderAlertSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="item.sku", read_only=True)

    class Meta:
        model = ReorderAlert
        fields = [
            "id",
            "item",
            "sku",
            "opened_at",
            "available_quantity",
            "reorder_point",
            "reorder_quantity",
            "is_critical",
            "notified_at",
            "resolved_at",
            "resolved_quantity",
        ]


class InventoryReportRunSerializer(serializers.ModelSerializer):
    kind = inline_choice(InventoryReportRun.Kind.choices)
    status = inline_choice(InventoryReportRun.Status.choices, read_only=True)

    class Meta:
        model = InventoryReportRun
        fields = [
            "id",
            "kind",
            "file_format",
            "date_from",
            "date_to",
            "status",
            "file",
            "row_count",
            "error",
            "created_at",
            "finished_at",
        ]
        read_only_fields = ["status", "file", "row_count", "error", "created_at", "finished_at"]
