"""Export jobs: large exports and evidence packs a worker writes to a file, with a link and a notification.

The files are kept ``EXPORT_FILE_RETENTION_DAYS`` days after they were written; then a daily task deletes
them and marks their jobs expired (:func:`export_files_expire`).
"""

import logging
import tempfile
from datetime import timedelta

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string

from apps.core import audit, exports
from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import ExportJob, Notification
from apps.core.permissions import require_perm

logger = logging.getLogger(__name__)


def export_is_large(row_count: int) -> bool:
    """Whether an export of ``row_count`` rows goes to the worker instead of downloading at once."""
    return row_count > settings.EXPORT_ASYNC_THRESHOLD_ROWS


# --- Where the rows come from -----------------------------------------------------------------------


def admin_source(model_admin, request, ids=None, *, resource: int = 0, fields=None) -> dict:
    """How the worker finds an admin list's filtered selection again: the list, its query, any ticked rows,
    and the resource and fields ticked on the export form (no fields: every field of the resource)."""
    return {
        "via": "admin",
        "model": model_admin.model._meta.label_lower,
        "path": request.path,
        "query": request.GET.urlencode(),
        "ids": [str(pk) for pk in ids] if ids else [],
        "resource": resource,
        "fields": list(fields or []),
    }


def admin_export_choice(model_admin, request, export_form=None) -> tuple[int, list[str], list[str]]:
    """What the admin's export form asks for: the resource's index, the ticked fields (empty when the form
    does not offer a choice) and the column headers the file will have, in the resource's export order."""
    index = model_admin.get_resource_index(export_form) if export_form is not None else 0
    fields = list(model_admin.get_export_resource_fields_from_form(export_form) or [])
    resource = _admin_resource(model_admin, request, index)
    return index, fields, resource.get_export_headers(selected_fields=fields or None)


def _admin_resource(model_admin, request, index: int = 0):
    resource_classes = model_admin.get_export_resource_classes(request)
    if not 0 <= index < len(resource_classes):
        raise ValidationError({"resource": "This export is no longer offered."})
    return resource_classes[index](**model_admin.get_export_resource_kwargs(request))


def api_source(view, request) -> dict:
    """How the worker finds an API list's filtered rows again: the endpoint's view and its query."""
    query = request.query_params.copy()
    query.pop("format", None)
    return {
        "via": "api",
        "view": f"{type(view).__module__}.{type(view).__qualname__}",
        "path": request.path,
        "query": query.urlencode(),
    }


def _fake_request(source: dict, user):
    request = RequestFactory().get(source.get("path", "/"), QueryDict(source.get("query", "")))
    request.user = user
    return request


def admin_table(*, model_admin, request, queryset=None, resource: int = 0, fields=None) -> tuple[list[str], object]:
    """Headers and rows of an admin list's export: its import-export resource, one row per record, only the
    ``fields`` ticked on the export form (all when none is given) in the resource's export order."""
    if queryset is None:
        queryset = model_admin.get_export_queryset(request)
    export_resource = _admin_resource(model_admin, request, resource)
    selected = list(fields or []) or None
    if selected:
        offered = set(export_resource.get_export_order())
        unknown = [name for name in selected if name not in offered]
        if unknown:
            raise ValidationError({"fields": f"No longer exported: {', '.join(unknown)}."})
    headers = export_resource.get_export_headers(selected_fields=selected)
    rows = (
        export_resource.export_resource(obj, selected_fields=selected)
        for obj in queryset.iterator(chunk_size=exports.QUERY_CHUNK_ROWS)
    )
    return headers, rows


def api_view_for(view_class, request, *, action="list"):
    """An API view set up for ``request`` as the router would, so its queryset and filters apply."""
    from rest_framework.request import Request

    view = view_class()
    drf_request = request if isinstance(request, Request) else Request(request)
    if not isinstance(request, Request):
        drf_request.user = request.user
    view.request = drf_request
    view.args, view.kwargs = (), {}
    view.format_kwarg = None
    view.action = action
    view.headers = {}
    return view


def api_table(*, view) -> tuple[list[str], object, int]:
    """Headers, rows and row count of an API list's export: the endpoint's filters, and its ``export_columns``
    (read with ``values_list``) or else its own serializer, so whatever it masks stays masked."""
    queryset = view.filter_queryset(view.get_queryset())
    columns = getattr(view, "export_columns", None)
    if columns:
        rows = exports.queryset_rows(queryset, columns, actor=view.request.user)
        return [column.header for column in columns], rows, queryset.count()
    serializer = view.get_serializer()
    names = [name for name, field in serializer.fields.items() if not field.write_only]

    def rows():
        for obj in queryset.iterator(chunk_size=exports.QUERY_CHUNK_ROWS):
            data = view.get_serializer(obj).data
            yield [data.get(name) for name in names]

    return names, rows(), queryset.count()


def _table_for(job: ExportJob):
    source = job.source
    request = _fake_request(source, job.created_by)
    if source.get("via") == "admin":
        model_admin = _admin_for(source["model"])
        queryset = model_admin.get_export_queryset(request)
        if source.get("ids"):
            queryset = queryset.filter(pk__in=source["ids"])
        return admin_table(
            model_admin=model_admin,
            request=request,
            queryset=queryset,
            resource=source.get("resource", 0),
            fields=source.get("fields"),
        )
    if source.get("via") == "api":
        view = api_view_for(import_string(source["view"]), request)
        headers, rows, _ = api_table(view=view)
        return headers, rows
    raise ValidationError({"source": f"Unknown export source {source.get('via')!r}."})


def _admin_for(label: str):
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower == label:
            return model_admin
    raise ValidationError({"target": f"{label} has no admin list."})


# --- Jobs -------------------------------------------------------------------------------------------


@transaction.atomic
def export_job_create(
    *,
    actor,
    target: str,
    file_format: str,
    source: dict,
    filters: dict | None = None,
    kind=ExportJob.Kind.RECORDS,
    columns: list[str] | None = None,
) -> ExportJob:
    """Queue an export (or an evidence pack) for the worker; the person gets a notification when it is ready.

    ``columns`` are the headers of the fields ticked on the admin's export form, for the audit trail."""
    require_perm(actor, exports.EXPORT_PERMISSION, "You may not export records.")
    allowed = ("zip",) if kind == ExportJob.Kind.EVIDENCE_PACK else tuple(exports.CONTENT_TYPES)
    if file_format not in allowed:
        raise ValidationError({"format": f"Choose {' or '.join(allowed)}."})
    job = ExportJob.objects.create(
        kind=kind,
        target=target,
        file_format=file_format,
        source=source,
        filters=filters or {},
        created_by=actor,
    )
    audit.record(
        action="export.queued",
        actor=actor,
        target=job,
        data={
            "kind": kind,
            "what": target,
            "format": file_format,
            "filters": job.filters,
            **({"columns": list(columns)} if columns else {}),
        },
    )
    from apps.core.tasks import run_export_job

    run_export_job.delay_on_commit(job.pk)
    return job


def _claim(job_id: int) -> ExportJob | None:
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().filter(pk=job_id).first()
        # A job left "running" by a worker that died is written again from the start.
        if job is None or job.status not in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING):
            return None
        job.status = ExportJob.Status.RUNNING
        job.started_at = timezone.now()
        job.message = ""
        job.save(update_fields=["status", "started_at", "message", "updated_at"])
        return job


def export_job_run(*, job_id: int) -> ExportJob | None:
    """The worker's part: write the file, hash it, record the export and tell the person. Safe to run twice."""
    job = _claim(job_id)
    if job is None:
        return None
    actor = job.created_by
    columns = {}
    try:
        with audit.audit_context(path="task", actor=actor, detail=f"export job {job.pk}"):
            require_perm(actor, exports.EXPORT_PERMISSION, "You may no longer export records.")
            with tempfile.TemporaryFile() as handle:
                if job.kind == ExportJob.Kind.EVIDENCE_PACK:
                    from apps.core.services.evidence import evidence_pack_write

                    rows, digest = evidence_pack_write(job=job, handle=handle)
                else:
                    headers, table = _table_for(job)
                    rows, digest = exports.write_file(handle, headers, table, job.file_format)
                    columns = {"columns": list(headers)}
                handle.seek(0)
                job.file.save(job.download_name, File(handle), save=False)
            job.rows, job.sha256 = rows, digest
            exports.record_export(
                actor=actor,
                what=job.target,
                fmt=job.file_format,
                rows=rows,
                sha256=digest,
                filters=job.filters,
                export_job=job.pk,
                kind=job.kind,
                **columns,
            )
    except (PermissionDenied, ValidationError, ValueError) as exc:
        message = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        return _finish(job, status=ExportJob.Status.FAILED, message=message)
    except Exception:
        logger.exception("Export job %s failed", job.pk)
        _finish(job, status=ExportJob.Status.FAILED, message="The file could not be written; see the worker log.")
        raise
    what = "evidence pack" if job.kind == ExportJob.Kind.EVIDENCE_PACK else "export"
    return _finish(job, status=ExportJob.Status.SUCCEEDED, message=f"Your {what} of {rows:,} record(s) is ready.")


def _finish(job: ExportJob, *, status, message: str) -> ExportJob:
    job.status = status
    job.message = message
    job.finished_at = timezone.now()
    job.save()
    Notification.objects.create(
        recipient=job.created_by,
        title=message if status == ExportJob.Status.SUCCEEDED else f"Export failed: {message}"[:255],
        url=reverse("admin:core_exportjob_change", args=[job.pk]),
    )
    return job


def export_job_download(*, job_id: int, actor) -> ExportJob:
    """The finished file of a job, for the person who asked for it (who must still hold ``export_records``)."""
    require_perm(actor, exports.EXPORT_PERMISSION, "You may not export records.")
    job = ExportJob.objects.get(pk=job_id)
    if job.created_by_id != actor.pk:
        raise PermissionDenied("Only the person who asked for this export can download it.")
    if job.expired_at is not None:
        raise ExportFileExpired(expired_message(job))
    if not job.is_ready:
        raise TransitionNotAllowed("The file is not ready yet.")
    audit.record(action="export.downloaded", actor=actor, target=job, data={"sha256": job.sha256})
    return job


# --- Retention ----------------------------------------------------------------------------------------

EXPIRE_BATCH_SIZE = 500  # jobs whose files are deleted per transaction


class ExportFileExpired(TransitionNotAllowed):
    """The job's file was deleted after the retention period (the API answers 410 Gone)."""


def expired_message(job: ExportJob) -> str:
    when = timezone.localtime(job.expired_at).strftime("%Y-%m-%d")
    return f"This file has expired: it was deleted on {when} after the retention period. Export again for a new one."


def export_files_expire(*, now=None, batch_size: int = EXPIRE_BATCH_SIZE) -> int:
    """Delete the files of export jobs (exports and evidence packs) finished more than
    ``EXPORT_FILE_RETENTION_DAYS`` ago and mark the jobs expired; one audit event per batch.

    Works through the jobs in batches by id, never loading them all; safe to run twice or in parallel
    (rows another run holds are skipped). Returns how many files were deleted.
    """
    now = now or timezone.now()
    days = settings.EXPORT_FILE_RETENTION_DAYS
    cutoff = now - timedelta(days=days)
    due = (
        ExportJob.objects.filter(finished_at__lt=cutoff, expired_at__isnull=True)
        .exclude(file="")
        .order_by("pk")
        .only("pk", "file", "status")
    )
    expired = 0
    last_pk = 0
    with audit.audit_context(path="task", detail="export file retention"):
        while True:
            with transaction.atomic():
                batch = list(due.filter(pk__gt=last_pk).select_for_update(skip_locked=True)[:batch_size])
                if not batch:
                    break
                last_pk = batch[-1].pk
                ids = [job.pk for job in batch]
                names = [job.file.name for job in batch]
                message = f"The file was deleted {days} day(s) after it was written; export again for a new one."
                ExportJob.objects.filter(pk__in=ids, status=ExportJob.Status.SUCCEEDED).update(
                    status=ExportJob.Status.EXPIRED, message=message
                )
                ExportJob.objects.filter(pk__in=ids).update(
                    file="", expired_at=now, updated_at=now
                )  # a failure keeps its message
                audit.record(
                    action="export.files_expired",
                    data={"jobs": ids, "retention_days": days, "finished_before": cutoff.isoformat()},
                )
                transaction.on_commit(lambda names=names: _delete_files(names))
            expired += len(ids)
    return expired


def _delete_files(names: list[str]) -> None:
    storage = ExportJob._meta.get_field("file").storage
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("Could not delete the expired export file %s", name)
