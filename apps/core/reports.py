"""
The reports center's registry, and the portal's own report runs.

Each app declares its report kinds in ``apps/<app>/report_kinds.py`` as ``KINDS = [ReportKind(...), ...]``
(core's own in ``apps/core/report_kinds.py``). A kind says what the reports center needs: its parameter
form, how a person asks for a run, where its past runs are, how to read one run (status, who, files) and
the beat schedules that run it. Kinds whose app keeps its own run model (AP aging, refund aging, inventory
reports) call that app's service; the others are :class:`~apps.core.models.ReportRun` rows that a worker
writes through :mod:`apps.core.exports` (formula-safe CSV and XLSX, with their SHA-256).

Seeing a kind needs its ``view_permission``; running it needs every one of its ``run_permissions``;
downloading a file needs the view permission and ``core.export_records``, and is an export event.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django import forms
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.utils import timezone

from apps.core import audit
from apps.core.exports import CONTENT_TYPES, build_file

logger = logging.getLogger(__name__)

EXPORT_PERMISSION = "core.export_records"
GENERIC_SCHEDULE_TASK = "apps.core.tasks.run_scheduled_report"
FORMATS = ("csv", "xlsx")


# --- What a kind declares ------------------------------------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """One past run as the reports center shows it, whatever model holds it."""

    pk: int
    status: str  # queued, running, succeeded or failed
    requested_by: str  # a username, or "" for a scheduled run
    requested_at: datetime
    finished_at: datetime | None
    row_count: int
    parameters: str
    formats: tuple[str, ...]  # the files that can be downloaded
    message: str = ""


@dataclass(frozen=True)
class ReportKind:
    """A report the reports center offers: parameters, how to run it, its past runs and its schedules.

    ``request(actor=..., **form.cleaned_data)`` asks for a run and returns the run record;
    ``runs()`` is the queryset of past runs, newest first; ``summary(run)`` reads one of them and
    ``open_file(run, fmt)`` returns its stored file (or None).
    """

    key: str
    label: str
    form_class: type[forms.Form]
    view_permission: str
    run_permissions: tuple[str, ...]
    request: Callable[..., object]
    runs: Callable[[], QuerySet]
    summary: Callable[[object], RunSummary]
    open_file: Callable[[object, str], object]
    schedule_names: tuple[str, ...] = ()
    description: str = ""
    generic: bool = False  # a core ReportRun built by :func:`report_run_generate`
    build: Callable[[dict], tuple[Sequence[str], Iterable[Sequence]]] | None = field(default=None, repr=False)

    def can_view(self, user) -> bool:
        return bool(user and user.is_active and user.has_perm(self.view_permission))

    def can_run(self, user) -> bool:
        return self.can_view(user) and all(user.has_perm(perm) for perm in self.run_permissions)

    def can_download(self, user) -> bool:
        return self.can_view(user) and user.has_perm(EXPORT_PERMISSION)


# --- The registry -----------------------------------------------------------------------------------

_kinds: dict[str, ReportKind] = {}
_discovered = False


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    from apps.core.plugins import app_modules

    modules = [importlib.import_module("apps.core.report_kinds"), *app_modules("report_kinds")]
    found: dict[str, ReportKind] = {}
    for module in modules:
        for kind in module.KINDS:
            if kind.key in found:
                raise ImproperlyConfigured(f"Two report kinds use the key {kind.key!r}.")
            found[kind.key] = kind
    _kinds.update(found)
    _discovered = True


def all_kinds() -> list[ReportKind]:
    """Every report kind of every app, in app order."""
    _discover()
    return list(_kinds.values())


def get(key: str) -> ReportKind | None:
    _discover()
    return _kinds.get(key)


def kinds_for(user) -> list[ReportKind]:
    """The kinds ``user`` may see in the reports center."""
    return [kind for kind in all_kinds() if kind.can_view(user)]


# --- The portal's own report runs -----------------------------------------------------------------


def _json_parameters(cleaned: dict) -> dict:
    return json.loads(json.dumps(cleaned, cls=DjangoJSONEncoder))


def _parameters_text(parameters: dict) -> str:
    return ", ".join(
        f"{name.replace('_', ' ')} {value}" for name, value in parameters.items() if value not in ("", None)
    )


def _generic_kind(key: str) -> ReportKind:
    kind = get(key)
    if kind is None or not kind.generic:
        raise ValidationError({"kind": f"There is no report {key!r}."})
    return kind


def _clean_parameters(kind: ReportKind, parameters: dict) -> dict:
    """The parameters as the kind's form cleans them: the same rules for people, schedules and the worker."""
    form = kind.form_class(data={name: "" if value is None else value for name, value in parameters.items()})
    if not form.is_valid():
        raise ValidationError({name: " ".join(errors) for name, errors in form.errors.items()})
    return form.cleaned_data


@transaction.atomic
def report_run_request(*, actor, kind: str, **parameters):
    """Ask for a run of one of the portal's own reports; a worker writes its files once this commits."""
    from apps.core.models import ReportRun
    from apps.core.tasks import generate_report_run

    chosen = _generic_kind(kind)
    if not chosen.can_run(actor):
        raise PermissionDenied(f"You may not run the {chosen.label.lower()} report.")
    cleaned = _json_parameters(_clean_parameters(chosen, _json_parameters(parameters)))
    run = ReportRun.objects.create(kind=chosen.key, parameters=cleaned, created_by=actor, updated_by=actor)
    audit.record(action="report.requested", actor=actor, target=run, data={"kind": chosen.key, "parameters": cleaned})
    generate_report_run.delay_on_commit(run.pk)
    return run


@transaction.atomic
def report_run_schedule(*, kind: str, parameters: dict | None = None):
    """A run asked for by a beat schedule: nobody requested it, so nobody is notified."""
    from apps.core.models import ReportRun
    from apps.core.tasks import generate_report_run

    chosen = _generic_kind(kind)
    cleaned = _json_parameters(_clean_parameters(chosen, _json_parameters(parameters or {})))
    run = ReportRun.objects.create(kind=chosen.key, parameters=cleaned, scheduled=True)
    generate_report_run.delay_on_commit(run.pk)
    return run


def report_run_generate(*, run_id: int):
    """Write a run's CSV and XLSX files and tell the requester. Safe to run twice: a finished run stays as it is."""
    from apps.core.models import ReportRun

    Status = ReportRun.Status
    with transaction.atomic():
        run = ReportRun.objects.select_for_update().get(pk=run_id)
        if run.status in (Status.SUCCEEDED, Status.FAILED):
            return run
        run.status = Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at", "updated_at"])
    try:
        kind = _generic_kind(run.kind)
        headers, rows = kind.build(_clean_parameters(kind, run.parameters))
        rows = list(rows)
        csv_content, count = build_file(headers, rows, "csv")
        xlsx_content, _ = build_file(headers, rows, "xlsx")
    except Exception as exc:  # the run records the failure for the person who asked
        logger.exception("report run %s failed", run_id)
        return _finish(run_id, status=Status.FAILED, message=str(exc)[:2000] or exc.__class__.__name__)
    return _finish(run_id, status=Status.SUCCEEDED, files={"csv": csv_content, "xlsx": xlsx_content}, row_count=count)


@transaction.atomic
def _finish(run_id: int, *, status: str, files: dict | None = None, row_count: int = 0, message: str = ""):
    from apps.core.models import Notification, ReportRun

    run = ReportRun.objects.select_for_update().get(pk=run_id)
    if run.status in (ReportRun.Status.SUCCEEDED, ReportRun.Status.FAILED):
        return run  # another worker finished it first
    stem = f"{run.kind.replace('_', '-')}-{run.pk}"
    for fmt, content in (files or {}).items():
        getattr(run, f"{fmt}_file").save(f"{stem}.{fmt}", ContentFile(content), save=False)
        setattr(run, f"{fmt}_sha256", hashlib.sha256(content).hexdigest())
    run.status = status
    run.row_count = row_count
    run.message = message
    run.finished_at = timezone.now()
    run.save()
    if run.created_by_id:
        from django.urls import reverse

        label = get(run.kind).label if get(run.kind) else run.kind
        outcome = f"is ready: {row_count} row(s)" if status == ReportRun.Status.SUCCEEDED else "failed"
        Notification.objects.create(
            recipient_id=run.created_by_id,
            title=f"Report {label} #{run.pk} {outcome}",
            body=message,
            url=f"{reverse('admin:reports_center')}#{run.kind}",
        )
    return run


def generic_summary(run) -> RunSummary:
    return RunSummary(
        pk=run.pk,
        status=run.status,
        requested_by=run.created_by.get_username() if run.created_by_id else "",
        requested_at=run.created_at,
        finished_at=run.finished_at,
        row_count=run.row_count,
        parameters=_parameters_text(run.parameters),
        formats=tuple(fmt for fmt in FORMATS if getattr(run, f"{fmt}_file")),
        message=run.message,
    )


def generic_kind(
    *,
    key: str,
    label: str,
    form_class: type[forms.Form],
    view_permission: str,
    build: Callable[[dict], tuple[Sequence[str], Iterable[Sequence]]],
    description: str = "",
) -> ReportKind:
    """A kind whose runs are core ReportRun rows: ``build(cleaned_parameters)`` returns headers and rows.

    Running one needs the kind's view permission and ``core.export_records``: its only result is a file.
    """
    from apps.core.models import ReportRun

    return ReportKind(
        key=key,
        label=label,
        form_class=form_class,
        view_permission=view_permission,
        run_permissions=(EXPORT_PERMISSION,),
        request=lambda *, actor, **parameters: report_run_request(actor=actor, kind=key, **parameters),
        runs=lambda: ReportRun.objects.filter(kind=key).select_related("created_by"),
        summary=generic_summary,
        open_file=lambda run, fmt: getattr(run, f"{fmt}_file", None) if fmt in FORMATS else None,
        description=description,
        generic=True,
        build=build,
    )


# --- Reading the center ---------------------------------------------------------------------------


def schedules_by_kind(kinds: Sequence[ReportKind]) -> dict[str, list]:
    """The beat schedules of each kind, in one query: those it names, and generic ones whose kwargs name it."""
    from django.db.models import Q
    from django_celery_beat.models import PeriodicTask

    names = {name: kind.key for kind in kinds for name in kind.schedule_names}
    generic = {kind.key for kind in kinds if kind.generic}
    found: dict[str, list] = {kind.key: [] for kind in kinds}
    if not names and not generic:
        return found
    tasks = PeriodicTask.objects.filter(Q(name__in=names) | Q(task=GENERIC_SCHEDULE_TASK)).select_related("crontab")
    for task in tasks.order_by("name"):
        if task.name in names:
            found[names[task.name]].append(task)
            continue
        try:
            key = json.loads(task.kwargs or "{}").get("kind")
        except (ValueError, AttributeError):
            continue
        if key in generic:
            found[key].append(task)
    return found


def new_schedule_url(kind: ReportKind) -> str:
    """The beat admin's add page, filled in with the generic report task and this kind."""
    from urllib.parse import urlencode

    from django.urls import reverse

    query = urlencode(
        {"name": f"{kind.label} (scheduled)", "task": GENERIC_SCHEDULE_TASK, "kwargs": json.dumps({"kind": kind.key})}
    )
    return f"{reverse('admin:django_celery_beat_periodictask_add')}?{query}"


# --- Downloads --------------------------------------------------------------------------------------


def report_file_download(*, actor, kind: str, run_id: int, fmt: str) -> tuple[bytes, str, str]:
    """The bytes, file name and content type of one run's file, recorded as an export with its SHA-256."""
    chosen = get(kind)
    if chosen is None or not chosen.can_download(actor):
        raise PermissionDenied("You may not download this report.")
    run = chosen.runs().filter(pk=run_id).first()
    stored = chosen.open_file(run, fmt) if run is not None and fmt in FORMATS else None
    if not stored:
        raise ValidationError({"file": "This report run has no such file (yet)."})
    with stored.open("rb") as handle:
        content = handle.read()
    digest = hashlib.sha256(content).hexdigest()
    summary = chosen.summary(run)
    audit.record(
        action="records.exported",
        actor=actor,
        target=run,
        data={
            "what": f"report:{chosen.key}",
            "format": fmt,
            "rows": summary.row_count,
            "filters": {"run": run.pk, "parameters": summary.parameters},
            "sha256": digest,
        },
    )
    return content, stored.name.rsplit("/", 1)[-1], CONTENT_TYPES[fmt]


def report_download_response(*, actor, kind: str, run_id: int, fmt: str) -> HttpResponse:
    """:func:`report_file_download` as an attachment; a run without that file is a 404."""
    try:
        content, filename, content_type = report_file_download(actor=actor, kind=kind, run_id=run_id, fmt=fmt)
    except ValidationError as exc:
        raise Http404(" ".join(exc.messages)) from exc
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
