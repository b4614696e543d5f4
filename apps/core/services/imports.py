"""Import jobs: upload, dry run, confirm, and the worker's all-or-nothing run."""

import csv
import io
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.core import audit, bulk, imports
from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import ImportJob

logger = logging.getLogger(__name__)
PREVIEW_ROWS = 5
FOREIGN_KEY_VIOLATION = "23503"  # PostgreSQL's SQLSTATE


def progress_key(job_id: int) -> str:
    return f"import-job:{job_id}:rows-processed"


def import_job_progress(job: ImportJob) -> int:
    """Rows processed so far: live from the worker while running, from the job once finished."""
    if job.status == ImportJob.Status.RUNNING:
        return cache.get(progress_key(job.pk), job.rows_processed)
    return job.rows_processed


def _target_for(actor, key: str) -> imports.ImportTarget:
    target = imports.get(key)
    if target is None:
        raise ValidationError({"target": f"Nothing can be imported as {key!r}."})
    if not target.allowed_for(actor):
        raise PermissionDenied(f"You may not import {target.label.lower()}.")
    return target


@transaction.atomic
def import_job_create(*, actor, target: str, uploaded_file, dry_run: bool = True, encoding: str = "utf-8") -> ImportJob:
    """Accept a file for import and queue it for the worker (a dry run unless told otherwise)."""
    chosen = _target_for(actor, target)
    if uploaded_file is None:
        raise ValidationError({"file": "Choose a file."})
    if uploaded_file.size > settings.IMPORT_MAX_BYTES:
        raise ValidationError({"file": f"The file is larger than {settings.IMPORT_MAX_BYTES // (1024 * 1024)} MB."})
    try:
        imports.file_format(uploaded_file.name)
    except imports.ImportFileError as exc:
        raise ValidationError({"file": str(exc)}) from exc
    if encoding not in imports.ENCODINGS:
        raise ValidationError({"encoding": f"Choose {' or '.join(imports.ENCODINGS)}."})
    job = ImportJob.objects.create(
        target=chosen.key,
        file=uploaded_file,
        original_name=uploaded_file.name[:255],
        encoding=encoding,
        dry_run=dry_run,
        created_by=actor,
    )
    audit.record(action="import.queued", actor=actor, target=job, data={"target": chosen.key, "dry_run": dry_run})
    from apps.core.tasks import run_import_job

    run_import_job.delay_on_commit(job.pk)
    return job


@transaction.atomic
def import_job_confirm(*, job_id: int, actor) -> ImportJob:
    """Run a successful dry run for real; the worker validates every row again."""
    job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
    if job is None:
        raise ValidationError({"job": "There is no such import job."})
    _target_for(actor, job.target)
    if job.created_by_id != actor.pk:
        raise PermissionDenied("Only the person who uploaded the file can confirm its import.")
    if not job.can_confirm:
        raise TransitionNotAllowed("Only a dry run that found no errors can be confirmed.")
    job.dry_run = False
    job.status = ImportJob.Status.QUEUED
    job.rows_processed = 0
    job.save(update_fields=["dry_run", "status", "rows_processed", "updated_at", "updated_by"])
    audit.record(action="import.confirmed", actor=actor, target=job)
    from apps.core.tasks import run_import_job

    run_import_job.delay_on_commit(job.pk)
    return job


def _claim(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        # A job left "running" by a worker that died is safe to run again: nothing of it was written.
        if job is None or job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING):
            return None
        job.status = ImportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.message = ""
        job.save(update_fields=["status", "started_at", "message"])
        return job


def import_job_run(*, job_id: int) -> ImportJob | None:
    """The worker's part: read, validate every row, and write all rows or none. Safe to run twice."""
    job = _claim(job_id)
    if job is None:
        return None
    target = imports.get(job.target)
    if target.bulk_importer is not None:
        return _run_bulk(job, target)
    try:
        with job.file.open("rb") as handle:
            data = handle.read(settings.IMPORT_MAX_BYTES + 1)
        dataset = imports.read_dataset(data, name=job.original_name, encoding=job.encoding)
        imports.apply_header_aliases(dataset, target.resource)
    except imports.ImportFileError as exc:
        return _finish(job, status=ImportJob.Status.FAILED, message=str(exc))
    job.rows_total = len(dataset)
    job.save(update_fields=["rows_total"])
    resource = _with_progress(target.resource)(job_id=job.pk)
    with audit.audit_context(path="import", actor=job.created_by, detail=f"import job {job.pk}"):
        result = resource.import_data(
            dataset,
            dry_run=job.dry_run,
            use_transactions=True,
            rollback_on_validation_errors=True,
            user=job.created_by,
        )
    problems = imports.row_errors(result, dataset)
    totals = result.totals
    summary = {
        "new": totals.get("new", 0),
        "updated": totals.get("update", 0),
        "unchanged": totals.get("skip", 0),
        "errors": len({p["row"] for p in problems}) if problems else 0,
    }
    job.rows_processed = len(dataset)
    return _conclude(job, summary=summary, preview=_preview(result), problems=problems)


def _run_bulk(job: ImportJob, target: imports.ImportTarget) -> ImportJob:
    """A target with a bulk importer: the file is read as a stream and the importer validates and writes it."""
    progress = ProgressReporter(job.pk)
    try:
        with job.file.open("rb") as handle:
            table = imports.stream_table(handle, name=job.original_name, encoding=job.encoding, size=job.file.size)
            table.headers = imports.canonical_headers(table.headers, target.resource)
            job.rows_total = table.estimated_rows
            job.save(update_fields=["rows_total"])
            with (
                audit.audit_context(path="import", actor=job.created_by, detail=f"import job {job.pk}"),
                bulk.fewer_collections(),
            ):
                result = target.bulk_importer(job=job, table=table, progress=progress)
    except imports.ImportFileError as exc:
        return _finish(job, status=ImportJob.Status.FAILED, message=str(exc))
    except IntegrityError as exc:
        # Rows saved meanwhile by someone else (found absent, then written by both): the transaction of the
        # importer is rolled back by now, so nothing of the file was written and the job can be saved.
        logger.warning("Import job %s refused by the database: %s", job.pk, exc, exc_info=exc)
        return _finish(job, status=ImportJob.Status.FAILED, message=_refused_message(exc))
    if not result.rows and not result.problems:
        return _finish(job, status=ImportJob.Status.FAILED, message="The file has column names but no rows.")
    job.rows_total = job.rows_processed = result.rows
    problems = sorted(result.problems, key=lambda p: (p["row"] if isinstance(p["row"], int) else 0, p["column"]))
    return _conclude(job, summary=result.summary, preview=result.preview, problems=problems, unit=result.unit)


def _refused_message(exc: Exception) -> str:
    """The job's message when the database refused the rows, in the words of what happened.

    A unique key: the record someone saved meanwhile. A foreign key: a record deleted meanwhile. Anything
    else is a rule the import's checks missed: the database's reason, for an administrator.
    """
    conflict = imports.unique_conflict(exc)
    if conflict is not None:
        return (
            f"While this import ran, {conflict} was saved by someone else, so nothing was written. "
            "Import the file again: rows already entered show as unchanged or updated."
        )
    diag = imports.database_diagnostics(exc)
    if diag is not None and diag.sqlstate == FOREIGN_KEY_VIOLATION:
        return (
            f"While this import ran, a record its rows refer to was deleted by someone else, so nothing was "
            f"written ({diag.message_detail or diag.message_primary}). Import the file again: the rows that "
            "refer to it will be reported."
        )
    reason = diag.message_primary if diag is not None else str(exc)  # the detail is the whole row: unreadable
    return (
        f"The database refused the file's rows, so nothing was written ({reason}). "
        "Tell an administrator: the import's checks should have reported this as a row error."
    )


class ProgressReporter:
    """Tells the cache how many rows a bulk importer has processed, at most every IMPORT_PROGRESS_EVERY rows."""

    def __init__(self, job_id: int):
        self.key = progress_key(job_id)
        self.reported = 0

    def __call__(self, rows_processed: int) -> None:
        if rows_processed - self.reported >= settings.IMPORT_PROGRESS_EVERY:
            cache.set(self.key, rows_processed, timeout=3600)
            self.reported = rows_processed


def _conclude(job: ImportJob, *, summary: dict, preview: dict, problems: list[dict], unit: str = "rows") -> ImportJob:
    job.summary = summary
    job.preview = preview
    if problems:
        job.error_report.save(f"import-{job.pk}-errors.csv", ContentFile(_error_csv(problems)), save=False)
        return _finish(
            job,
            status=ImportJob.Status.FAILED,
            message=f"{summary['errors']} row(s) have errors: nothing was written. See the error report.",
        )
    done = "would be" if job.dry_run else "were"
    message = (
        f"{summary['new']} new, {summary['updated']} updated and {summary['unchanged']} unchanged {unit} {done} "
        "imported."
    )
    return _finish(job, status=ImportJob.Status.SUCCEEDED, message=message)


def _finish(job: ImportJob, *, status, message: str) -> ImportJob:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    job.save()
    cache.delete(progress_key(job.pk))
    audit.record(
        action="import.completed" if status == ImportJob.Status.SUCCEEDED else "import.failed",
        outcome="success" if status == ImportJob.Status.SUCCEEDED else "failed",
        actor=job.created_by,
        target=job,
        message=message,
        data={"target": job.target, "dry_run": job.dry_run, "summary": job.summary, "path": "import"},
    )
    return job


def _preview(result) -> dict:
    kinds = {"new": [], "update": [], "skip": []}
    for row in result.rows:
        bucket = kinds.get(row.import_type)
        if bucket is not None and len(bucket) < PREVIEW_ROWS:
            bucket.append(str(row.object_repr or ""))
    return {"new": kinds["new"], "updated": kinds["update"], "unchanged": kinds["skip"]}


def _error_csv(problems) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["row", "column", "value", "message"])
    writer.writeheader()
    for problem in problems:
        value = str(problem["value"])
        if value.startswith(("=", "+", "-", "@", "\t", "\r", "\n")):
            value = "'" + value
        writer.writerow({**problem, "value": value})
    return buffer.getvalue().encode("utf-8")


def _with_progress(resource_class):
    """The target's resource, reporting rows processed to the cache every IMPORT_PROGRESS_EVERY rows."""

    class ProgressResource(resource_class):
        def __init__(self, *, job_id, **kwargs):
            super().__init__(**kwargs)
            self._progress_key = progress_key(job_id)

        def after_import_row(self, row, row_result, **kwargs):
            super().after_import_row(row, row_result, **kwargs)
            number = kwargs.get("row_number", 0)
            if number % settings.IMPORT_PROGRESS_EVERY == 0:
                cache.set(self._progress_key, number, timeout=3600)

    ProgressResource.__name__ = f"Progress{resource_class.__name__}"
    return ProgressResource
