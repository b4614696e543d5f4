from django.conf import settings
from django.db import models


class BaseModel(models.Model):
    """Every business record: when it was created and last changed, and by whom.

    ``created_by`` / ``updated_by`` are stamped from the acting user of the audit context
    when a service does not set them itself.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        abstract = True
