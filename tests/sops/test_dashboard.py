"""SOPs on the dashboard: versions to acknowledge and to review, compliance and reviews overdue."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.core.dashboard import Period
from apps.sops import dashboard, services
from apps.sops.models import SOPDocument


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _work(client, user):
    client.force_login(user)
    return {queue["key"]: queue for queue in client.get("/admin/").context["dashboard"]["work"]}


def test_a_published_version_waits_for_its_audience_until_acknowledged(client, document, publish, associate, make_user):
    version = publish(document)
    other = make_user("associate")
    services.sop_version_acknowledge(version_id=version.pk, actor=other)

    work = _work(client, associate)
    assert work["sops.to_acknowledge"]["count"] == 1
    listed = client.get(work["sops.to_acknowledge"]["url"]).context["cl"].result_list
    assert [v.pk for v in listed] == [version.pk]
    assert _work(client, other)["sops.to_acknowledge"]["count"] == 0

    services.sop_version_acknowledge(version_id=version.pk, actor=associate)
    work = _work(client, associate)
    assert work["sops.to_acknowledge"]["count"] == 0
    assert list(client.get(work["sops.to_acknowledge"]["url"]).context["cl"].result_list) == []


def test_versions_in_review_wait_for_sop_owners_only(client, in_review, reviewer, associate):
    work = _work(client, reviewer)
    assert work["sops.to_review"]["count"] == 1
    assert [v.pk for v in client.get(work["sops.to_review"]["url"]).context["cl"].result_list] == [in_review.pk]
    assert "sops.to_review" not in _work(client, associate)


def test_compliance_and_reviews_overdue(document, publish, associate, make_user, author):
    version = publish(document)
    make_user("associate")  # a second reader who has not acknowledged
    services.sop_version_acknowledge(version_id=version.pk, actor=associate)
    SOPDocument.objects.filter(pk=document.pk).update(next_review_date=timezone.localdate() - timedelta(days=1))
    services.sop_document_create(
        actor=author, code="AP-002", title="Not yet published", area="invoices", audience=[], review_interval_days=90
    )

    figures = dashboard.compliance_panel(period=Period(days=30, today=timezone.localdate()))

    assert [(f["label"], f["value"], f["url"]) for f in figures["summary"]] == [
        ("Compliance (1 of 2 acknowledgements)", "50 %", "/admin/sops/sopdocument/compliance/"),
        ("Reviews overdue", "1", "/admin/sops/sopdocument/?review=overdue"),
    ]
    assert figures["chart"]["labels"] == ["AP-001"] and figures["chart"]["datasets"][0]["data"] == ["50"]
    assert figures["table"]["rows"] == [["AP-001", "1", "2", "50 %"]]
