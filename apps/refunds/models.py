"""
Customer orders and the cases that send money back against them.

An :class:`Order` is what a refund is measured against: ``committed_amount`` is the sum of the
refund, store-credit and return cases that are requested, approved or processed on it, kept by the
services under a row lock on the order and held below ``amount_paid`` by a check constraint.

A :class:`RefundCase` is one request for money out, of type refund, store credit, chargeback or
return (RMA). It moves requested → approved | rejected → processed → closed (cancelled before
processing); processing creates exactly one :class:`Payout`.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper
from django.utils import timezone

from apps.core.models import BaseModel
from apps.core.money import CurrencyField, MoneyField

ZERO = Decimal("0.00")


# --- Configuration ------------------------------------------------------------------------------


class CaseType(models.TextChoices):
    REFUND = "refund", "refund"
    STORE_CREDIT = "store_credit", "store credit"
    CHARGEBACK = "chargeback", "chargeback"
    RETURN = "return", "return (RMA)"


class Channel(BaseModel):
    """Where an order was placed; each channel has its own return window."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    return_window_days = models.PositiveIntegerField(
        default=30, help_text="Days after the order date within which a refund or return needs no override."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ReasonCode(BaseModel):
    """Why money goes back: a configurable list, optionally limited to one case type."""

    code = models.SlugField(max_length=40, unique=True)
    label = models.CharField(max_length=120)
    case_type = models.CharField(
        max_length=20,
        blank=True,
        choices=CaseType.choices,
        help_text="Leave empty for a reason that applies to every case type.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.label}"


class RefundPolicy(BaseModel):
    """The refund policy's numbers, one row, editable by administrators.

    Amounts are compared with the case amount in the case's (the order's) currency.
    """

    dual_approval_threshold = MoneyField(
        default=Decimal("500.00"), help_text="Cases above this amount need two distinct approvers."
    )
    sla_days_refund = models.PositiveIntegerField(default=5)
    sla_days_store_credit = models.PositiveIntegerField(default=5)
    sla_days_return = models.PositiveIntegerField(default=14)
    approval_sla_days = models.PositiveIntegerField(
        default=2, help_text="Approvers are reminded of cases waiting longer than this."
    )
    processing_sla_days = models.PositiveIntegerField(
        default=1, help_text="Requesters are reminded of approved cases not processed after this many days."
    )
    evidence_reminder_days = models.PositiveIntegerField(
        default=3, help_text="Chargeback evidence due within this many days is reminded of."
    )

    class Meta:
        verbose_name = "refund policy"
        verbose_name_plural = "refund policy"
        constraints = [
            models.CheckConstraint(condition=Q(dual_approval_threshold__gte=0), name="refundpolicy_threshold_gte_0")
        ]

    def __str__(self):
        return "Refund policy"

    @classmethod
    def current(cls) -> "RefundPolicy":
        policy = cls.objects.order_by("pk").first()
        return policy if policy is not None else cls()


class ApproverLimit(BaseModel):
    """The largest case amount one approver may approve. No row: no refund approval authority."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="refund_limit")
    max_amount = MoneyField()

    class Meta:
        ordering = ["user__username"]
        constraints = [models.CheckConstraint(condition=Q(max_amount__gte=0), name="approverlimit_max_gte_0")]

    def __str__(self):
        return f"{self.user} up to {self.max_amount}"


# --- Orders -------------------------------------------------------------------------------------


class Order(BaseModel):
    """A customer order: what was bought, what was paid, and how much is already going back."""

    reference = models.CharField(max_length=40, unique=True)
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField()
    order_date = models.DateField(db_index=True)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="orders")
    currency = CurrencyField()
    total = MoneyField()
    amount_paid = MoneyField()
    committed_amount = MoneyField(
        default=ZERO,
        editable=False,
        help_text="Refunds, store credits and returns requested, approved or processed on this order.",
    )

    class Meta:
        ordering = ["-order_date", "-id"]
        permissions = [("view_customer_pii", "Can see customer names and e-mail addresses")]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_gte_0"),
            models.CheckConstraint(condition=Q(amount_paid__gte=0), name="order_paid_gte_0"),
            models.CheckConstraint(condition=Q(amount_paid__lte=F("total")), name="order_paid_lte_total"),
            models.CheckConstraint(condition=Q(committed_amount__gte=0), name="order_committed_gte_0"),
            models.CheckConstraint(
                condition=Q(committed_amount__lte=F("amount_paid")), name="order_committed_lte_paid"
            ),
        ]
        indexes = [
            models.Index(fields=["customer_email"], name="order_customer_email_idx"),
            # The admin's searches (reference, customer name and e-mail, case-insensitive) answer from these.
            models.Index(Upper("reference"), name="order_reference_upper_idx"),
            models.Index(Upper("customer_name"), name="order_customer_name_upper_idx"),
            models.Index(Upper("customer_email"), name="order_customer_email_upper_idx"),
        ]

    def __str__(self):
        return self.reference

    @property
    def refundable_remaining(self) -> Decimal:
        return self.amount_paid - self.committed_amount


class OrderLine(BaseModel):
    """One item on an order; returns are measured against its quantity."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    sku = models.CharField(max_length=64)
    description = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = MoneyField()

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_gt_0"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_price_gte_0"),
        ]

    def __str__(self):
        return f"{self.sku} x {self.quantity}"


# --- Cases --------------------------------------------------------------------------------------


class RefundCase(BaseModel):
    """A request for money back to a customer: refund, store credit, chargeback or return."""

    Type = CaseType

    class Status(models.TextChoices):
        REQUESTED = "requested", "requested"
        APPROVED = "approved", "approved"
        REJECTED = "rejected", "rejected"
        PROCESSED = "processed", "processed"
        CLOSED = "closed", "closed"
        CANCELLED = "cancelled", "cancelled"

    class Network(models.TextChoices):
        VISA = "visa", "Visa"
        MASTERCARD = "mastercard", "Mastercard"
        AMEX = "amex", "American Express"
        DISCOVER = "discover", "Discover"
        PAYPAL = "paypal", "PayPal"

    class Outcome(models.TextChoices):
        WON = "won", "won"
        LOST = "lost", "lost"
        ACCEPTED = "accepted", "accepted"

    OPEN_STATUSES = (Status.REQUESTED, Status.APPROVED)
    # Cases whose amount counts against what was paid (chargebacks are imposed by the network).
    COMMITTING_TYPES = (Type.REFUND, Type.STORE_CREDIT, Type.RETURN)
    COMMITTED_STATUSES = (Status.REQUESTED, Status.APPROVED, Status.PROCESSED, Status.CLOSED)
    PREFIXES = {Type.REFUND: "RF", Type.STORE_CREDIT: "SC", Type.CHARGEBACK: "CB", Type.RETURN: "RMA"}

    reference = models.CharField(max_length=20, unique=True)
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="cases")
    type = models.CharField(max_length=20, choices=Type.choices, db_index=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED, db_index=True)
    amount = MoneyField()
    currency = CurrencyField()
    reason = models.ForeignKey(ReasonCode, on_delete=models.PROTECT, related_name="cases")
    external_reference = models.CharField(
        max_length=64,
        blank=True,
        help_text="The case's reference in the system it came from (e.g. the helpdesk ticket); unique per order.",
    )
    notes = models.TextField(blank=True)
    override_reason = models.TextField(blank=True, help_text="Why a request outside the return window is accepted.")

    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now, db_index=True)
    due_date = models.DateField(help_text="The SLA: processed by this date (chargebacks: the evidence due date).")
    approvals_required = models.PositiveSmallIntegerField(default=1)
    approved_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    rejected_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    resolved_on = models.DateField(
        null=True, blank=True, help_text="The day the case stopped being open (processed, rejected or cancelled)."
    )
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    # Chargebacks
    network = models.CharField(max_length=20, choices=Network.choices, blank=True)
    network_reason_code = models.CharField(max_length=20, blank=True)
    fee = MoneyField(default=ZERO)
    evidence_due_date = models.DateField(null=True, blank=True)
    evidence_submitted_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    amount_lost = MoneyField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = "case"
        permissions = [
            ("approve_refund", "Can approve or reject refund cases"),
            ("process_refund", "Can process approved refund cases (money out)"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refundcase_amount_gt_0"),
            models.CheckConstraint(condition=Q(fee__gte=0), name="refundcase_fee_gte_0"),
            models.CheckConstraint(
                condition=Q(amount_lost__isnull=True) | (Q(amount_lost__gte=0) & Q(amount_lost__lte=F("amount"))),
                name="refundcase_lost_within_amount",
            ),
            models.CheckConstraint(
                condition=~Q(type="chargeback") | Q(evidence_due_date__isnull=False),
                name="refundcase_chargeback_has_due_date",
            ),
            models.CheckConstraint(condition=Q(approvals_required__in=[1, 2]), name="refundcase_approvals_1_or_2"),
            # Imported cases are found again by (order, external reference): the same file twice adds nothing.
            models.UniqueConstraint(
                fields=["order", "external_reference"],
                condition=~Q(external_reference=""),
                name="refundcase_external_reference_once_per_order",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "due_date"], name="refundcase_status_due_idx"),
            models.Index(fields=["order", "type", "status"], name="refundcase_order_type_idx"),
            models.Index(Upper("reference"), name="refundcase_reference_upper_idx"),
        ]

    def __str__(self):
        return f"{self.reference} ({self.get_type_display()}, {self.amount} {self.currency})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def days_past_due(self, *, as_of=None) -> int:
        as_of = as_of or timezone.localdate()
        return (as_of - self.due_date).days

    @property
    def over_sla(self) -> bool:
        noted = self.__dict__.get("_over_sla_noted")
        if noted is not None:
            return noted
        zone = timezone.get_current_timezone()
        return self.over_sla_on(timezone.localdate(timezone=zone), zone)

    def over_sla_on(self, today, zone) -> bool:
        """``over_sla`` with today's date and the time zone given."""
        if self.is_open:
            return today > self.due_date
        if self.processed_at is not None:
            return self.processed_at.astimezone(zone).date() > self.due_date
        return False

    @staticmethod
    def note_over_sla(cases) -> None:
        """Work out ``over_sla`` for a page of ``cases`` at once: the date and the zone read once, not per case.
        For pages read and shown at once; a case changed afterwards is read afresh."""
        zone = timezone.get_current_timezone()
        today = timezone.localdate(timezone=zone)
        for case in cases:
            case._over_sla_noted = case.over_sla_on(today, zone)


class CaseApproval(BaseModel):
    """One approver's decision on a case; two rows from distinct people above the threshold."""

    case = models.ForeignKey(RefundCase, on_delete=models.PROTECT, related_name="approvals")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField()
    approved_at = models.DateTimeField(default=timezone.now)
    sop_version = models.CharField(max_length=64, blank=True, help_text="The SOP version in force at the decision.")

    class Meta:
        ordering = ["case", "level"]
        constraints = [
            models.UniqueConstraint(fields=["case", "approver"], name="caseapproval_distinct_approvers"),
            models.UniqueConstraint(fields=["case", "level"], name="caseapproval_one_per_level"),
        ]

    def __str__(self):
        return f"{self.case.reference} approval {self.level} by {self.approver}"


class Payout(BaseModel):
    """The money that went out for a case: exactly one per case, keyed by the case's idempotency key."""

    class Method(models.TextChoices):
        ORIGINAL_PAYMENT = "original_payment", "original payment method"
        STORE_CREDIT = "store_credit", "store credit"
        NETWORK_DEBIT = "network_debit", "card network debit"

    case = models.OneToOneField(RefundCase, on_delete=models.PROTECT, related_name="payout")
    idempotency_key = models.UUIDField(unique=True)
    method = models.CharField(max_length=20, choices=Method.choices)
    amount = MoneyField()
    currency = CurrencyField()
    paid_at = models.DateTimeField(default=timezone.now)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-paid_at", "-id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="payout_amount_gte_0")]

    def __str__(self):
        return f"Payout for {self.case.reference}: {self.amount} {self.currency}"


class ReturnLine(BaseModel):
    """An item coming back on a return (RMA), its condition on inspection and what happens to it."""

    class Condition(models.TextChoices):
        NEW = "new", "as new"
        OPENED = "opened", "opened, undamaged"
        DAMAGED = "damaged", "damaged"
        DEFECTIVE = "defective", "defective"

    class Disposition(models.TextChoices):
        RESTOCK = "restock", "restock"
        REPAIR = "repair", "repair"
        REPLACE = "replace", "replace"
        SCRAP = "scrap", "scrap"

    case = models.ForeignKey(RefundCase, on_delete=models.CASCADE, related_name="return_lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="return_lines")
    quantity = models.PositiveIntegerField()
    condition = models.CharField(max_length=20, choices=Condition.choices, blank=True)
    disposition = models.CharField(max_length=20, choices=Disposition.choices, blank=True)
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    inspected_at = models.DateTimeField(null=True, blank=True)
    stock_posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnline_quantity_gt_0"),
            models.UniqueConstraint(fields=["case", "order_line"], name="returnline_once_per_order_line"),
        ]

    def __str__(self):
        return f"{self.order_line.sku} x {self.quantity}"


class CaseAttachment(BaseModel):
    """Evidence on a case: receipts, photos, correspondence, chargeback documents."""

    case = models.ForeignKey(RefundCase, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="refunds/evidence/%Y/%m/")
    description = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["case", "id"]

    def __str__(self):
        return self.description or self.file.name


# --- Reports ------------------------------------------------------------------------------------


class ReportRun(BaseModel):
    """One run of a refunds report, on demand or scheduled, kept with its downloadable file."""

    class Kind(models.TextChoices):
        AGING = "aging", "open case aging"
        RECOVERY = "recovery", "chargeback recovery summary"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        DONE = "done", "done"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    format = models.CharField(max_length=10, choices=Format.choices, default=Format.CSV)
    as_of = models.DateField(help_text="Aging as of this day; the recovery summary covers the month ending on it.")
    case_type = models.CharField(max_length=20, choices=RefundCase.Type.choices, blank=True)
    scheduled = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to="refunds/reports/%Y/%m/", blank=True)
    row_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "format", "as_of"], condition=Q(scheduled=True), name="reportrun_scheduled_once"
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} as of {self.as_of} ({self.format})"


# --- One list per case type in the admin ---------------------------------------------------------


class RefundCaseOfTypeManager(models.Manager):
    case_type = ""

    def get_queryset(self):
        return super().get_queryset().filter(type=self.case_type)


def _typed_manager(case_type):
    return type(f"{case_type.title()}Manager", (RefundCaseOfTypeManager,), {"case_type": case_type})()


class Refund(RefundCase):
    """Refund cases only (a view of RefundCase)."""

    objects = _typed_manager(CaseType.REFUND)

    class Meta:
        proxy = True
        verbose_name = "refund"


class StoreCredit(RefundCase):
    """Store-credit cases only (a view of RefundCase)."""

    objects = _typed_manager(CaseType.STORE_CREDIT)

    class Meta:
        proxy = True
        verbose_name = "store credit"


class Chargeback(RefundCase):
    """Chargeback cases only (a view of RefundCase)."""

    objects = _typed_manager(CaseType.CHARGEBACK)

    class Meta:
        proxy = True
        verbose_name = "chargeback"


class Return(RefundCase):
    """Return (RMA) cases only (a view of RefundCase)."""

    objects = _typed_manager(CaseType.RETURN)

    class Meta:
        proxy = True
        verbose_name = "return (RMA)"
        verbose_name_plural = "returns (RMA)"
