from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from apps.core.models import BaseModel
from apps.core.money import CurrencyField
from apps.sops.fields import sop_version_field

PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]

vendor_code_format = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{1,19}$", "Use 2-20 capital letters, digits or dashes, e.g. ACME-01."
)


def _percent_field(verbose_name, **kwargs):
    return models.DecimalField(verbose_name, max_digits=5, decimal_places=2, validators=PERCENT, **kwargs)


class Vendor(BaseModel):
    """A supplier the company pays: master data, payment terms, bank details and standing."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ON_HOLD = "on_hold", "On hold"
        BLOCKED = "blocked", "Blocked"

    class Category(models.TextChoices):
        GOODS = "goods", "Goods and materials"
        SERVICES = "services", "Services"
        LOGISTICS = "logistics", "Logistics and freight"
        SOFTWARE = "software", "Software and IT"
        FACILITIES = "facilities", "Facilities and utilities"
        PROFESSIONAL = "professional", "Professional services"

    BANK_FIELDS = ("bank_account_holder", "bank_name", "bank_account_number", "bank_routing_code")

    code = models.CharField(max_length=20, unique=True, validators=[vendor_code_format])
    legal_name = models.CharField(max_length=200, db_index=True)
    tax_id = models.CharField("tax id", max_length=40, blank=True, db_index=True)
    category = models.CharField(max_length=20, choices=Category.choices, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    hold_reason = models.TextField(blank=True)
    hold_release_date = models.DateField(null=True, blank=True, help_text="When a hold is expected to end.")
    payment_terms_days = models.PositiveSmallIntegerField(
        default=30, validators=[MaxValueValidator(365)], help_text="Days from invoice date to due date."
    )
    default_currency = CurrencyField(default="USD")
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="managed_vendors",
        help_text="The vendor manager who owns this relationship and gets its reminders.",
    )
    remit_to = models.TextField("remit-to address", blank=True)
    bank_account_holder = models.CharField(max_length=200, blank=True)
    bank_name = models.CharField(max_length=200, blank=True)
    bank_account_number = models.CharField("account number / IBAN", max_length=50, blank=True)
    bank_routing_code = models.CharField("BIC / routing code", max_length=30, blank=True)
    bank_details_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    bank_details_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    bank_details_confirmed_at = models.DateTimeField(null=True, blank=True, editable=False)
    bank_details_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    bank_details_pending = models.BooleanField(
        "bank details changed",
        default=False,
        editable=False,
        db_index=True,
        help_text="Changed and not yet confirmed by a different user: no payment approvals meanwhile.",
    )
    latest_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, editable=False)
    latest_standing = models.CharField(max_length=40, blank=True, editable=False, db_index=True)
    latest_review_end = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["code"]
        permissions = [("confirm_bank_details", "Can confirm a vendor's changed bank details")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="on_hold") | ~Q(hold_reason=""), name="vendor_hold_needs_reason"
            ),
        ]

    def __str__(self):
        return f"{self.code} — {self.legal_name}"

    def payment_block_reason(self) -> str:
        """Why invoices of this vendor cannot be approved or scheduled now ("" when they can)."""
        if self.status == self.Status.ON_HOLD:
            return f"Vendor {self.code} is on hold: {self.hold_reason}"
        if self.status == self.Status.BLOCKED:
            return f"Vendor {self.code} is blocked: {self.hold_reason}"
        if self.bank_details_pending:
            return f"Vendor {self.code} has changed bank details that a second person has not confirmed yet."
        return ""


class VendorContact(BaseModel):
    """A person at the vendor; one contact per vendor is the primary one."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    role = models.CharField(max_length=100, blank=True, help_text="e.g. Accounts receivable, Account manager")
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_primary = models.BooleanField("primary", default=False)

    class Meta:
        ordering = ["vendor", "-is_primary", "name"]
        constraints = [
            models.UniqueConstraint(fields=["vendor"], condition=Q(is_primary=True), name="vendor_contact_one_primary"),
            models.UniqueConstraint(fields=["vendor", "name", "email"], name="vendor_contact_unique"),
        ]

    def __str__(self):
        return f"{self.name} ({self.vendor.code})"


class VendorContract(BaseModel):
    """A contract with a vendor and the service levels it promises."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="contracts")
    reference = models.CharField(max_length=50)
    title = models.CharField(max_length=200)
    start_date = models.DateField()
    end_date = models.DateField()
    renewal_notice_days = models.PositiveSmallIntegerField(
        default=60, validators=[MaxValueValidator(730)], help_text="Days before the end date to decide on renewal."
    )
    on_time_delivery_target = _percent_field("on-time delivery target %", null=True, blank=True)
    invoice_accuracy_target = _percent_field("invoice accuracy target %", null=True, blank=True)
    defect_rate_target = _percent_field("defect / damage rate target %", null=True, blank=True)
    response_time_target_hours = models.DecimalField(
        "response time target (hours)",
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        ordering = ["vendor", "-start_date"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "reference"], name="vendor_contract_reference_unique"),
            models.CheckConstraint(condition=Q(end_date__gte=models.F("start_date")), name="contract_ends_after_start"),
        ]

    def __str__(self):
        return f"{self.reference} — {self.title}"

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "The contract cannot end before it starts."})


class StandingBand(models.Model):
    """A range of overall scores and the standing it earns. The bands cover 0-100 without gaps or overlap:
    a score belongs to the band with ``min_score <= score < max_score`` (the top band includes 100)."""

    name = models.CharField(max_length=40, unique=True)
    min_score = models.DecimalField(max_digits=5, decimal_places=2, validators=PERCENT, unique=True)
    max_score = models.DecimalField(max_digits=5, decimal_places=2, validators=PERCENT)

    class Meta:
        ordering = ["min_score"]
        constraints = [
            models.CheckConstraint(condition=Q(max_score__gt=models.F("min_score")), name="band_max_above_min"),
        ]

    def __str__(self):
        return f"{self.name} ({self.min_score}-{self.max_score})"


class PerformanceReview(BaseModel):
    """A vendor's performance over a period: weighted criteria, an overall score and a standing."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        FINALIZED = "finalized", "Finalized"
        SUPERSEDED = "superseded", "Superseded"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="reviews")
    period_start = models.DateField()
    period_end = models.DateField()
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    comments = models.TextField(blank=True)
    overall_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, editable=False)
    standing = models.CharField(max_length=40, blank=True, editable=False)
    finalized_at = models.DateTimeField(null=True, blank=True, editable=False)
    finalized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by", editable=False
    )
    sop_version = sop_version_field()

    class Meta:
        ordering = ["vendor", "-period_end"]
        verbose_name = "performance review"
        permissions = [("finalize_performancereview", "Can finalize a vendor performance review")]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")), name="review_period_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(overall_score__isnull=False), name="finalized_review_has_score"
            ),
        ]
        indexes = [models.Index(fields=["vendor", "status", "-period_end"], name="review_vendor_status_idx")]

    def __str__(self):
        return f"{self.vendor.code} review {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"

    def clean(self):
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError({"period_end": "The period cannot end before it starts."})

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT


class ReviewCriterion(models.Model):
    """One weighted criterion of a review. Measurable ones get a proposed score from portal data."""

    class Kpi(models.TextChoices):
        ON_TIME_DELIVERY = "on_time_delivery", "On-time delivery"
        INVOICE_ACCURACY = "invoice_accuracy", "Invoice accuracy"
        DISPUTE_RATE = "dispute_rate", "Dispute rate"
        DEFECT_RATE = "defect_rate", "Defect / damage rate"
        RESPONSE_TIME = "response_time", "Responsiveness"
        QUALITY = "quality", "Quality of goods or service"
        OTHER = "other", "Other"

    review = models.ForeignKey(PerformanceReview, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=100)
    kpi = models.CharField("measure", max_length=20, choices=Kpi.choices, default=Kpi.OTHER)
    weight = models.DecimalField(
        max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(100)]
    )
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, validators=PERCENT)
    proposed_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True, editable=False)
    proposed_basis = models.CharField(max_length=255, blank=True, editable=False, help_text="The figures used.")
    override_reason = models.CharField(
        max_length=255, blank=True, help_text="Why the score differs from the proposed one."
    )

    class Meta:
        ordering = ["review", "id"]
        verbose_name_plural = "criteria"
        constraints = [
            models.UniqueConstraint(fields=["review", "name"], name="review_criterion_unique_name"),
            models.CheckConstraint(condition=Q(weight__gt=0, weight__lte=100), name="criterion_weight_range"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="criterion_score_range"
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.weight}%)"


class ReviewActionItem(BaseModel):
    """Something the vendor or we must do after a review, with an owner and a due date."""

    review = models.ForeignKey(PerformanceReview, on_delete=models.CASCADE, related_name="action_items")
    description = models.CharField(max_length=255)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_date = models.DateField()
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [models.Index(fields=["done", "due_date"], name="action_item_open_idx")]

    def __str__(self):
        return self.description
