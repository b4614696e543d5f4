"""Report runs: count accuracy, shrinkage, repeated variances and items below reorder point, as CSV or XLSX."""

import logging
from datetime import date, timedelta

import tablib
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import audit
from apps.inventory import selectors
from apps.inventory.models import InventoryReportRun

logger = logging.getLogger(__name__)
Kind = InventoryReportRun.Kind


def can_request_reports(user) -> bool:
    """Controllers and approvers run reports; auditors read and download the runs (they create nothing)."""
    return bool(user and user.is_active and user.has_perm("inventory.add_inventoryreportrun"))


@transaction.atomic
def inventory_report_request(
    *, actor, kind: str, date_from: date, date_to: date, file_format: str = InventoryReportRun.Format.CSV
) -> InventoryReportRun:
    """Queue a report run; a worker writes its file."""
    if actor is not None and not can_request_reports(actor):
        raise PermissionDenied("You may not run inventory reports.")
    if kind not in Kind.values:
        raise ValidationError({"kind": "Unknown report."})
    if file_format not in InventoryReportRun.Format.values:
        raise ValidationError({"file_format": "Choose CSV or XLSX."})
    if date_to < date_from:
        raise ValidationError({"date_to": "The period ends before it starts."})
    run = InventoryReportRun.objects.create(
        kind=kind, date_from=date_from, date_to=date_to, file_format=file_format, created_by=actor
    )
    audit.record(action="inventory_report.requested", target=run, actor=actor, data={"kind": kind})
    from apps.inventory.tasks import generate_inventory_report

    generate_inventory_report.delay_on_commit(run.pk)
    return run


def _dataset(run: InventoryReportRun) -> tablib.Dataset:
    if run.kind == Kind.COUNT_ACCURACY:
        data = selectors.count_accuracy(date_from=run.date_from, date_to=run.date_to)
        dataset = tablib.Dataset(headers=["dimension", "group", "lines", "within tolerance", "accuracy %"])
        dataset.append(["all", "", data["total"], data["within"], data["accuracy_percent"]])
        for row in data["by_month"]:
            dataset.append(["month", f"{row['month']:%Y-%m}", row["total"], row["within"], row["accuracy_percent"]])
        for row in data["by_warehouse"]:
            dataset.append(["warehouse", row["warehouse"], row["total"], row["within"], row["accuracy_percent"]])
        for row in data["by_abc_class"]:
            dataset.append(["ABC class", row["abc_class"], row["total"], row["within"], row["accuracy_percent"]])
        return dataset
    if run.kind == Kind.SHRINKAGE:
        data = selectors.shrinkage(date_from=run.date_from, date_to=run.date_to)
        dataset = tablib.Dataset(headers=["dimension", "group", "currency", "adjustments", "shrinkage", "gains", "net"])
        for dimension, key, rows in (
            ("month", "month", data["by_month"]),
            ("warehouse", "warehouse", data["by_warehouse"]),
            ("ABC class", "abc_class", data["by_abc_class"]),
        ):
            for row in rows:
                group = f"{row[key]:%Y-%m}" if key == "month" else row[key]
                dataset.append(
                    [
                        dimension,
                        group,
                        row["currency"],
                        row["adjustments"],
                        row["shrinkage_value"],
                        row["gain_value"],
                        row["net_value"],
                    ]
                )
        return dataset
    if run.kind == Kind.REPEATED_VARIANCES:
        dataset = tablib.Dataset(headers=["SKU", "description", "ABC class", "adjustments", "net units", "net value"])
        for item in selectors.items_with_repeated_variances(since=run.date_from):
            dataset.append(
                [item.sku, item.description, item.abc_class, item.adjustments, item.net_quantity, item.net_value]
            )
        return dataset
    dataset = tablib.Dataset(
        headers=["SKU", "description", "ABC class", "critical", "available", "reorder point", "reorder quantity"]
    )
    for item, available in selectors.items_below_reorder_point():
        dataset.append(
            [
                item.sku,
                item.description,
                item.abc_class,
                "yes" if item.is_critical else "no",
                available,
                item.reorder_point,
                item.reorder_quantity,
            ]
        )
    return dataset


@transaction.atomic
def inventory_report_generate(*, report_id: int) -> InventoryReportRun:
    """Write the report's file. Safe to run twice: a finished run is left as it is."""
    run = InventoryReportRun.objects.select_for_update().get(pk=report_id)
    if run.status == InventoryReportRun.Status.DONE:
        return run
    try:
        dataset = _dataset(run)
        content = dataset.export(run.file_format)
    except Exception as exc:  # the run records the failure for the person who asked
        logger.exception("inventory report %s failed", run.pk)
        run.status = InventoryReportRun.Status.FAILED
        run.error = str(exc)[:2000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at", "updated_at"])
        return run
    payload = content.encode() if isinstance(content, str) else content
    run.file.save(
        f"{run.kind}-{run.date_from}-{run.date_to}-{run.pk}.{run.file_format}", ContentFile(payload), save=False
    )
    run.row_count = len(dataset)
    run.status = InventoryReportRun.Status.DONE
    run.finished_at = timezone.now()
    run.save(update_fields=["file", "row_count", "status", "finished_at", "updated_at"])
    return run


def previous_month(today: date) -> tuple[date, date]:
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def inventory_reports_monthly(*, today: date | None = None) -> list[InventoryReportRun]:
    """The scheduled monthly runs: count accuracy and shrinkage of the previous month.

    Safe to run twice, also at the same time (two schedulers): a scheduled run is unique per kind,
    format and period in the database, so a second call creates nothing and returns only new runs.
    """
    from apps.inventory.tasks import generate_inventory_report

    date_from, date_to = previous_month(today or timezone.localdate())
    created = []
    for kind in (Kind.COUNT_ACCURACY, Kind.SHRINKAGE):
        try:
            with transaction.atomic():
                run = InventoryReportRun.objects.create(kind=kind, date_from=date_from, date_to=date_to, scheduled=True)
                audit.record(action="inventory_report.requested", target=run, data={"kind": kind, "scheduled": True})
                generate_inventory_report.delay_on_commit(run.pk)
        except IntegrityError:
            continue  # this period's scheduled run exists already
        created.append(run)
    return created
