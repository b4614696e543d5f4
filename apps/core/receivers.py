"""Cross-cutting receivers: who/how on every change log entry, record stamps, login events."""

from auditlog.models import LogEntry
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models.signals import pre_save
from django.dispatch import receiver

from apps.core import audit
from apps.core.models import BaseModel


@receiver(pre_save, sender=LogEntry)
def _stamp_change_log_entry(sender, instance, raw=False, **kwargs):
    audit.stamp_change_log_entry(instance)


@receiver(pre_save)
def _stamp_created_and_updated_by(sender, instance, raw=False, **kwargs):
    if raw or not isinstance(instance, BaseModel):
        return
    actor = audit.current_actor()
    if actor is None:
        return
    if instance._state.adding and instance.created_by_id is None:
        instance.created_by = actor
    instance.updated_by = actor


def _client_ip(request):
    return request.META.get("REMOTE_ADDR") if request is not None else None


@receiver(user_locked_out)
def _record_lockout(sender, request, username, ip_address, **kwargs):
    audit.record(action="auth.locked_out", outcome="denied", username=str(username or "")[:150], remote_addr=ip_address)


@receiver(user_logged_in)
def _record_login(sender, request, user, **kwargs):
    audit.record(action="auth.login", actor=user, remote_addr=_client_ip(request))
    if request is not None and hasattr(request, "session"):
        from apps.core.middleware import start_session_clock

        start_session_clock(request.session)


@receiver(user_login_failed)
def _record_failed_login(sender, credentials, request=None, **kwargs):
    audit.record(
        action="auth.login_failed",
        outcome="failed",
        username=str(credentials.get("username", ""))[:150],
        remote_addr=_client_ip(request),
    )
