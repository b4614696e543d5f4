"""The stored AP aging report: a run is requested, a worker writes its CSV and XLSX files."""

import traceback
from datetime import date

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import audit, enqueue
from apps.core.exports import build_file
from apps.core.permissions import require_perm
from apps.invoices.models import AgingReportRun
from apps.invoices.selectors import AGING_HEADERS, aging_table, ap_aging


@transaction.atomic
def aging_run_request(*, actor, as_of: date, vendor=None, currency: str = "") -> AgingReportRun:
    """Ask for an aging report run; a worker writes its files once this transaction commits."""
    from apps.invoices.tasks import generate_aging_report

    require_perm(actor, "invoices.add_agingreportrun", "You may not run the AP aging report.")
    if as_of is None:
        raise ValidationError({"as_of": "Give the day the report is as of."})
    run = AgingReportRun.objects.create(as_of=as_of, vendor=vendor, currency=currency or "", created_by=actor)
    audit.record(action="agingreportrun.requested", actor=actor, target=run, data={"as_of": as_of.isoformat()})
    generate_aging_report.delay_on_commit(run.pk)
    return run


def aging_run_schedule(*, as_of: date) -> AgingReportRun | None:
    """The scheduled run for a day, created once however often the schedule fires."""
    from apps.invoices.tasks import generate_aging_report

    try:
        with transaction.atomic():
            run = AgingReportRun.objects.create(as_of=as_of, scheduled=True)
    except IntegrityError:
        return None
    enqueue.send(generate_aging_report, args=[run.pk])  # the run is committed; a refused send is kept
    return run


def aging_run_generate(*, run_id: int) -> AgingReportRun:
    """Write the run's files. Safe to run twice: a finished run is left as it is."""
    with transaction.atomic():
        run = AgingReportRun.objects.select_for_update().get(pk=run_id)
        if run.status == AgingReportRun.Status.DONE:
            return run
        run.status = AgingReportRun.Status.RUNNING
        run.save(update_fields=["status", "updated_at"])
    try:
        report = ap_aging(as_of=run.as_of, vendor_id=run.vendor_id, currency=run.currency or None)
        table = aging_table(report)
        stem = f"ap-aging-{run.as_of:%Y-%m-%d}-{run.pk}"
        csv_content, count = build_file(AGING_HEADERS, table, "csv")
        xlsx_content, _ = build_file(AGING_HEADERS, table, "xlsx")
        run.csv_file.save(f"{stem}.csv", ContentFile(csv_content), save=False)
        run.xlsx_file.save(f"{stem}.xlsx", ContentFile(xlsx_content), save=False)
        run.row_count = count
        run.status = AgingReportRun.Status.DONE
        run.error = ""
    except Exception:
        run.status = AgingReportRun.Status.FAILED
        run.error = traceback.format_exc()[-4000:]
    run.finished_at = timezone.now()
    run.save()
    return run
