"""
The audit trail's public face: who is acting, through which path, and the event log.

Two records make the trail:

* django-auditlog's ``LogEntry`` — every create, update and delete of a registered model with
  the fields before and after, written from model signals; we add actor, path and request.
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
