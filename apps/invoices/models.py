"""
Accounts payable data: purchase orders and their lines, goods receipts, vendor invoices with lines
and match results, credit memos, payments, dispute contact logs and stored aging report runs.

Money is ``Decimal`` everywhere (``MoneyField``); quantities are decimals with three places. The
rules that must hold under concurrency are database constraints: one live invoice number per
vendor, payments and credits never above the total, a second approver distinct from the first.
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from apps.core.models import BaseModel
from apps.core.money import CurrencyField, MoneyField
from apps.sops.fields import sop_version_field

ZERO = Decimal("0")
HALF_CENT = models.Value(Decimal("0.005"))


def QuantityField(verbose_name=None, **kwargs):
    kwargs.setdefault("max_digits", 12)
    kwargs.setdefault("decimal_places", 3)
    return models.DecimalField(verbose_name, **kwargs)


def PercentField(verbose_name=None, **kwargs):
    return models.DecimalField(verbose_name, max_digits=6, decimal_places=2, **kwargs)


# --- Matching policy ----------------------------------------------------------------------------


class MatchMode(models.TextChoices):
    TWO_WAY = "two_way", "2-way (invoice vs purchase order)"
    THREE_WAY = "three_way", "3-way (invoice vs purchase order vs receipts)"


class VendorMatchingPolicy(BaseModel):
    """How a vendor's invoices are matched: 2-way or 3-way, and tolerances that override the global ones.

    A tolerance left empty uses the global default from settings.
    """

    vendor = models.OneToOneField("vendors.Vendor", on_delete=models.CASCADE, related_name="matching_policy")
    match_mode = models.CharField(max_length=10, choices=MatchMode.choices, default=MatchMode.THREE_WAY)
    quantity_tolerance_percent = PercentField("quantity tolerance %", null=True, blank=True)
    quantity_tolerance_absolute = QuantityField("quantity tolerance (units)", null=True, blank=True)
    price_tolerance_percent = PercentField("price tolerance %", null=True, blank=True)
    price_tolerance_absolute = MoneyField("price tolerance (per unit)", null=True, blank=True)

    class Meta:
        verbose_name = "vendor matching policy"
        verbose_name_plural = "vendor matching policies"
        constraints = [
            models.CheckConstraint(
                condition=(
                    (Q(quantity_tolerance_percent__isnull=True) | Q(quantity_tolerance_percent__gte=0))
                    & (Q(quantity_tolerance_absolute__isnull=True) | Q(quantity_tolerance_absolute__gte=0))
                    & (Q(price_tolerance_percent__isnull=True) | Q(price_tolerance_percent__gte=0))
                    & (Q(price_tolerance_absolute__isnull=True) | Q(price_tolerance_absolute__gte=0))
                ),
                name="matching_policy_tolerances_not_negative",
            )
        ]

    def __str__(self):
        return f"{self.vendor.code}: {self.get_match_mode_display()}"


# --- Purchase orders and receipts ---------------------------------------------------------------


class PurchaseOrder(BaseModel):
    """An order placed with a vendor; invoices are matched against its lines."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"
        CANCELLED = "cancelled", "Cancelled"

    number = models.CharField(max_length=40, unique=True)
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="purchase_orders")
    order_date = models.DateField(db_index=True)
    currency = CurrencyField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-order_date", "-id"]
        verbose_name = "purchase order"

    def __str__(self):
        return self.number


class PurchaseOrderLine(BaseModel):
    """One ordered item or service: quantity, unit price and the date the vendor promised it."""

    purchase_order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    item_code = models.CharField(max_length=40, blank=True)
    description = models.CharField(max_length=255)
    quantity = QuantityField()
    unit_price = MoneyField()
    promised_date = models.DateField()

    class Meta:
        ordering = ["purchase_order", "line_number"]
        verbose_name = "purchase order line"
        constraints = [
            models.UniqueConstraint(fields=["purchase_order", "line_number"], name="po_line_number_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="po_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="po_line_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.purchase_order.number}/{self.line_number} {self.item_code or self.description}"[:120]

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class GoodsReceipt(BaseModel):
    """Goods received against a purchase order line; damaged units are not accepted for matching."""

    po_line = models.ForeignKey(PurchaseOrderLine, on_delete=models.PROTECT, related_name="receipts")
    received_date = models.DateField(db_index=True)
    quantity_received = QuantityField()
    quantity_damaged = QuantityField(default=ZERO)
    reference = models.CharField("delivery note", max_length=60, blank=True)

    class Meta:
        ordering = ["-received_date", "-id"]
        verbose_name = "goods receipt"
        constraints = [
            models.CheckConstraint(condition=Q(quantity_received__gt=0), name="receipt_quantity_positive"),
            models.CheckConstraint(
                condition=Q(quantity_damaged__gte=0, quantity_damaged__lte=F("quantity_received")),
                name="receipt_damaged_within_received",
            ),
        ]

    def __str__(self):
        return f"Receipt {self.reference or self.pk} of {self.po_line}"

    @property
    def quantity_accepted(self) -> Decimal:
        return self.quantity_received - self.quantity_damaged


# --- Invoices -----------------------------------------------------------------------------------


class ExceptionReason(models.TextChoices):
    NO_PURCHASE_ORDER = "no_po", "No purchase order line"
    QUANTITY_OVER_ORDERED = "qty_over_ordered", "Quantity above ordered"
    QUANTITY_OVER_RECEIVED = "qty_over_received", "Quantity above received"
    NOT_RECEIVED = "not_received", "Nothing received yet"
    PRICE_OVER_ORDERED = "price_over_ordered", "Price above ordered"


class Invoice(BaseModel):
    """A vendor's bill: lines, tax, total, due date, its match result and where it is in the payment flow."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        MATCHED = "matched", "Matched"
        EXCEPTION = "exception", "Match exception"
        APPROVED = "approved", "Approved"
        SCHEDULED = "scheduled", "Scheduled for payment"
        PAID = "paid", "Paid"
        ON_HOLD = "on_hold", "On hold"
        DISPUTED = "disputed", "Disputed"
        CANCELLED = "cancelled", "Cancelled"

    class MatchResult(models.TextChoices):
        PENDING = "pending", "Not matched yet"
        MATCHED = "matched", "Matched"
        EXCEPTION = "exception", "Exception"
        OVERRIDDEN = "overridden", "Exception overridden"

    OPEN_STATUSES = (
        Status.SUBMITTED,
        Status.MATCHED,
        Status.EXCEPTION,
        Status.APPROVED,
        Status.SCHEDULED,
        Status.ON_HOLD,
        Status.DISPUTED,
    )
    MONEY_FIELDS = ("subtotal", "tax", "total")

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="invoices")
    number = models.CharField("invoice number", max_length=40)
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices"
    )
    invoice_date = models.DateField()
    due_date = models.DateField(db_index=True)
    currency = CurrencyField()
    subtotal = MoneyField(default=ZERO, editable=False)
    tax = MoneyField(default=ZERO)
    total = MoneyField(default=ZERO, editable=False)
    paid_amount = MoneyField(default=ZERO, editable=False)
    credited_amount = MoneyField(default=ZERO, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    match_result = models.CharField(
        max_length=10, choices=MatchResult.choices, default=MatchResult.PENDING, db_index=True
    )
    exception_reasons = models.CharField(max_length=200, blank=True, editable=False, help_text="Reason codes.")
    exception_since = models.DateTimeField(null=True, blank=True, editable=False)
    match_override_reason = models.TextField(blank=True, editable=False)
    match_overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    suspected_duplicate_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    duplicate_override_reason = models.TextField(blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    second_approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    sop_version = sop_version_field()
    scheduled_payment_date = models.DateField(null=True, blank=True, editable=False)
    scheduled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    paid_at = models.DateTimeField(null=True, blank=True, editable=False)
    resume_status = models.CharField(
        max_length=10, choices=Status.choices, blank=True, editable=False, help_text="Where a hold or dispute returns."
    )
    hold_reason = models.TextField(blank=True, editable=False)
    dispute_reason = models.TextField(blank=True, editable=False)
    was_disputed = models.BooleanField(default=False, editable=False)
    cancel_reason = models.TextField(blank=True, editable=False)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-invoice_date", "-id"]
        permissions = [
            ("approve_invoice", "Can approve invoices and override match exceptions"),
            ("schedule_invoice", "Can schedule approved invoices for payment"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "number"], condition=~Q(status="cancelled"), name="invoice_number_unique_per_vendor"
            ),
            models.CheckConstraint(condition=Q(due_date__gte=F("invoice_date")), name="invoice_due_after_date"),
            # Amounts have two decimal places; the half-cent margin only absorbs SQLite's binary arithmetic.
            models.CheckConstraint(
                condition=Q(
                    total__gte=F("subtotal") + F("tax") - HALF_CENT, total__lte=F("subtotal") + F("tax") + HALF_CENT
                ),
                name="invoice_total_is_sum",
            ),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, tax__gte=0, paid_amount__gte=0, credited_amount__gte=0),
                name="invoice_amounts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__lte=F("total") - F("credited_amount") + HALF_CENT), name="invoice_not_overpaid"
            ),
            models.CheckConstraint(
                condition=Q(second_approved_by__isnull=True) | ~Q(second_approved_by=F("approved_by")),
                name="invoice_second_approver_distinct",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("submitted_by")),
                name="invoice_approver_not_submitter",
            ),
        ]
        indexes = [
            models.Index(fields=["vendor", "invoice_date", "total"], name="invoice_duplicate_idx"),
            models.Index(fields=["status", "due_date"], name="invoice_status_due_idx"),
            models.Index(fields=["invoice_date", "id"], name="invoice_date_id_idx"),
            models.Index(fields=["number"], name="invoice_number_idx"),
            # The admin's search (number__iexact) answers from this index.
            models.Index(Upper("number"), name="invoice_number_upper_idx"),
        ]

    def __str__(self):
        return f"{self.number} ({self.vendor.code})" if self.vendor_id else self.number

    @property
    def open_balance(self) -> Decimal:
        return self.total - self.paid_amount - self.credited_amount

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return self.status in self.OPEN_STATUSES and self.due_date < timezone.localdate()


class InvoiceLine(models.Model):
    """One billed line, optionally against a purchase order line, with its match result."""

    class MatchStatus(models.TextChoices):
        PENDING = "pending", "Not matched yet"
        MATCHED = "matched", "Matched"
        EXCEPTION = "exception", "Exception"

    # Looked up by invoice through the index of the (invoice, line_number) constraint: no index of its own.
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_number = models.PositiveSmallIntegerField()
    po_line = models.ForeignKey(
        PurchaseOrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice_lines"
    )
    description = models.CharField(max_length=255)
    quantity = QuantityField()
    unit_price = MoneyField()
    amount = MoneyField(editable=False)
    match_status = models.CharField(
        max_length=10, choices=MatchStatus.choices, default=MatchStatus.PENDING, editable=False
    )
    match_reason = models.CharField(max_length=20, choices=ExceptionReason.choices, blank=True, editable=False)
    match_detail = models.CharField(max_length=255, blank=True, editable=False)

    class Meta:
        ordering = ["invoice", "line_number"]
        verbose_name = "invoice line"
        constraints = [
            models.UniqueConstraint(fields=["invoice", "line_number"], name="invoice_line_number_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="invoice_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="invoice_line_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.line_number}. {self.description}"[:120]


class CreditMemo(BaseModel):
    """A vendor's credit note, applied to one invoice: it reduces that invoice's open balance."""

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="credit_memos")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_memos")
    number = models.CharField("credit memo number", max_length=40)
    memo_date = models.DateField()
    amount = MoneyField()
    currency = CurrencyField()
    reason = models.CharField(max_length=255)

    class Meta:
        ordering = ["-memo_date", "-id"]
        verbose_name = "credit memo"
        constraints = [
            models.UniqueConstraint(fields=["vendor", "number"], name="credit_memo_number_unique_per_vendor"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_memo_amount_positive"),
        ]

    def __str__(self):
        return f"Credit {self.number}"


class Payment(BaseModel):
    """Money paid against an invoice; several partial payments may settle one invoice."""

    class Method(models.TextChoices):
        ACH = "ach", "ACH / bank transfer"
        WIRE = "wire", "Wire"
        CHECK = "check", "Check"
        CARD = "card", "Card"

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    payment_date = models.DateField(db_index=True)
    amount = MoneyField()
    method = models.CharField(max_length=10, choices=Method.choices, default=Method.ACH)
    reference = models.CharField(max_length=60)

    class Meta:
        ordering = ["-payment_date", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(fields=["method", "reference"], name="payment_reference_unique"),
        ]

    def __str__(self):
        return f"Payment {self.reference} of {self.amount}"


class DisputeContact(BaseModel):
    """One contact with the vendor about a disputed invoice."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        PHONE = "phone", "Phone"
        PORTAL = "portal", "Vendor portal"
        MEETING = "meeting", "Meeting"

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="dispute_contacts")
    contacted_at = models.DateTimeField()
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    contact_name = models.CharField(max_length=200)
    note = models.TextField()

    class Meta:
        ordering = ["-contacted_at", "-id"]
        verbose_name = "dispute contact"

    def __str__(self):
        return f"{self.get_channel_display()} with {self.contact_name}"


class InvoiceException(Invoice):
    """The exception queue: invoices whose match found a difference outside tolerance."""

    class Meta:
        proxy = True
        verbose_name = "match exception"
        verbose_name_plural = "exception queue"


# --- Reports ------------------------------------------------------------------------------------


class AgingReportRun(BaseModel):
    """One run of the AP aging report, on demand or scheduled, kept with its CSV and XLSX files."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    as_of = models.DateField()
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    currency = CurrencyField(blank=True)
    scheduled = models.BooleanField(default=False, editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, editable=False)
    csv_file = models.FileField(upload_to="invoices/aging/%Y/%m/", blank=True, editable=False)
    xlsx_file = models.FileField(upload_to="invoices/aging/%Y/%m/", blank=True, editable=False)
    row_count = models.PositiveIntegerField(default=0, editable=False)
    error = models.TextField(blank=True, editable=False)
    finished_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "AP aging report run"
        constraints = [
            models.UniqueConstraint(fields=["as_of"], condition=Q(scheduled=True), name="aging_run_scheduled_once")
        ]

    def __str__(self):
        return f"AP aging as of {self.as_of:%Y-%m-%d}"
