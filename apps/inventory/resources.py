"""Exports (django-import-export). Querysets come from the blind-aware selectors, so nothing a person
may not see leaves in a file."""

from import_export import fields, resources

from apps.inventory import selectors
from apps.inventory.models import CycleCountLine, Item, LedgerEntry, StockLevel


class ItemResource(resources.ModelResource):
    class Meta:
        model = Item
        import_id_fields = ["sku"]
        fields = [
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
            "last_counted_on",
        ]
        export_order = fields


class StockLevelResource(resources.ModelResource):
    sku = fields.Field(attribute="item__sku", column_name="SKU")
    location = fields.Field(attribute="location__code", column_name="location")

    class Meta:
        model = StockLevel
        fields = ["sku", "location", "quantity", "reserved_quantity", "last_movement_at", "last_counted_at"]
        export_order = fields


class LedgerEntryResource(resources.ModelResource):
    sku = fields.Field(attribute="item__sku", column_name="SKU")
    location = fields.Field(attribute="location__code", column_name="location")
    posted_by = fields.Field(attribute="posted_by__username", column_name="posted by")

    class Meta:
        model = LedgerEntry
        fields = [
            "posted_at",
            "sku",
            "location",
            "kind",
            "quantity",
            "balance_after",
            "unit_cost",
            "value",
            "currency",
            "reason",
            "reference",
            "posted_by",
        ]
        export_order = fields


class CycleCountLineResource(resources.ModelResource):
    """Count lines; expected quantities and variances are blank where the person may not see them."""

    count = fields.Field(attribute="count__number", column_name="count")
    status_of_count = fields.Field(attribute="count__status", column_name="count status")
    sku = fields.Field(attribute="item__sku", column_name="SKU")
    location = fields.Field(attribute="location__code", column_name="location")
    expected = fields.Field(column_name="expected")
    variance = fields.Field(column_name="variance")
    variance_value = fields.Field(column_name="variance value")

    class Meta:
        model = CycleCountLine
        fields = [
            "count",
            "status_of_count",
            "sku",
            "location",
            "status",
            "counted_quantity",
            "recount_quantity",
            "expected",
            "variance",
            "variance_value",
        ]
        export_order = fields

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    def _visible(self, line) -> bool:
        return self.user is not None and selectors.can_see_expected(user=self.user, count=line.count)

    def dehydrate_expected(self, line):
        return line.expected_quantity if self._visible(line) else ""

    def dehydrate_variance(self, line):
        return line.variance_quantity if self._visible(line) else ""

    def dehydrate_variance_value(self, line):
        return line.variance_value if self._visible(line) else ""

    def dehydrate_counted_quantity(self, line):
        if self._visible(line) or (self.user is not None and self.user.pk == line.count.counter_id):
            return line.counted_quantity
        return ""
