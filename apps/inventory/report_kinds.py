"""Inventory in the reports center: count accuracy, shrinkage, repeated variances, items below reorder point."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from apps.core.reports import ReportKind, RunSummary
from apps.inventory.models import InventoryReportRun
from apps.inventory.services.reports import inventory_report_request

Kind = InventoryReportRun.Kind
STATUS = {InventoryReportRun.Status.DONE: "succeeded"}
SCHEDULE = "Monthly inventory reports"


def _year_ago():
    return timezone.localdate() - timedelta(days=365)


class PeriodForm(forms.Form):
    """A period and a file format."""

    date_from = forms.DateField(initial=_year_ago, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(initial=timezone.localdate, widget=forms.DateInput(attrs={"type": "date"}))
    file_format = forms.ChoiceField(
        label="Format", choices=InventoryReportRun.Format.choices, initial=InventoryReportRun.Format.CSV
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_to"] < cleaned["date_from"]:
            self.add_error("date_to", "The period ends before it starts.")
        return cleaned


def summary(run: InventoryReportRun) -> RunSummary:
    return RunSummary(
        pk=run.pk,
        status=STATUS.get(run.status, run.status),
        requested_by=run.created_by.get_username() if run.created_by_id else "",
        requested_at=run.created_at,
        finished_at=run.finished_at,
        row_count=run.row_count,
        parameters=f"{run.date_from:%Y-%m-%d} to {run.date_to:%Y-%m-%d}, {run.get_file_format_display()}",
        formats=(run.file_format,) if run.file else (),
        message=run.error,
    )


def inventory_kind(kind: str, label: str, description: str, scheduled: bool) -> ReportKind:
    return ReportKind(
        key=str(kind),
        label=label,
        form_class=PeriodForm,
        view_permission="inventory.view_inventoryreportrun",
        run_permissions=("inventory.add_inventoryreportrun",),
        request=lambda *, actor, date_from, date_to, file_format: inventory_report_request(
            actor=actor, kind=kind, date_from=date_from, date_to=date_to, file_format=file_format
        ),
        runs=lambda: InventoryReportRun.objects.filter(kind=kind).select_related("created_by"),
        summary=summary,
        open_file=lambda run, fmt: run.file if fmt == run.file_format else None,
        schedule_names=(SCHEDULE,) if scheduled else (),
        description=description,
    )


KINDS = [
    inventory_kind(
        Kind.COUNT_ACCURACY, "Count accuracy", "Counted lines within tolerance, by month, warehouse, ABC class.", True
    ),
    inventory_kind(
        Kind.SHRINKAGE, "Shrinkage", "Adjustment value lost and gained, by month, warehouse and ABC class.", True
    ),
    inventory_kind(
        Kind.REPEATED_VARIANCES, "Repeated variances", "Items adjusted more than once since the start day.", False
    ),
    inventory_kind(
        Kind.BELOW_REORDER, "Items below reorder point", "Items at or below their reorder point now.", False
    ),
]
