"""The platform's own report: the audit trail extract (record changes and events, filtered)."""

import json
from datetime import datetime, time, timedelta

from django import forms
from django.apps import apps
from django.utils import timezone

from apps.core.reports import generic_kind

AUDIT_HEADERS = ["timestamp", "source", "action", "user", "path", "model", "record id", "record", "detail"]
CHANGE_ACTIONS = {0: "create", 1: "update", 2: "delete", 3: "access"}


def model_choices():
    labels = sorted(f"{model._meta.app_label}.{model._meta.model_name}" for model in apps.get_models())
    return [("", "any record")] + [(label, label) for label in labels]


class AuditTrailForm(forms.Form):
    """Which part of the trail to extract: a model, one record, one person and a period, all optional."""

    model = forms.ChoiceField(required=False, choices=model_choices, help_text="app.model, e.g. invoices.invoice")
    record_id = forms.CharField(required=False, max_length=64, label="Record id")
    user = forms.CharField(required=False, max_length=150, help_text="Username")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The period ends before it starts.")
        if cleaned.get("record_id") and not cleaned.get("model"):
            self.add_error("model", "Choose the model the record id belongs to.")
        return cleaned


def _label(content_type) -> str:
    return f"{content_type.app_label}.{content_type.model}"


def _bounds(parameters: dict) -> tuple[datetime | None, datetime | None]:
    start, end = parameters.get("date_from"), parameters.get("date_to")
    zone = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=zone) if start else None,
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone) if end else None,
    )


def audit_trail_rows(parameters: dict):
    """Record changes and events matching the filters, oldest first, as rows of :data:`AUDIT_HEADERS`."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from apps.core.models import AuditEvent

    changes = LogEntry.objects.select_related("content_type", "actor")
    events = AuditEvent.objects.select_related("target_type")
    if parameters.get("model"):
        app_label, model_name = parameters["model"].split(".")
        content_type = ContentType.objects.get_by_natural_key(app_label, model_name)
        changes = changes.filter(content_type=content_type)
        events = events.filter(target_type=content_type)
    if parameters.get("record_id"):
        changes = changes.filter(object_pk=parameters["record_id"])
        events = events.filter(target_id=parameters["record_id"])
    if parameters.get("user"):
        changes = changes.filter(actor__username=parameters["user"])
        events = events.filter(username=parameters["user"])
    start, end = _bounds(parameters)
    if start:
        changes, events = changes.filter(timestamp__gte=start), events.filter(timestamp__gte=start)
    if end:
        changes, events = changes.filter(timestamp__lt=end), events.filter(timestamp__lt=end)

    rows = []
    for entry in changes.order_by("timestamp", "id").iterator(chunk_size=2000):
        extra = entry.additional_data or {}
        rows.append(
            (
                entry.timestamp,
                [
                    entry.timestamp.isoformat(),
                    "change",
                    CHANGE_ACTIONS.get(entry.action, str(entry.action)),
                    entry.actor.get_username() if entry.actor_id else "",
                    extra.get("path", ""),
                    _label(entry.content_type) if entry.content_type_id else "",
                    entry.object_pk,
                    entry.object_repr,
                    json.dumps(entry.changes or {}, sort_keys=True, default=str),
                ],
            )
        )
    for event in events.order_by("timestamp", "id").iterator(chunk_size=2000):
        detail = {"outcome": event.outcome, **({"message": event.message} if event.message else {}), **event.data}
        rows.append(
            (
                event.timestamp,
                [
                    event.timestamp.isoformat(),
                    "event",
                    event.action,
                    event.username,
                    event.path,
                    _label(event.target_type) if event.target_type_id else "",
                    event.target_id,
                    event.target_repr,
                    json.dumps(detail, sort_keys=True, default=str),
                ],
            )
        )
    rows.sort(key=lambda pair: pair[0])
    return AUDIT_HEADERS, [row for _, row in rows]


KINDS = [
    generic_kind(
        key="audit_trail",
        label="Audit trail extract",
        form_class=AuditTrailForm,
        view_permission="core.view_auditevent",
        build=audit_trail_rows,
        description="Record changes and events: who, when, through which path, what changed.",
    )
]
