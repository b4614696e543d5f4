from django.conf import settings
from django.db import models


class ReminderDigest(models.Model):
    """The one reminder digest a person gets on a day. Unique per (person, day)."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["recipient", "day"], name="reminder_digest_once_per_day")]

    def __str__(self):
        return f"Digest for {self.recipient} on {self.day}"


class ReminderItem(models.Model):
    """One thing a person was reminded of. Unique per (person, source, object, day)."""

    digest = models.ForeignKey(ReminderDigest, on_delete=models.CASCADE, related_name="items")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=64)
    object_key = models.CharField(max_length=128)
    day = models.DateField()
    title = models.CharField(max_length=255)
    url = models.CharField(max_length=500, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "source", "object_key", "day"], name="reminder_item_once_per_day"
            )
        ]

    def __str__(self):
        return self.title


class Notification(models.Model):
    """An in-app message for one person, shown in the admin header until read."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    reminder = models.OneToOneField(
        ReminderItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="notification"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return self.title
