"""
Admin actions that run a service transition on each selected record.

``transition_action`` turns a service function (keyword-only: ``<id_arg>=``, ``actor=``, and
optionally ``reason=``) into an admin action with a confirmation page listing the records,
an optional required reason, and a message saying what was done and what was refused and why.
Refusals (state, permission, validation) are recorded as denied events on the audit trail.
"""

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.response import TemplateResponse

from apps.core import audit
from apps.core.exceptions import TransitionNotAllowed

REFUSALS = (TransitionNotAllowed, PermissionDenied, ValidationError)


def _reason_of(exc) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc) or exc.__class__.__name__


def run_transition(modeladmin, request, queryset, *, transition: Callable, id_arg: str, verb: str, **kwargs):
    """Call ``transition`` for each selected record; tell the person what happened to each."""
    done, refused = [], []
    for obj in queryset.order_by("pk"):
        try:
            transition(**{id_arg: obj.pk}, actor=request.user, **kwargs)
            done.append(obj)
        except REFUSALS as exc:
            refused.append((obj, _reason_of(exc)))
            audit.record(
                action=f"{obj._meta.model_name}.{verb.replace(' ', '_')}",
                outcome="denied",
                target=obj,
                message=_reason_of(exc),
            )
    if done:
        modeladmin.message_user(request, f"{verb.capitalize()}: {len(done)} {_noun(modeladmin, len(done))}.")
    for obj, reason in refused:
        modeladmin.message_user(request, f"Not {verb}: {obj} — {reason}", messages.ERROR)


def _noun(modeladmin, count):
    opts = modeladmin.model._meta
    return opts.verbose_name if count == 1 else opts.verbose_name_plural


def transition_action(
    transition: Callable,
    *,
    id_arg: str,
    verb: str,
    description: str,
    permissions: list[str] | None = None,
    confirm: bool = True,
    reason: str | None = None,
):
    """Build an admin action for ``transition``.

    ``reason`` is the label of a required free-text reason (e.g. "Hold reason"), passed to the
    service as ``reason=``. ``confirm`` shows a confirmation page first (use it for anything
    that moves money).
    """

    def action(modeladmin, request, queryset):
        if not confirm and reason is None:
            return run_transition(modeladmin, request, queryset, transition=transition, id_arg=id_arg, verb=verb)
        given = request.POST.get("reason", "").strip()
        error = ""
        if request.POST.get("confirmed") == "yes":
            if reason is None or given:
                extra = {"reason": given} if reason is not None else {}
                return run_transition(
                    modeladmin, request, queryset, transition=transition, id_arg=id_arg, verb=verb, **extra
                )
            error = f"{reason} is required."
        opts = modeladmin.model._meta
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"{description}?",
            "description": description,
            "verb": verb,
            "objects": list(queryset[:200]),
            "count": queryset.count(),
            "queryset_ids": list(queryset.values_list("pk", flat=True)),
            # the name the admin knows this action by, whether registered by attribute or by callable
            "action_name": request.POST.get("action") or action.__name__,
            "reason_label": reason,
            "reason": given,
            "error": error,
            "opts": opts,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "media": modeladmin.media,
        }
        request.current_app = modeladmin.admin_site.name
        return TemplateResponse(request, "admin/core/confirm_transition.html", context)

    action.__name__ = f"{getattr(transition, '__name__', 'transition')}_action"
    return admin.action(permissions=permissions or ["change"], description=description)(action)
