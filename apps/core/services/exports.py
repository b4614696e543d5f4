"""Export jobs: large exports and evidence packs a worker writes to a file, with a link and a notification."""

import logging
import tempfile

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


def admin_source(model_admin, request, ids=None) -> dict:
    """How the worker finds an admin list's filtered selection again: the list, its query and any ticked rows."""
    return {
        "via": "admin",
        "model": model_admin.model._meta.label_lower,
        "path": request.path,
        "query": request.GET.urlencode(),
        "ids": [str(pk) for pk in ids] if ids else [],
    }


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


def admin_table(*, model_admin, request, queryset=None) -> tuple[list[str], object]:
    """Headers and rows of an admin list's export: its import-export resource, one row per record."""
    if queryset is None:
        queryset = model_admin.get_export_queryset(request)
    resource_class = model_admin.get_export_resource_classes(request)[0]
    resource = resource_class(**model_admin.get_export_resource_kwargs(request))
    headers = resource.get_export_headers()
    rows = (resource.export_resource(obj) for obj in queryset.iterator(chunk_size=exports.QUERY_CHUNK_ROWS))
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
        headers, rows = admin_table(model_admin=model_admin, request=request, queryset=queryset)
        return headers, rows
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
    *, actor, target: str, file_format: str, source: dict, filters: dict | None = None, kind=ExportJob.Kind.RECORDS
) -> ExportJob:
    """Queue an export (or an evidence pack) for the worker; the person gets a notification when it is ready."""
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
        data={"kind": kind, "what": target, "format": file_format, "filters": job.filters},
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
    if not job.is_ready:
        raise TransitionNotAllowed("The file is not ready yet.")
    audit.record(action="export.downloaded", actor=actor, target=job, data={"sha256": job.sha256})
    return job
