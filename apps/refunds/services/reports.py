"""Report runs: the aging of open cases and the chargeback recovery summary as CSV or XLSX files."""

import csv
import io
import logging
from datetime import date, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import audit
from apps.refunds import selectors
from apps.refunds.models import RefundCase, ReportRun

logger = logging.getLogger(__name__)

AGING_COLUMNS = ["type", "currency", "count", *selectors.BUCKETS, "total"]
RECOVERY_COLUMNS = ["currency", "count", "won", "lost", "accepted", "disputed", "amount_lost", "recovered", "fees"]


@transaction.atomic
def report_run_request(
    *, actor, kind: str, as_of: date | None = None, format: str = ReportRun.Format.CSV, case_type: str = ""
) -> ReportRun:
    """Queue a report run; a worker writes its file."""
    from apps.refunds.tasks import generate_report_run

    if actor is None or not actor.is_active or not actor.has_perm("refunds.add_reportrun"):
        raise PermissionDenied("You may not run refund reports.")
    errors = {}
    if kind not in ReportRun.Kind.values:
        errors["kind"] = f"Report is one of {', '.join(ReportRun.Kind.values)}."
    if format not in ReportRun.Format.values:
        errors["format"] = f"Format is one of {', '.join(ReportRun.Format.values)}."
    if case_type and case_type not in RefundCase.Type.values:
        errors["case_type"] = f"Unknown case type {case_type!r}."
    if errors:
        raise ValidationError(errors)
    run = ReportRun.objects.create(
        kind=kind,
        format=format,
        as_of=as_of or timezone.localdate(),
        case_type=case_type,
        created_by=actor,
        updated_by=actor,
    )
    generate_report_run.delay_on_commit(run.pk)
    return run


def report_runs_schedule_monthly(*, today: date | None = None) -> list[ReportRun]:
    """The monthly runs as of the last day of the previous month: aging and recovery, CSV and XLSX.

    Safe to run twice: a scheduled run is unique per (kind, format, day).
    """
    from apps.refunds.tasks import generate_report_run

    today = today or timezone.localdate()
    month_end = today.replace(day=1) - timedelta(days=1)
    created = []
    for kind in ReportRun.Kind.values:
        for fmt in ReportRun.Format.values:
            try:
                with transaction.atomic():
                    run = ReportRun.objects.create(kind=kind, format=fmt, as_of=month_end, scheduled=True)
                    generate_report_run.delay_on_commit(run.pk)
            except IntegrityError:
                continue  # this month's run exists already
            created.append(run)
    return created


def report_rows(run: ReportRun) -> tuple[list[str], list[dict]]:
    if run.kind == ReportRun.Kind.AGING:
        aging = selectors.case_aging(as_of=run.as_of, case_type=run.case_type or None)
        totals = [{"type": "all", **row} for row in aging["totals"]]
        return AGING_COLUMNS, aging["rows"] + totals
    month_start = run.as_of.replace(day=1)
    return RECOVERY_COLUMNS, selectors.chargeback_recovery(date_from=month_start, date_to=run.as_of)


def render(columns: list[str], rows: list[dict], fmt: str) -> bytes:
    if fmt == ReportRun.Format.CSV:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return out.getvalue().encode()
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(columns)
    for row in rows:
        sheet.append([row.get(column) for column in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_run_generate(*, run_id: int) -> ReportRun:
    """Write the run's file. A run already done is left alone (safe to run twice)."""
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        if run.status == ReportRun.Status.DONE:
            return run
        run.status = ReportRun.Status.RUNNING
        run.save(update_fields=["status", "updated_at"])
    try:
        columns, rows = report_rows(run)
        content = render(columns, rows, run.format)
    except Exception as exc:
        logger.exception("refund report run %s failed", run_id)
        with transaction.atomic():
            audit.logged_update(
                ReportRun.objects.filter(pk=run_id),
                status=ReportRun.Status.FAILED,
                error=str(exc)[:2000],
                finished_at=timezone.now(),
            )
        raise
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        run.file.save(
            f"refunds-{run.kind}-{run.as_of:%Y-%m-%d}-{run.pk}.{run.format}", ContentFile(content), save=False
        )
        run.row_count = len(rows)
        run.status = ReportRun.Status.DONE
        run.error = ""
        run.finished_at = timezone.now()
        run.save()
    return run
