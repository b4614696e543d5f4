"""
SOP documents and their versions, attachments and read acknowledgements.

A document (``AP-003 Vendor invoice approval``) belongs to an area and an owner and is read by
an audience (groups). Its text lives in numbered versions that move draft → in review →
published → retired; a published version never changes, an edit makes a new version. At most
one version of a document is published and at most one is open (draft or in review) at a time.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from apps.core.models import BaseModel


class Area(models.TextChoices):
    """The part of the portal a procedure governs."""

    INVOICES = "invoices", "Invoices"
    REFUNDS = "refunds", "Refunds"
    INVENTORY = "inventory", "Inventory"
    VENDORS = "vendors", "Vendors"
    GENERAL = "general", "General"


code_format = RegexValidator(
    r"^[A-Z][A-Z0-9]{0,9}-\d{3,4}$", "Code is letters, a dash and three or four digits, e.g. AP-003."
)


class SOPDocument(BaseModel):
    """A standard operating procedure: what it is called, what it governs, who keeps it and who reads it."""

    code = models.CharField(max_length=16, unique=True, validators=[code_format], help_text="E.g. AP-003.")
    title = models.CharField(max_length=200)
    area = models.CharField(max_length=16, choices=Area.choices, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_sops")
    audience = models.ManyToManyField(
        Group, blank=True, related_name="sop_documents", help_text="Groups whose members must read and acknowledge it."
    )
    governs_area = models.BooleanField(
        default=False,
        help_text="The SOP that governs approvals in its area: the area's admin pages link to it and every "
        "approval records its version in force. One per area.",
    )
    review_interval_days = models.PositiveIntegerField(
        default=365,
        validators=[MinValueValidator(7), MaxValueValidator(1095)],
        help_text="Days between periodic reviews (7 to 1095).",
    )
    next_review_date = models.DateField(
        null=True, blank=True, db_index=True, help_text="Set when a version is published or the SOP is reviewed."
    )
    current_version = models.OneToOneField(
        "SOPVersion",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The published version, if any.",
    )

    class Meta:
        ordering = ["code"]
        verbose_name = "SOP document"
        verbose_name_plural = "SOP documents"
        constraints = [
            models.UniqueConstraint(
                fields=["area"], condition=Q(governs_area=True), name="sop_one_governing_document_per_area"
            ),
            models.CheckConstraint(
                condition=Q(review_interval_days__gte=7) & Q(review_interval_days__lte=1095),
                name="sop_review_interval_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def get_absolute_url(self):
        return reverse("admin:sops_sopdocument_change", args=[self.pk])


def attachment_path(instance, filename):
    return f"sops/{instance.version.document.code}/v{instance.version.number}/{filename}"


class SOPVersion(BaseModel):
    """One numbered text of a document. Only drafts change; publishing retires the version before."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        IN_REVIEW = "in_review", "In review"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    OPEN = (Status.DRAFT, Status.IN_REVIEW)

    document = models.ForeignKey(SOPDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    body = models.TextField(help_text="Markdown. Stored as written; rendered with anything active removed.")
    change_summary = models.CharField(max_length=500, help_text="What changed and why.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_sop_versions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reviewed_sop_versions",
        help_text="Asked to review when submitted; the person who approved once reviewed. Never the author.",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    retired_reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["document__code", "-number"]
        verbose_name = "SOP version"
        verbose_name_plural = "SOP versions"
        permissions = [("publish_sop", "Can review and publish SOP versions")]
        indexes = [models.Index(fields=["status", "published_at"], name="sopversion_status_pub_idx")]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="sop_version_number_unique"),
            models.UniqueConstraint(
                fields=["document"], condition=Q(status="published"), name="sop_one_published_version"
            ),
            models.UniqueConstraint(
                fields=["document"], condition=Q(status__in=["draft", "in_review"]), name="sop_one_open_version"
            ),
            models.CheckConstraint(condition=~Q(reviewer=F("author")), name="sop_reviewer_is_not_author"),
            models.CheckConstraint(
                condition=~Q(status__in=["published", "retired"])
                | (Q(published_at__isnull=False) & Q(reviewer__isnull=False) & Q(reviewed_at__isnull=False)),
                name="sop_published_was_reviewed",
            ),
            models.CheckConstraint(
                condition=~Q(status="retired") | Q(retired_at__isnull=False), name="sop_retired_has_date"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="sop_version_number_positive"),
        ]

    def __str__(self):
        return f"{self.document.code} v{self.number}"

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    def get_absolute_url(self):
        return reverse("admin:sops_sopversion_read", args=[self.pk])


class SOPAttachment(BaseModel):
    """A file that goes with a version (a form, a flowchart). Type- and size-limited; fixed once published."""

    version = models.ForeignKey(SOPVersion, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    name = models.CharField(max_length=150, help_text="The file name as uploaded.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["version", "name"]
        verbose_name = "SOP attachment"
        constraints = [models.UniqueConstraint(fields=["version", "name"], name="sop_attachment_name_unique")]

    def __str__(self):
        return self.name


class Acknowledgement(BaseModel):
    """A person confirms they have read a published version. Once per person and version."""

    version = models.ForeignKey(SOPVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sop_acknowledgements")
    acknowledged_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-acknowledged_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="sop_acknowledged_once")]

    def __str__(self):
        return f"{self.user} read {self.version}"
