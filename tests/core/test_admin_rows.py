"""The big lists draw their rows with apps.core.admin_list: the same markup as Django's own rows."""

import re

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.forms import CheckboxInput
from django.utils.html import format_html

from apps.core import audit
from apps.core.services.demo import demo_seed
from apps.invoices.models import Invoice
from apps.refunds.models import RefundCase

pytestmark = pytest.mark.django_db

PAYLOAD = "<b>x</b>&amp;"
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')

FAST_LISTS = [
    model_admin for model_admin in admin.site._registry.values() if getattr(model_admin, "fast_result_rows", False)
]


def _page(client, url: str, model_admin, *, fast: bool) -> str:
    model_admin.fast_result_rows = fast
    try:
        response = client.get(url)
    finally:
        del model_admin.fast_result_rows
    assert response.status_code == 200, (url, response.status_code)
    return CSRF.sub("", response.content.decode())


@pytest.fixture
def seeded(db):
    demo_seed(password="rows-pass-12345")
    audit.record(action="rows.check", message=PAYLOAD, data={"note": PAYLOAD})
    Invoice.objects.filter(pk=Invoice.objects.order_by("pk").values("pk")[:1]).update(notes=PAYLOAD)
    RefundCase.objects.filter(pk=RefundCase.objects.order_by("pk").values("pk")[:1]).update(notes=PAYLOAD)


def test_every_big_list_is_drawn_as_django_draws_it(client, make_user, seeded):
    assert {m.model._meta.label_lower for m in FAST_LISTS} >= {
        "invoices.invoice",
        "refunds.refundcase",
        "inventory.ledgerentry",
        "core.auditevent",
        "auditlog.logentry",
    }
    client.force_login(make_user(None, is_superuser=True))
    for model_admin in FAST_LISTS:
        opts = model_admin.model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        for query in ("", "?o=-2.1"):
            url = base + query
            fast = _page(client, url, model_admin, fast=True)
            assert fast == _page(client, url, model_admin, fast=False), url
            assert PAYLOAD not in fast  # values are escaped


def test_rows_link_to_the_change_page_with_the_list_filters_kept(client, make_user, seeded):
    client.force_login(make_user(None, is_superuser=True))
    case = RefundCase.objects.order_by("-requested_at", "-pk").first()

    page = client.get(f"/admin/refunds/refundcase/?status__exact={case.status}").content.decode()

    link = f'href="/admin/refunds/refundcase/{case.pk}/change/?_changelist_filters=status__exact%3D{case.status}"'
    assert link in page
    assert f'name="_selected_action" value="{case.pk}" class="action-select"' in page


def test_the_row_checkbox_is_the_markup_of_django_s_widget():
    model_admin = admin.site.get_model_admin(RefundCase)
    case = RefundCase(pk=42, reference="RC-<1>")

    expected = CheckboxInput({"class": "action-select"}, lambda value: False).render(
        helpers.ACTION_CHECKBOX_NAME,
        "42",
        attrs={"aria-label": format_html("Select this object for an action - {}", str(case))},
    )
    assert str(model_admin.action_checkbox(case)) == str(expected)
    assert "&lt;1&gt;" in str(expected)
