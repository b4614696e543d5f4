from django.db import models

from apps.core.models.base import BaseModel


class ExportJob(BaseModel):
    """A file a worker builds for one person: a large export of a filtered list, or an auditor's evidence pack.

    ``source`` says how the worker finds the rows again (the admin list or API endpoint and its query, or
    the selected record ids, and the columns ticked on the admin's export form); the finished file's SHA-256
    is on the job and on the audit trail. The file is deleted ``EXPORT_FILE_RETENTION_DAYS`` after it was
    written; the job stays, marked expired.
    """

    class Kind(models.TextChoices):
        RECORDS = "records", "Records export"
        EVIDENCE_PACK = "evidence_pack", "Evidence pack"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"

    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.RECORDS, db_index=True)
    target = models.CharField(max_length=64, help_text="What is exported, e.g. invoices.invoice")
    file_format = models.CharField(max_length=8, help_text="csv, xlsx or zip")
    source = models.JSONField(default=dict, blank=True, help_text="How the worker selects the rows again.")
    filters = models.JSONField(default=dict, blank=True, help_text="The filters as the person chose them.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    file = models.FileField(upload_to="exports/%Y/%m/", blank=True, max_length=255)
    rows = models.PositiveIntegerField(default=0, help_text="Rows (records for an evidence pack) in the file.")
    sha256 = models.CharField("SHA-256", max_length=64, blank=True)
    message = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(
        null=True, blank=True, help_text="When the file was deleted after EXPORT_FILE_RETENTION_DAYS."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "-created_at"], name="exportjob_owner_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.target} ({self.get_status_display().lower()})"

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.SUCCEEDED and bool(self.file)

    @property
    def is_expired(self) -> bool:
        return self.status == self.Status.EXPIRED

    @property
    def download_name(self) -> str:
        stem = "evidence-pack" if self.kind == self.Kind.EVIDENCE_PACK else self.target.replace(".", "-")
        return f"{stem}-{self.pk}.{self.file_format}"
