"""Exports and imports (django-import-export).

Export querysets come from the blind-aware selectors, so nothing a person may not see leaves in a
file. Imports (items, locations, stock levels, count lines) save every row through the inventory
services as the importing user; see ``apps.refunds.resources.CheckedImportResource`` for the checks
every import file goes through.
"""

from django.core.exceptions import ValidationError
from import_export import fields, resources

from apps.core import audit
from apps.core.import_resources import (
    CheckedImportResource,
    LookupWidget,
    boolean_parser,
    choice_parser,
    column,
    currency_parser,
    money_parser,
    text_parser,
)
from apps.inventory import selectors, services
from apps.inventory.models import (
    ABCClass,
    CycleCount,
    CycleCountLine,
    Item,
    LedgerEntry,
    Location,
    StockLevel,
    Warehouse,
)

# An item's columns in a file; last_counted_on is exported, never imported (counts set it).
ITEM_COLUMNS = [
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
]


class ItemResource(resources.ModelResource):
    class Meta:
        model = Item
        import_id_fields = ["sku"]
        fields = [*ITEM_COLUMNS, "last_counted_on"]
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


# --- Imports ------------------------------------------------------------------------------------
# Every row is saved through the inventory services as the importing user (see CheckedImportResource).


def quantity_parser(column_name: str):
    def parse(text):
        try:
            quantity = services.stock.to_quantity(text, field=column_name)
        except ValidationError as exc:
            raise ValidationError({column_name: exc.messages}) from None
        if quantity < 0:
            raise ValidationError({column_name: "A quantity cannot be negative."})
        return quantity

    return parse


def _import_reason() -> str:
    """Why an import moved stock: the job, as the job runner names it on the audit trail."""
    return audit.current().detail or "import"


SKU_ALIASES = ("SKU", "Item code", "Product code", "Item number", "Item no", "Part number", "Article number")
LOCATION_ALIASES = ("Location code", "Bin", "Bin code", "Bin location", "Location", "Storage location")


class ItemImportResource(CheckedImportResource):
    """Items by SKU: new ones through ``item_create``, changes through ``item_update``."""

    sku = column("sku", text_parser("sku", max_length=40), required=True)
    description = column("description", text_parser("description", max_length=255))
    unit_of_measure = column("unit_of_measure", choice_parser("unit_of_measure", Item.Unit.choices))
    unit_cost = column("unit_cost", money_parser("unit_cost"))
    currency = column("currency", currency_parser("currency"))
    abc_class = column("abc_class", choice_parser("abc_class", ABCClass.choices))
    reorder_point = column("reorder_point", quantity_parser("reorder_point"))
    reorder_quantity = column("reorder_quantity", quantity_parser("reorder_quantity"))
    is_critical = column("is_critical", boolean_parser("is_critical"))
    is_active = column("is_active", boolean_parser("is_active"))

    header_aliases = {
        "sku": SKU_ALIASES,
        "description": ("Item name", "Product name", "Name", "Item description", "Product description"),
        "unit_of_measure": ("UoM", "Unit", "Unit of measure", "Units"),
        "unit_cost": ("Cost", "Unit cost", "Cost price", "Standard cost", "Purchase price"),
        "currency": ("Currency code", "Cost currency"),
        "abc_class": ("ABC", "ABC class", "ABC code", "Class"),
        "reorder_point": ("Reorder level", "Reorder point", "Min", "Min qty", "Minimum stock"),
        "reorder_quantity": ("Reorder qty", "Reorder quantity", "Order quantity", "Order qty"),
        "is_critical": ("Critical",),
        "is_active": ("Active",),
    }
    required_columns = ("sku",)

    class Meta:
        model = Item
        import_id_fields = ["sku"]
        fields = ITEM_COLUMNS
        skip_unchanged = True
        report_skipped = True

    def save_through_service(self, instance, is_create, *, actor):
        values = {name: getattr(instance, name) for name in services.master_data.ITEM_FIELDS}
        if is_create:
            return services.item_create(actor=actor, **values)
        return services.item_update(item_id=instance.pk, actor=actor, **values)


class LocationImportResource(CheckedImportResource):
    """Bins by location code: new ones through ``location_create``, changes through ``location_update``."""

    code = column("code", text_parser("code", max_length=60), required=True)
    warehouse = column(
        "warehouse", widget=LookupWidget(Warehouse, "code", column="warehouse", label="warehouse with code")
    )
    zone = column("zone", text_parser("zone", max_length=20))
    bin = column("bin", text_parser("bin", max_length=20))
    is_active = column("is_active", boolean_parser("is_active"))

    header_aliases = {
        "code": ("Location code", "Bin code", "Bin location", "Location", "Storage location"),
        "warehouse": ("Warehouse code", "Site", "Site code", "Plant"),
        "zone": ("Aisle", "Area", "Zone code"),
        "bin": ("Bin", "Bin number", "Shelf", "Slot", "Position"),
        "is_active": ("Active",),
    }
    required_columns = ("code", "warehouse", "zone", "bin")

    class Meta:
        model = Location
        import_id_fields = ["code"]
        fields = ["code", "warehouse", "zone", "bin", "is_active"]
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self):
        return super().get_queryset().select_related("warehouse")

    def save_through_service(self, instance, is_create, *, actor):
        values = {name: getattr(instance, name) for name in services.master_data.LOCATION_FIELDS}
        if is_create:
            return services.location_create(actor=actor, **values)
        return services.location_update(location_id=instance.pk, actor=actor, **values)


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """A service's error with its field names turned into the file's column names."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(key, key): value for key, value in exc.message_dict.items()})


class StockLevelImportResource(CheckedImportResource):
    """Quantities on hand per SKU and location. A different quantity is posted to the ledger as a
    correction (an opening balance for a new level) with the import job as its reason; never set silently."""

    sku = column("sku", attribute="item", widget=LookupWidget(Item, "sku", column="sku", label="item with SKU"))
    location = column("location", widget=LookupWidget(Location, "code", column="location", label="location with code"))
    quantity = column("quantity", quantity_parser("quantity"), required=True)

    header_aliases = {
        "sku": (*SKU_ALIASES, "Item"),
        "location": LOCATION_ALIASES,
        "quantity": ("Qty", "Quantity on hand", "Qty on hand", "On hand", "QOH", "Stock", "Quantity"),
    }
    required_columns = ("sku", "location", "quantity")

    class Meta:
        model = StockLevel
        import_id_fields = ["sku", "location"]
        fields = ["sku", "location", "quantity"]
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self):
        return super().get_queryset().select_related("item", "location")

    def save_through_service(self, instance, is_create, *, actor):
        try:
            services.stock_set_quantity(
                item_id=instance.item_id,
                location_id=instance.location_id,
                quantity=instance.quantity,
                actor=actor,
                reason=_import_reason(),
            )
        except ValidationError as exc:
            raise _renamed(exc, {"item": "sku"}) from None
        return StockLevel.objects.get(item_id=instance.item_id, location_id=instance.location_id)


class CycleCountLineImportResource(CheckedImportResource):
    """Counted quantities for the lines of an open count, entered through ``cycle_count_enter``.

    The service's rules hold: only the assigned counter enters while counting, only someone else
    recounts; nothing of the expected quantity is read or shown (blind counts).
    """

    count = column("count", widget=LookupWidget(CycleCount, "number", column="count", label="cycle count with number"))
    sku = column("sku", attribute="item", widget=LookupWidget(Item, "sku", column="sku", label="item with SKU"))
    location = column("location", widget=LookupWidget(Location, "code", column="location", label="location with code"))
    counted_quantity = column("counted_quantity", quantity_parser("counted_quantity"), attribute="entered_quantity")

    header_aliases = {
        "count": ("Count number", "Count no", "Cycle count", "Count ID"),
        "sku": (*SKU_ALIASES, "Item"),
        "location": LOCATION_ALIASES,
        "counted_quantity": ("Qty", "Counted", "Counted qty", "Quantity counted", "Count qty", "Quantity"),
    }
    required_columns = ("count", "sku", "location", "counted_quantity")

    class Meta:
        model = CycleCountLine
        import_id_fields = ["count", "sku", "location"]
        fields = ["count", "sku", "location", "counted_quantity"]
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self):
        return super().get_queryset().select_related("count", "item", "location")

    def after_init_instance(self, instance, new, row, **kwargs):
        super().after_init_instance(instance, new, row, **kwargs)
        if new:
            raise ValidationError(
                {"sku": f"{row.get('sku')} at {row.get('location')} is not on count {row.get('count')}."}
            )
        recounting = instance.count.status == CycleCount.Status.RECOUNT
        instance.entered_quantity = instance.recount_quantity if recounting else instance.counted_quantity

    def save_through_service(self, instance, is_create, *, actor):
        try:
            services.cycle_count_enter(
                count_id=instance.count_id,
                actor=actor,
                entries=[{"line_id": instance.pk, "quantity": instance.entered_quantity}],
            )
        except ValidationError as exc:
            raise _renamed(exc, {"lines": "counted_quantity"}) from None
        return instance
