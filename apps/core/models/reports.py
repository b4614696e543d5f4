from django.db import models

from apps.core.models.base import BaseModel


class ReportRun(BaseModel):
    """One run of a report the portal builds itself (vendor scorecards, SOP compliance, audit trail extract).

    Requested from the reports center (or by a schedule, then with no requester), written by a worker as a
    CSV and an XLSX file through the formula-safe exporter, and kept with the SHA-256 of each file.
    Reports that have a run model in their own app (AP aging, refund aging, inventory) keep using it.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=64, db_index=True, help_text="The report's key in the reports center.")
    parameters = models.JSONField(default=dict, blank=True)
    scheduled = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    csv_file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    xlsx_file = models.FileField(upload_to="reports/%Y/%m/", blank=True)
    csv_sha256 = models.CharField(max_length=64, blank=True)
    xlsx_sha256 = models.CharField(max_length=64, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "report run"
        indexes = [models.Index(fields=["kind", "-created_at"], name="core_reportrun_kind_idx")]

    def __str__(self):
        return f"{self.kind} #{self.pk} ({self.get_status_display()})"
