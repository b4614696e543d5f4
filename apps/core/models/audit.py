from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from apps.core.audit import PATHS

PATH_CHOICES = [(p, p.replace("_", " ")) for p in PATHS]


class AuditEvent(models.Model):
    """An append-only event: an approval, export, import, login, failed login or denied request.

    Never changed or deleted by the application; on PostgreSQL a trigger refuses UPDATE and DELETE.
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "success"
        DENIED = "denied", "denied"
        FAILED = "failed", "failed"

    timestamp = models.DateTimeField(auto_now_add=True, db_index=True)
    action = models.CharField(max_length=64, db_index=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text="As given, also for failed logins.")
    path = models.CharField(max_length=20, choices=PATH_CHOICES, default="system")
    request_path = models.CharField(max_length=255, blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    target_id = models.CharField(max_length=64, blank=True)
    target_repr = models.CharField(max_length=255, blank=True)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="auditevent_target_idx"),
            models.Index(fields=["actor", "-timestamp"], name="auditevent_actor_idx"),
        ]
        permissions = [("export_records", "Can export records")]

    def __str__(self):
        who = self.username or "system"
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.action} by {who} ({self.outcome})"
