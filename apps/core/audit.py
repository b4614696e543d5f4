"""
The audit trail's public face: who is acting, through which path, and the event log.

Two records make the trail:

* django-auditlog's ``LogEntry`` — every create, update and delete of a registered model with
  the fields before and after, written from model signals; we add actor, path and request.
  Writes that send no signals (``QuerySet.update``, ``bulk_update``, ``bulk_create``) go through
  ``logged_update``, ``logged_bulk_update`` and ``logged_bulk_create``, which leave the same entries.
* ``AuditEvent`` — an append-only log of things that are not field changes: approvals,
  exports, imports, logins, failed logins, denied requests.

Each entry point says who acts and through which path by entering an audit context: the
request middleware (``admin``, ``api``, ``web``), admin actions (``admin_action``), imports
(``import``), Celery tasks (``task``) and ``manage.py`` (``command``). This module imports no
models at import time so that ``manage.py`` can enter a context before Django is set up.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar, Token
from dataclasses import dataclass, replace
from typing import Any

PATHS = ("admin", "admin_action", "api", "web", "import", "task", "command", "system")


@dataclass(frozen=True)
class AuditContext:
    """Who is acting and how. ``actor`` may be a callable, resolved when a record is written."""

    path: str = "system"
    actor: Any = None
    remote_addr: str | None = None
    detail: str = ""

    def resolve_actor(self):
        actor = self.actor() if callable(self.actor) else self.actor
        if actor is None or not getattr(actor, "is_authenticated", False):
            return None
        return actor


# AuditContext is frozen: sharing the default instance is safe.
_current: ContextVar[AuditContext] = ContextVar("opsportal_audit_context", default=AuditContext())  # noqa: B039


def current() -> AuditContext:
    return _current.get()


def enter_context(
    *, path: str | None = None, actor: Any = None, remote_addr: str | None = None, detail: str | None = None
) -> Token:
    """Start acting as ``actor`` through ``path``; unset values are inherited. Returns a reset token."""
    if path is not None and path not in PATHS:
        raise ValueError(f"Unknown audit path {path!r}; expected one of {', '.join(PATHS)}.")
    base = _current.get()
    changes: dict[str, Any] = {}
    if path is not None:
        changes["path"] = path
    if actor is not None:
        changes["actor"] = actor
    if remote_addr is not None:
        changes["remote_addr"] = remote_addr
    if detail is not None:
        changes["detail"] = detail
    return _current.set(replace(base, **changes))


def leave_context(token: Token) -> None:
    _current.reset(token)


@contextlib.contextmanager
def audit_context(
    *, path: str | None = None, actor: Any = None, remote_addr: str | None = None, detail: str | None = None
) -> Iterator[AuditContext]:
    token = enter_context(path=path, actor=actor, remote_addr=remote_addr, detail=detail)
    try:
        yield _current.get()
    finally:
        leave_context(token)


def current_actor():
    return _current.get().resolve_actor()


def record(
    *,
    action: str,
    actor: Any = None,
    target: Any = None,
    message: str = "",
    data: dict | None = None,
    outcome: str = "success",
    username: str = "",
    remote_addr: str | None = None,
    path: str | None = None,
):
    """Append one event to the audit event log (approvals, exports, logins, denials, ...)."""
    from django.contrib.contenttypes.models import ContentType

    from apps.core.models import AuditEvent

    ctx = _current.get()
    if actor is None:
        actor = ctx.resolve_actor()
    elif not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent.objects.create(
        action=action,
        outcome=outcome,
        actor=actor,
        username=username or (actor.get_username() if actor is not None else ""),
        path=path or ctx.path,
        request_path=ctx.detail if ctx.path in {"admin", "admin_action", "api", "web"} else "",
        remote_addr=remote_addr or ctx.remote_addr,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_repr=str(target)[:255] if target is not None else "",
        message=message,
        data=data or {},
    )


def stamp_change_log_entry(entry) -> None:
    """Give a change log entry the acting user, the path (and request) and the address of this context."""
    ctx = _current.get()
    if entry.actor_id is None:
        actor = ctx.resolve_actor()
        if actor is not None:
            entry.actor = actor
            entry.actor_email = actor.email or None
    extra = dict(entry.additional_data or {})
    extra["path"] = ctx.path
    if ctx.path in {"admin", "admin_action", "api", "web"}:
        extra["request"] = ctx.detail[:255]
    entry.additional_data = extra
    if entry.remote_addr is None:
        entry.remote_addr = ctx.remote_addr


def logged_update(queryset, **values) -> int:
    """``queryset.update(**values)``, leaving in the change log what ``save()`` would leave for each row.

    A queryset update sends no signals, so django-auditlog never sees it. Here the rows are locked and read,
    updated (``F()`` expressions included; the model's ``auto_now`` fields stamped, as ``save()`` stamps
    them), read again, and each row that changed gets an update entry with its fields before and after.
    Returns the number of rows updated. Runs inside the caller's transaction.
    """
    from django.utils import timezone

    model = queryset.model
    now = timezone.now()
    for field in model._meta.concrete_fields:
        if getattr(field, "auto_now", False) and field.name not in values and field.attname not in values:
            values[field.name] = now
    if not _logged(model):
        return queryset.update(**values)
    before = {row.pk: row for row in queryset.select_for_update(of=("self",)).order_by("pk")}
    if not before:
        return 0
    rows = model._base_manager.filter(pk__in=list(before))
    updated = rows.update(**values)
    names = {model._meta.get_field(name).name for name in values}
    after = rows.select_related(*_relations(model))  # for each entry's str() of its record, in the same query
    _log_changes(model, [(before[row.pk], row) for row in after], names)
    return updated


def logged_bulk_update(objects, fields) -> None:
    """``bulk_update(objects, fields)``, leaving an update entry with the fields before and after per changed row.

    The rows are locked and read before they are written; ``objects`` hold the values after.
    """
    objects = list(objects)
    if not objects:
        return
    model = type(objects[0])
    if not _logged(model):
        model._base_manager.bulk_update(objects, fields)
        return
    before = model._base_manager.select_for_update().in_bulk(sorted(obj.pk for obj in objects))
    model._base_manager.bulk_update(objects, fields)
    _log_changes(model, [(before[obj.pk], obj) for obj in objects], {model._meta.get_field(n).name for n in fields})


def logged_bulk_create(objects) -> list:
    """``bulk_create(objects)``, leaving a creation entry with the values of each new row, as ``save()`` would."""
    objects = list(objects)
    if not objects:
        return objects
    model = type(objects[0])
    created = model._base_manager.bulk_create(objects)
    if _logged(model):
        _log_changes(model, [(None, obj) for obj in created], None)
    return created


def _logged(model) -> bool:
    from auditlog.context import auditlog_disabled
    from auditlog.registry import auditlog

    return auditlog.contains(model) and not auditlog_disabled.get(False)


def _relations(model) -> list[str]:
    return [field.name for field in model._meta.concrete_fields if field.is_relation]


def _log_changes(model, pairs, names) -> None:
    """One django-auditlog entry per (before, after) pair that differs in ``names`` (all fields: None), at once.

    A pair without ``before`` is a creation.
    """
    from auditlog.cid import get_cid
    from auditlog.diff import model_instance_diff
    from auditlog.models import LogEntry
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import prefetch_related_objects
    from django.utils.encoding import smart_str

    content_type = ContentType.objects.get_for_model(model)
    cid = get_cid()
    changed = []
    for before, after in pairs:
        changes = model_instance_diff(
            before, after, fields_to_check=names, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES
        )
        if changes:
            changed.append((after, changes, LogEntry.Action.CREATE if before is None else LogEntry.Action.UPDATE))
    # Each entry holds str() of its record, which often names related records: one query per relation, not per row.
    prefetch_related_objects([after for after, _, _ in changed], *_relations(model))
    entries = []
    for after, changes, action in changed:
        entry = LogEntry(
            content_type=content_type,
            object_pk=smart_str(after.pk),
            object_id=after.pk if isinstance(after.pk, int) else None,
            object_repr=smart_str(after),
            action=action,
            changes=changes,
            serialized_data=LogEntry.objects._get_serialized_data_or_none(after),
            cid=cid,
        )
        stamp_change_log_entry(entry)
        entries.append(entry)
    LogEntry.objects.bulk_create(entries)
