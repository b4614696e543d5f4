"""The field other apps put on a record to keep the SOP version in force when it was approved."""

from django.db import models


def sop_version_field(**kwargs) -> models.ForeignKey:
    """``sop_version = sop_version_field()``: filled by the approval service with ``sop_version_in_force()``.

    Nullable (an area may have nothing published yet), protected (a version that governed a decision
    is never deleted) and not editable in forms (only the approval service sets it).
    """
    options = {
        "null": True,
        "blank": True,
        "on_delete": models.PROTECT,
        "related_name": "+",
        "editable": False,
        "verbose_name": "SOP version in force",
        "help_text": "The SOP version that governed this decision when it was made.",
    }
    options.update(kwargs)
    return models.ForeignKey("sops.SOPVersion", **options)
