"""Hostile text in every free-text field shows as text, never as markup, on every admin page and the dashboard.

The demo data gives every registered admin model records; each of their free-text fields is then
overwritten with markup, and every changelist, change page and the dashboard are read as a superuser:
the markup must only ever appear escaped.
"""

import pytest
from django.contrib import admin
from django.db import IntegrityError, models, transaction
from django.urls import reverse

from apps.core import audit
from apps.core.models import AuditEvent
from apps.core.services.demo import demo_seed

PAYLOAD = "<script>x</script>"  # short enough for code fields
ESCAPED = "&lt;script&gt;x&lt;/script&gt;"
APPEND_ONLY = {"core.auditevent", "auditlog.logentry"}  # the database refuses UPDATE: new rows carry it


def _free_text_fields(model):
    for field in model._meta.concrete_fields:
        if not isinstance(field, models.CharField | models.TextField) or field.choices:
            continue
        if isinstance(field, models.EmailField | models.URLField | models.SlugField | models.FilePathField):
            continue
        if field.max_length is not None and field.max_length < len(PAYLOAD):
            continue
        if field.name in {"password", "username"} or field.name.endswith(("currency", "_hash", "sha256")):
            continue
        yield field


def _poison(model) -> int:
    """Overwrite each free-text field of one record with the payload; return how many fields took it."""
    record = model._default_manager.order_by("pk").first()
    if record is None:
        return 0
    taken = 0
    for field in _free_text_fields(model):
        try:
            with transaction.atomic():
                model._default_manager.filter(pk=record.pk).update(**{field.attname: PAYLOAD})
            taken += 1
        except (IntegrityError, ValueError):
            continue  # a check constraint (e.g. a code's format) refuses it: the database keeps it out
    return taken


@pytest.fixture
def poisoned(db):
    demo_seed(password="injection-pass-1")
    audit.record(action=PAYLOAD, message=PAYLOAD, data={"note": PAYLOAD})
    poisoned = {}
    for model in admin.site._registry:
        if model._meta.label_lower in APPEND_ONLY:
            continue
        poisoned[model._meta.label_lower] = _poison(model)
    return poisoned


def test_markup_in_any_free_text_field_is_shown_escaped_on_every_admin_page(client, poisoned, django_user_model):
    superuser = django_user_model.objects.create_superuser("inject-admin", "inject@example.com", "injection-pass-1")
    client.force_login(superuser)
    assert sum(poisoned.values()) > 50  # the payload really reached the records of many models
    assert AuditEvent.objects.filter(action=PAYLOAD).exists()

    raw, escaped_somewhere = [], 0
    pages = [reverse("admin:index"), reverse("admin:index") + "?period=365"]
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        record = model_admin.get_queryset(_request_for(superuser)).order_by("pk").first()
        if record is not None:
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk]))
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        content = response.content.decode()
        if PAYLOAD in content:
            raw.append(url)
        escaped_somewhere += ESCAPED in content
    assert raw == [], f"markup rendered unescaped on: {raw}"
    assert escaped_somewhere > 20  # the pages did show the hostile text, as text


def _request_for(user):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = user
    return request
