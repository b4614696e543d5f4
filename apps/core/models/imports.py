from django.db import models

from apps.core.models.base import BaseModel


class ImportJob(BaseModel):
    """One uploaded file on its way into the portal: validated by a worker, dry run first, all or nothing."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    target = models.CharField(max_length=64, help_text="What the rows become, e.g. vendors.vendor")
    file = models.FileField(upload_to="imports/%Y/%m/")
    original_name = models.CharField(max_length=255)
    encoding = models.CharField(max_length=10, default="utf-8")
    dry_run = models.BooleanField(default=True, help_text="Show what would change without writing anything.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_processed = models.PositiveIntegerField(default=0)
    summary = models.JSONField(default=dict, blank=True)
    preview = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    error_report = models.FileField(upload_to="imports/errors/%Y/%m/", blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        kind = "dry run" if self.dry_run else "import"
        return f"{self.original_name} → {self.target} ({kind}, {self.get_status_display().lower()})"

    @property
    def can_confirm(self) -> bool:
        return self.dry_run and self.status == self.Status.SUCCEEDED
