"""The fast read path of the big API lists answers exactly what DRF's own field-by-field rendering answers."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework import serializers
from rest_framework.test import APIClient

from apps.core import audit
from apps.core.api import fast
from apps.core.api.fast import FastRepresentationMixin, ListedPrefetchMixin, compile_representation
from apps.core.api.serializers import AuditEventSerializer
from apps.core.services.demo import demo_seed
from apps.inventory.api.serializers import LedgerEntrySerializer
from apps.invoices.api.serializers import InvoiceSerializer
from apps.refunds.api.serializers import CaseAttachmentSerializer, OrderSerializer, RefundCaseSerializer
from apps.refunds.models import CaseAttachment, RefundCase

LISTS = {
    "/api/v1/invoices/": ["associate", "approver", "auditor", "admin"],
    "/api/v1/refunds/": ["associate", "approver", "auditor", "admin"],
    "/api/v1/orders/": ["associate", "approver", "auditor", "admin"],  # approvers see names and e-mails masked
    "/api/v1/stock-ledger/": ["inventory_controller", "auditor", "admin"],
    "/api/v1/audit-events/": ["auditor", "admin"],
}


def drf_path(monkeypatch):
    """Render as before: DRF field by field, the view's own joins and prefetches."""
    monkeypatch.setattr(
        FastRepresentationMixin,
        "to_representation",
        lambda self, obj: serializers.Serializer.to_representation(self, obj),
    )
    monkeypatch.setattr(ListedPrefetchMixin, "for_list", lambda self, queryset: queryset)
    monkeypatch.setattr(fast, "fetch_together", lambda instances, paths: None)
    monkeypatch.setattr(fast, "load_listed", lambda instances, loaders: None)


def every_page(client, url, pages=6, raw=None):
    """The rows of up to ``pages`` pages of 500; the bodies as sent are appended to ``raw`` if given."""
    rows, url = [], f"{url}?page_size=500"
    for _ in range(pages):
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        if raw is not None:
            raw.append(response.content)
        body = response.json()
        rows.extend(body["results"])
        if not body["next"]:
            break
        url = body["next"]
    return rows


@pytest.fixture
def demo(db):
    demo_seed(password="a long demo password 42")
    users = {user.username: user for user in get_user_model().objects.all()}
    # Evidence on a few cases, and events about records, so that every field has values to show.
    for case in RefundCase.objects.order_by("id")[:3]:
        CaseAttachment.objects.create(case=case, file=f"refunds/evidence/2026/11/case-{case.pk}.pdf", description="")
        audit.record(action="refund.viewed", actor=users["auditor"], target=case, data={"n": case.pk})
    return users


def test_every_big_list_renders_as_drf_does_for_every_role(demo, monkeypatch):
    for url, roles in LISTS.items():
        for role in roles:
            client = APIClient()
            client.force_authenticate(user=demo[role])
            fast_bodies, drf_bodies = [], []
            fast_rows = every_page(client, url, raw=fast_bodies)
            with monkeypatch.context() as patched:
                drf_path(patched)
                every_page(client, url, raw=drf_bodies)
            assert fast_rows, (url, role)
            assert fast_bodies == drf_bodies, (url, role)  # byte for byte: keys, their order, every value
            first = client.get(f"{url}{fast_rows[0]['id']}/")
            if first.status_code == 200:  # the detail of a row, through the same serializer
                with monkeypatch.context() as patched:
                    drf_path(patched)
                    assert client.get(f"{url}{fast_rows[0]['id']}/").content == first.content, (url, role)


def test_the_lists_show_every_kind_of_value(demo):
    """The comparison above means something only if the data has the cases that differ: masked and unmasked
    customers, payouts, approvals, return lines, attachments, empty and filled optional fields."""
    client = APIClient()
    client.force_authenticate(user=demo["admin"])
    cases = every_page(client, "/api/v1/refunds/")
    assert any(case["payout"] for case in cases) and any(case["payout"] is None for case in cases)
    assert any(case["approvals"] for case in cases) and any(case["return_lines"] for case in cases)
    assert any(case["attachments"] for case in cases) and any(case["decided_by"] for case in cases)
    orders = every_page(client, "/api/v1/orders/")
    client.force_authenticate(user=demo["approver"])
    masked = every_page(client, "/api/v1/orders/")
    assert orders[0]["customer_email"] != masked[0]["customer_email"]
    assert masked[0]["customer_email"].split("@")[0].endswith("***")


@pytest.mark.parametrize(
    "serializer_class, rendered_by_drf",
    [
        (InvoiceSerializer, set()),
        (RefundCaseSerializer, set()),
        (CaseAttachmentSerializer, {"file"}),  # the file's URL, which needs the request
        (OrderSerializer, set()),
        (LedgerEntrySerializer, set()),
        (AuditEventSerializer, set()),
    ],
)
def test_the_list_serializers_compile_their_fields(serializer_class, rendered_by_drf):
    """Fields the fast path does not know are rendered by DRF, correctly but slowly: keep that list short."""
    assert set(compile_representation(serializer_class()).drf_fields) == rendered_by_drf


def test_file_exports_of_the_lists_read_related_records_in_bulk(demo):
    """A CSV export reads the list's queryset row by row: it keeps the queryset's joins and prefetches."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = APIClient()
    client.force_authenticate(user=demo["auditor"])
    demo["auditor"].user_permissions.add(*_export_permission())
    counts = {}
    for url in ("/api/v1/refunds/", "/api/v1/stock-ledger/"):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(f"{url}?format=csv")
            body = b"".join(response.streaming_content) if response.streaming else response.content
        assert response.status_code == 200, body[:300]
        rows = body.decode().count("\n") - 1
        assert rows > 50
        counts[url] = len(queries.captured_queries)
        assert counts[url] < 40, (url, counts[url], rows)


def _export_permission():
    from django.contrib.auth.models import Permission

    from apps.core.exports import EXPORT_PERMISSION

    app_label, codename = EXPORT_PERMISSION.split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename)
