"""
Inventory: items, warehouses and their bins, stock levels, the stock ledger, cycle counts,
count policies, reorder alerts and report runs.

The stock ledger is the only way a quantity changes: a stock level always equals the sum of its
ledger entries (services post both in one transaction). Cycle counts are blind: the expected
quantity is snapshotted when counting starts and shown only to people who may see it (see
``selectors.can_see_expected``).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from apps.core.models import BaseModel
from apps.core.money import CurrencyField, MoneyField
from apps.sops.fields import sop_version_field

QTY_DIGITS = 14
QTY_PLACES = 3


class QuantityField(models.DecimalField):
    """A quantity in the item's unit of measure: ``Decimal`` with three decimal places."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_digits", QTY_DIGITS)
        kwargs.setdefault("decimal_places", QTY_PLACES)
        super().__init__(*args, **kwargs)


class ABCClass(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"


# --- Master data ------------------------------------------------------------------------------


class Item(BaseModel):
    """A stock-keeping unit: what is counted, valued at its unit cost, and reordered."""

    class Unit(models.TextChoices):
        EACH = "EA", "each"
        BOX = "BOX", "box"
        CASE = "CASE", "case"
        PACK = "PACK", "pack"
        KG = "KG", "kilogram"
        LITRE = "L", "litre"
        METRE = "M", "metre"

    sku = models.CharField("SKU", max_length=40, unique=True)
    description = models.CharField(max_length=255)
    unit_of_measure = models.CharField(max_length=4, choices=Unit.choices, default=Unit.EACH)
    unit_cost = MoneyField(default=Decimal("0.00"))
    currency = CurrencyField(default="USD")
    abc_class = models.CharField("ABC class", max_length=1, choices=ABCClass.choices, default=ABCClass.C)
    reorder_point = QuantityField(default=Decimal("0"))
    reorder_quantity = QuantityField(default=Decimal("0"))
    is_critical = models.BooleanField("critical", default=False, help_text="Alerts at the reorder point at once.")
    is_active = models.BooleanField("active", default=True)
    count_frequency_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the ABC class frequency for this item."
    )
    tolerance_units = QuantityField(null=True, blank=True, help_text="Overrides the variance threshold in units.")
    tolerance_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, help_text="Overrides the variance threshold in %."
    )
    tolerance_value = MoneyField(null=True, blank=True, help_text="Overrides the variance threshold in value.")
    last_counted_on = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["sku"]
        indexes = [models.Index(Upper("sku"), name="item_sku_upper_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="item_unit_cost_not_negative"),
            models.CheckConstraint(
                condition=Q(reorder_point__gte=0, reorder_quantity__gte=0), name="item_reorder_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.sku} — {self.description}"


class Warehouse(BaseModel):
    """A site holding stock; its zones and bins are the locations."""

    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=120)
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code


class Location(BaseModel):
    """A bin in a zone of a warehouse (warehouse → zone → bin): where stock sits and is counted."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="locations")
    zone = models.CharField(max_length=20)
    bin = models.CharField(max_length=20)
    code = models.CharField(max_length=60, unique=True, help_text="e.g. WH1-A-01-03")
    is_active = models.BooleanField("active", default=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "zone", "bin"], name="location_unique_bin")]
        indexes = [models.Index(Upper("code"), name="location_code_upper_idx")]

    def __str__(self):
        return self.code


class StockLevel(BaseModel):
    """What the system believes is on hand of one item at one location: the sum of its ledger."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    quantity = QuantityField(default=Decimal("0"), editable=False)
    reserved_quantity = QuantityField(default=Decimal("0"), help_text="Promised to orders, not available.")
    last_movement_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_counted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["item__sku", "location__code"]
        constraints = [
            models.UniqueConstraint(fields=["item", "location"], name="stocklevel_unique_item_location"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="stocklevel_quantity_not_negative"),
            models.CheckConstraint(condition=Q(reserved_quantity__gte=0), name="stocklevel_reserved_not_negative"),
        ]

    def __str__(self):
        return f"{self.item.sku} @ {self.location.code}"


class LedgerEntry(BaseModel):
    """One change of quantity of an item at a location, with its value and why it happened."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "receipt"
        SHIPMENT = "shipment", "shipment"
        RETURN_RESTOCK = "return_restock", "return restock"
        MANUAL_CORRECTION = "manual_correction", "manual correction"
        COUNT_ADJUSTMENT = "count_adjustment", "count adjustment"
        COUNT_CONFIRMATION = "count_confirmation", "count confirmation"

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="ledger_entries")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="ledger_entries")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    quantity = QuantityField(help_text="Signed: positive in, negative out, zero for a count confirmation.")
    balance_after = QuantityField(editable=False)
    unit_cost = MoneyField()
    value = MoneyField(help_text="Quantity x unit cost.")
    currency = CurrencyField()
    reason = models.TextField(blank=True)
    reference = models.CharField(max_length=64, blank=True, help_text="Receipt, shipment or RMA reference.")
    count_line = models.ForeignKey(
        "CycleCountLine", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    posted_at = models.DateTimeField(db_index=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-posted_at", "-id"]
        verbose_name = "stock ledger entry"
        verbose_name_plural = "stock ledger"
        indexes = [
            models.Index(fields=["item", "location", "posted_at"], name="ledger_item_location_idx"),
            models.Index(Upper("reference"), name="ledger_reference_upper_idx"),
        ]
        constraints = [
            # A count line posts to the ledger exactly once, whatever races above it.
            models.UniqueConstraint(
                fields=["count_line"], condition=Q(count_line__isnull=False), name="ledger_count_line_posted_once"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="receipt", quantity__gt=0)
                    | Q(kind="return_restock", quantity__gt=0)
                    | Q(kind="shipment", quantity__lt=0)
                    | (Q(kind="manual_correction") & ~Q(quantity=0) & ~Q(reason=""))
                    | (Q(kind="count_adjustment", count_line__isnull=False) & ~Q(quantity=0))
                    | Q(kind="count_confirmation", count_line__isnull=False, quantity=0)
                ),
                name="ledger_kind_quantity_rules",
            ),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_not_negative"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.quantity:+} {self.item.sku} @ {self.location.code}"


# --- Counting ---------------------------------------------------------------------------------


class CountPolicy(BaseModel):
    """How often items are counted and how much variance is tolerated: global, or for one ABC class.

    An empty value falls back to the global policy, then to the built-in default. A line whose
    variance exceeds any of the thresholds (units, percent, value) needs a recount.
    """

    abc_class = models.CharField(
        "ABC class", max_length=1, choices=ABCClass.choices, blank=True, unique=True, help_text="Empty: global default."
    )
    frequency_days = models.PositiveIntegerField(null=True, blank=True)
    tolerance_units = QuantityField(null=True, blank=True)
    tolerance_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    tolerance_value = MoneyField(null=True, blank=True)

    class Meta:
        ordering = ["abc_class"]
        verbose_name_plural = "count policies"
        constraints = [
            models.CheckConstraint(
                condition=Q(frequency_days__isnull=True) | Q(frequency_days__gt=0),
                name="countpolicy_frequency_positive",
            ),
        ]

    def __str__(self):
        return f"Class {self.abc_class} policy" if self.abc_class else "Global count policy"


class CycleCount(BaseModel):
    """A count session of one warehouse zone (or a hand-picked set of bins) assigned to a counter."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "scheduled"
        COUNTING = "counting", "counting"
        RECOUNT = "recount", "awaiting recount"
        SUBMITTED = "submitted", "awaiting approval"
        APPROVED = "approved", "approved"
        CANCELLED = "cancelled", "cancelled"

    class Kind(models.TextChoices):
        SCHEDULED = "scheduled", "scheduled (ABC frequency)"
        ITEM = "item", "ad hoc: items"
        LOCATION = "location", "ad hoc: locations"
        RECENT_VARIANCES = "recent_variances", "ad hoc: items with recent variances"

    OPEN = (Status.SCHEDULED, Status.COUNTING, Status.RECOUNT, Status.SUBMITTED)

    number = models.CharField(max_length=20, unique=True, editable=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="cycle_counts")
    zone = models.CharField(max_length=20, blank=True, help_text="Empty when the count spans zones.")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.SCHEDULED)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    due_date = models.DateField()
    counter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recounter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    round = models.PositiveSmallIntegerField(default=1, editable=False, help_text="Raised on every rejection.")
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    approved_sop_version = sop_version_field(verbose_name="SOP version in force at approval")
    notes = models.TextField(blank=True)
    status_reason = models.TextField(blank=True, editable=False, help_text="Why it was last rejected or cancelled.")

    class Meta:
        ordering = ["-due_date", "-id"]
        permissions = [
            ("approve_count", "Can approve count variances"),
            ("view_expected_quantity", "Can see expected quantities of counts in progress"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(recounter__isnull=True) | Q(counter__isnull=True) | ~Q(recounter=F("counter")),
                name="cyclecount_recounter_not_counter",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | (
                    (Q(counter__isnull=True) | ~Q(approved_by=F("counter")))
                    & (Q(recounter__isnull=True) | ~Q(approved_by=F("recounter")))
                ),
                name="cyclecount_approver_did_not_count",
            ),
        ]

    def __str__(self):
        return self.number or f"count #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class CycleCountLine(BaseModel):
    """One item at one bin on a count: the expected snapshot, the count, and any recount."""

    class Status(models.TextChoices):
        PENDING = "pending", "to count"
        COUNTED = "counted", "counted"
        RECOUNT = "recount", "awaiting recount"
        RECOUNTED = "recounted", "recounted"
        ADJUSTED = "adjusted", "adjusted"
        CONFIRMED = "confirmed", "confirmed"

    class RecountReason(models.TextChoices):
        VARIANCE = "variance", "variance above threshold"
        STOCK_MOVED = "stock_moved", "stock moved since the snapshot"
        REQUESTED = "requested", "requested by a reviewer"

    count = models.ForeignKey(CycleCount, on_delete=models.CASCADE, related_name="lines")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="count_lines")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="count_lines")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    expected_quantity = QuantityField(null=True, blank=True, editable=False)
    snapshot_at = models.DateTimeField(null=True, blank=True, editable=False)
    unit_cost = MoneyField(null=True, blank=True, editable=False)
    counted_quantity = QuantityField(null=True, blank=True)
    counted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    counted_at = models.DateTimeField(null=True, blank=True, editable=False)
    recount_required = models.BooleanField(default=False, editable=False)
    recount_reason = models.CharField(max_length=12, choices=RecountReason.choices, blank=True, editable=False)
    recount_quantity = QuantityField(null=True, blank=True)
    recounted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    recounted_at = models.DateTimeField(null=True, blank=True, editable=False)
    stock_moved_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Last stock movement at this bin since the snapshot."
    )
    first_count_within_tolerance = models.BooleanField(null=True, blank=True, editable=False)
    first_variance_quantity = QuantityField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["location__code", "item__sku"]
        constraints = [
            models.UniqueConstraint(fields=["count", "item", "location"], name="countline_unique_item_location"),
            models.CheckConstraint(
                condition=Q(counted_quantity__isnull=True) | Q(counted_quantity__gte=0),
                name="countline_counted_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(recount_quantity__isnull=True) | Q(recount_quantity__gte=0),
                name="countline_recount_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.item.sku} @ {self.location.code}"

    @property
    def final_quantity(self):
        """The quantity the count settles on: the recount when one was required, else the count."""
        if self.recount_required or self.recount_quantity is not None:
            return self.recount_quantity
        return self.counted_quantity

    @property
    def variance_quantity(self):
        if self.final_quantity is None or self.expected_quantity is None:
            return None
        return self.final_quantity - self.expected_quantity

    @property
    def variance_value(self):
        variance = self.variance_quantity
        if variance is None or self.unit_cost is None:
            return None
        return (variance * self.unit_cost).quantize(Decimal("0.01"))

    @property
    def stock_moved(self) -> bool:
        return bool(self.stock_moved_at and self.snapshot_at and self.stock_moved_at > self.snapshot_at)


# --- Alerts and reports -----------------------------------------------------------------------


class ReorderAlert(BaseModel):
    """An item at or below its reorder point: one open alert per item until it recovers."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="reorder_alerts")
    opened_at = models.DateTimeField()
    available_quantity = QuantityField(help_text="Available (on hand - reserved) when the alert opened.")
    reorder_point = QuantityField()
    reorder_quantity = QuantityField()
    is_critical = models.BooleanField("critical", default=False)
    notified_at = models.DateTimeField(null=True, blank=True, editable=False, help_text="Critical: told at once.")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_quantity = QuantityField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=Q(resolved_at__isnull=True), name="reorderalert_one_open_per_item"
            ),
        ]

    def __str__(self):
        return f"Reorder {self.item.sku}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class InventoryReportRun(BaseModel):
    """A requested report (count accuracy, shrinkage, repeated variances, reorder) and its file."""

    class Kind(models.TextChoices):
        COUNT_ACCURACY = "count_accuracy", "count accuracy"
        SHRINKAGE = "shrinkage", "shrinkage by period, warehouse and ABC class"
        REPEATED_VARIANCES = "repeated_variances", "items with repeated variances"
        BELOW_REORDER = "below_reorder", "items below reorder point"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    file_format = models.CharField(max_length=4, choices=Format.choices, default=Format.CSV)
    date_from = models.DateField()
    date_to = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="reports/inventory/", blank=True)
    row_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    scheduled = models.BooleanField(default=False, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "inventory report run"
        constraints = [
            models.CheckConstraint(condition=Q(date_to__gte=F("date_from")), name="reportrun_period_ordered"),
            # However many schedulers fire, a scheduled report exists once per kind, format and period.
            models.UniqueConstraint(
                fields=["kind", "file_format", "date_from", "date_to"],
                condition=Q(scheduled=True),
                name="inventory_reportrun_scheduled_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.date_from}-{self.date_to}"
