import pytest

from apps.sops import services
from tests.sops.factories import SOPDocumentFactory


@pytest.fixture
def author(make_user):
    return make_user("sop_owner", username="author")


@pytest.fixture
def reviewer(make_user):
    return make_user("sop_owner", username="reviewer")


@pytest.fixture
def associate(make_user):
    return make_user("associate", username="reader")


@pytest.fixture
def document(author, role_groups):
    """A governing SOP of the invoices area read by associates, owned by the author."""
    return services.sop_document_create(
        actor=author,
        code="AP-001",
        title="Vendor invoice approval",
        area="invoices",
        governs_area=True,
        audience=[role_groups["associate"]],
        review_interval_days=180,
    )


@pytest.fixture
def publish(author, reviewer):
    """``publish(document, body=...)``: a new version written by the author and published by the reviewer."""

    def run(document, body="# Procedure\n\n1. Check.\n", summary="Update.", by_author=None, by_reviewer=None):
        writer, checker = by_author or author, by_reviewer or reviewer
        version = services.sop_version_create(document_id=document.pk, actor=writer, change_summary=summary, body=body)
        services.sop_version_submit_review(version_id=version.pk, actor=writer)
        return services.sop_version_publish(version_id=version.pk, actor=checker)

    return run


@pytest.fixture
def draft(document, author):
    return services.sop_version_create(
        document_id=document.pk, actor=author, change_summary="First issue.", body="# Approve\n\n1. Check the match.\n"
    )


@pytest.fixture
def in_review(draft, author):
    return services.sop_version_submit_review(version_id=draft.pk, actor=author)


@pytest.fixture
def other_document(author):
    return SOPDocumentFactory(owner=author, code="GEN-002", area="general")
