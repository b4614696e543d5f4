"""SOP API: who may read, write and move versions; error bodies; acknowledgements and the compliance report."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.sops import services
from apps.sops.models import Acknowledgement, SOPDocument, SOPVersion

Status = SOPVersion.Status


@pytest.fixture
def published(document, publish):
    return publish(document, body="# Approve\n\n<script>alert(1)</script>\n\nCheck the match.")


# --- Reading --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["associate", "approver", "vendor_manager", "inventory_controller", "sop_owner", "auditor"]
)
def test_every_role_reads_sops_and_versions(api_as, role, published):
    client = api_as(role)
    documents = client.get("/api/v1/sops/")
    assert documents.status_code == 200
    [row] = documents.json()["results"]
    assert row["code"] == "AP-001" and row["current_version"]["number"] == 1
    version = client.get(f"/api/v1/sop-versions/{published.pk}/").json()
    assert "<script" not in version["body_html"] and "<script>" in version["body"]  # stored as written


def test_anonymous_and_roleless_people_read_nothing(api_client, api_as, published):
    assert api_client.get("/api/v1/sops/").status_code == 401
    assert api_as(None).get("/api/v1/sops/").status_code == 403
    assert api_as(None).get(f"/api/v1/sop-versions/{published.pk}/").status_code == 403


def test_filters_and_history(api_as, document, publish, author):
    publish(document, body="# v1")
    publish(document, body="# v2")
    services.sop_document_create(actor=author, code="RF-001", title="Refunds", area="refunds")
    client = api_as("associate")
    assert [d["code"] for d in client.get("/api/v1/sops/?area=refunds").json()["results"]] == ["RF-001"]
    assert [d["code"] for d in client.get("/api/v1/sops/?published=true").json()["results"]] == ["AP-001"]
    versions = client.get("/api/v1/sop-versions/?code=ap-001&status=retired").json()["results"]
    assert [v["number"] for v in versions] == [1]
    history = client.get(f"/api/v1/sops/{document.pk}/versions/").json()
    assert [(v["number"], v["status"]) for v in history] == [(2, "published"), (1, "retired")]


# --- Writing --------------------------------------------------------------------------------------


def test_sop_owner_creates_a_document(api_as, role_groups):
    client = api_as("sop_owner")
    response = client.post(
        "/api/v1/sops/",
        {"code": "inv-007", "title": "Cycle count scheduling", "area": "inventory", "audience": ["Associate"]},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["code"] == "INV-007" and response.json()["owner"] == client.user.pk
    assert SOPDocument.objects.get(code="INV-007").audience.get() == role_groups["associate"]


@pytest.mark.parametrize("role", ["associate", "approver", "auditor"])
def test_other_roles_create_nothing(api_as, role):
    response = api_as(role).post("/api/v1/sops/", {"code": "INV-008", "title": "x", "area": "inventory"})
    assert response.status_code == 403
    assert not SOPDocument.objects.exists()


def test_bad_document_input_names_the_fields(api_as, document):
    response = api_as("sop_owner").post(
        "/api/v1/sops/", {"code": "AP-002", "title": "x", "area": "invoices", "governs_area": True}
    )
    assert response.status_code == 400
    assert "AP-001 already governs Invoices" in response.json()["governs_area"][0]
    duplicate = api_as("sop_owner").post("/api/v1/sops/", {"code": "AP-001", "title": "x", "area": "invoices"})
    assert duplicate.status_code == 400 and "code" in duplicate.json()


def test_there_is_no_delete_for_documents(api_as, document):
    assert api_as("sop_owner").delete(f"/api/v1/sops/{document.pk}/").status_code in (403, 405)
    assert SOPDocument.objects.filter(pk=document.pk).exists()


def test_write_a_draft_and_edit_it(api_as, author, document):
    client = api_as(user=author)
    created = client.post("/api/v1/sop-versions/", {"document": document.pk, "change_summary": "First.", "body": "# A"})
    assert created.status_code == 201 and created.json()["status"] == "draft"
    version_id = created.json()["id"]
    edited = client.patch(f"/api/v1/sop-versions/{version_id}/", {"body": "# B"})
    assert edited.status_code == 200 and edited.json()["body"] == "# B"


def test_someone_elses_draft_cannot_be_edited(api_as, reviewer, draft):
    response = api_as(user=reviewer).patch(f"/api/v1/sop-versions/{draft.pk}/", {"body": "mine"})
    assert response.status_code == 403
    assert "Only the author" in response.json()["detail"]


def test_a_second_open_version_is_a_conflict(api_as, author, draft):
    response = api_as(user=author).post(
        "/api/v1/sop-versions/", {"document": draft.document_id, "change_summary": "x", "body": "y"}
    )
    assert response.status_code == 409
    assert response.json()["detail"] == "AP-001 v1 is still draft: finish or discard it first."


def test_a_published_version_never_changes(api_as, author, published):
    response = api_as(user=author).patch(f"/api/v1/sop-versions/{published.pk}/", {"body": "x"})
    assert response.status_code == 409 and "start a new version" in response.json()["detail"]


def test_discard_a_draft(api_as, author, draft):
    assert api_as(user=author).delete(f"/api/v1/sop-versions/{draft.pk}/").status_code == 204
    assert not SOPVersion.objects.filter(pk=draft.pk).exists()


# --- Transitions ----------------------------------------------------------------------------------


def test_full_flow_submit_review_publish_acknowledge(api_as, author, reviewer, associate, draft):
    as_author, as_reviewer, as_reader = api_as(user=author), api_as(user=reviewer), api_as(user=associate)

    submitted = as_author.post(f"/api/v1/sop-versions/{draft.pk}/submit-review/", {"reviewer": reviewer.pk})
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review"

    approved = as_reviewer.post(f"/api/v1/sop-versions/{draft.pk}/approve/", {"comment": "Fine."})
    assert approved.status_code == 200 and approved.json()["reviewed_at"]

    published = as_author.post(f"/api/v1/sop-versions/{draft.pk}/publish/")
    assert published.status_code == 200 and published.json()["status"] == "published"

    first = as_reader.post(f"/api/v1/sop-versions/{draft.pk}/acknowledge/")
    again = as_reader.post(f"/api/v1/sop-versions/{draft.pk}/acknowledge/")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] and first.json()["username"] == associate.username


def test_publishing_without_a_review_is_409(api_as, reviewer, draft):
    response = api_as(user=reviewer).post(f"/api/v1/sop-versions/{draft.pk}/publish/")
    assert response.status_code == 409
    assert response.json()["detail"] == "AP-001 v1 has not been reviewed: submit it for review first."


def test_the_author_reviewing_their_own_version_is_403(api_as, author, in_review):
    for action in ("approve", "publish"):
        response = api_as(user=author).post(f"/api/v1/sop-versions/{in_review.pk}/{action}/")
        assert response.status_code == 403
        assert "someone else must review it" in response.json()["detail"]


@pytest.mark.parametrize("role", ["associate", "approver", "auditor"])
def test_roles_without_publish_sop_cannot_review(api_as, role, in_review):
    response = api_as(role).post(f"/api/v1/sop-versions/{in_review.pk}/publish/")
    assert response.status_code == 403
    assert SOPVersion.objects.get(pk=in_review.pk).status == Status.IN_REVIEW


def test_reasons_are_required(api_as, reviewer, in_review, document, publish):
    response = api_as(user=reviewer).post(f"/api/v1/sop-versions/{in_review.pk}/request-changes/", {})
    assert response.status_code == 400 and "reason" in response.json()
    sent_back = api_as(user=reviewer).post(
        f"/api/v1/sop-versions/{in_review.pk}/request-changes/", {"reason": "Add step 3."}
    )
    assert sent_back.json()["status"] == "draft" and sent_back.json()["review_comment"] == "Add step 3."


def test_retire(api_as, reviewer, published):
    missing = api_as(user=reviewer).post(f"/api/v1/sop-versions/{published.pk}/retire/", {"reason": ""})
    assert missing.status_code == 400
    retired = api_as(user=reviewer).post(f"/api/v1/sop-versions/{published.pk}/retire/", {"reason": "Outsourced."})
    assert retired.status_code == 200 and retired.json()["status"] == "retired"
    again = api_as(user=reviewer).post(f"/api/v1/sop-versions/{published.pk}/retire/", {"reason": "x"})
    assert again.status_code == 409


def test_submit_with_an_unfit_reviewer_is_400(api_as, author, associate, draft):
    response = api_as(user=author).post(f"/api/v1/sop-versions/{draft.pk}/submit-review/", {"reviewer": associate.pk})
    assert response.status_code == 400 and "publish_sop" in response.json()["reviewer"][0]


def test_auditors_cannot_acknowledge(api_as, published):
    response = api_as("auditor").post(f"/api/v1/sop-versions/{published.pk}/acknowledge/")
    assert response.status_code == 403 and not Acknowledgement.objects.exists()


def test_acknowledging_a_retired_version_is_409(api_as, document, publish, published):
    publish(document, body="# v2")
    response = api_as("associate").post(f"/api/v1/sop-versions/{published.pk}/acknowledge/")
    assert response.status_code == 409 and "Read the version in force instead." in response.json()["detail"]


def test_mark_reviewed(api_as, author, published, document):
    response = api_as(user=author).post(f"/api/v1/sops/{document.pk}/mark-reviewed/", {"reason": "Still right."})
    assert response.status_code == 200 and response.json()["next_review_date"]
    assert api_as("associate").post(f"/api/v1/sops/{document.pk}/mark-reviewed/").status_code == 403


# --- Diff, search, attachments -------------------------------------------------------------------


def test_diff(api_as, document, publish):
    first = publish(document, body="a\nb\n")
    second = publish(document, body="a\nc\n")
    client = api_as("associate")
    diff = client.get(f"/api/v1/sop-versions/{second.pk}/diff/").json()
    assert diff["old"] == first.pk and diff["new"] == second.pk
    assert {"kind": "added", "text": "c"} in diff["lines"] and {"kind": "removed", "text": "b"} in diff["lines"]
    assert client.get(f"/api/v1/sop-versions/{second.pk}/diff/?against=abc").status_code == 400
    assert client.get(f"/api/v1/sop-versions/{second.pk}/diff/?against=99999").status_code == 400


def test_search(api_as, published):
    client = api_as("associate")
    results = client.get("/api/v1/sops/search/?q=match").json()["results"]
    assert [r["code"] for r in results] == ["AP-001"]
    assert client.get("/api/v1/sops/search/?q=match&area=refunds").json()["results"] == []
    assert client.get("/api/v1/sops/search/?q=x&area=payroll").status_code == 400


def test_attachment_upload_and_download(api_as, author, draft, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client = api_as(user=author)
    url = f"/api/v1/sop-versions/{draft.pk}/attachments/"
    refused = client.post(url, {"file": SimpleUploadedFile("x.svg", b"<svg onload=alert(1)>")}, format="multipart")
    assert refused.status_code == 400 and "Files of type .svg are not accepted" in refused.json()["file"][0]
    settings.SOP_ATTACHMENT_MAX_BYTES = 10
    too_big = client.post(url, {"file": SimpleUploadedFile("a.txt", b"x" * 11)}, format="multipart")
    assert too_big.status_code == 400 and "at most" in too_big.json()["file"][0]
    settings.SOP_ATTACHMENT_MAX_BYTES = 1024
    ok = client.post(url, {"file": SimpleUploadedFile("steps.txt", b"1. check\n")}, format="multipart")
    assert ok.status_code == 201 and ok.json()["content_type"] == "text/plain; charset=utf-8"
    download = api_as("associate").get(ok.json()["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == b"1. check\n"
    assert download["Content-Disposition"].startswith("attachment")


def test_attachments_only_by_the_author_on_a_draft(api_as, reviewer, draft):
    response = api_as(user=reviewer).post(
        f"/api/v1/sop-versions/{draft.pk}/attachments/",
        {"file": SimpleUploadedFile("a.txt", b"x")},
        format="multipart",
    )
    assert response.status_code == 403


# --- Acknowledgements and compliance -------------------------------------------------------------


def test_compliance_report(api_as, published, associate, make_user):
    make_user("associate", username="zed")
    services.sop_version_acknowledge(version_id=published.pk, actor=associate)
    report = api_as("approver").get("/api/v1/sops/compliance/")
    assert report.status_code == 200
    [row] = report.json()
    assert (row["code"], row["audience"], row["acknowledged"], row["percent"]) == ("AP-001", 2, 1, 50)
    assert row["groups"] == [{"group": "Associate", "members": 2, "acknowledged": 1, "percent": 50}]
    assert [m["username"] for m in row["missing"]] == ["zed"]
    one = api_as("auditor").get(f"/api/v1/sops/{published.document_id}/compliance/")
    assert one.status_code == 200 and one.json()["percent"] == 50


def test_compliance_report_is_not_for_associates(api_as, published):
    response = api_as("associate").get("/api/v1/sops/compliance/")
    assert response.status_code == 403
    assert "view acknowledgements" in response.json()["detail"]


def test_acknowledgement_list(api_as, published, associate):
    services.sop_version_acknowledge(version_id=published.pk, actor=associate)
    rows = api_as("auditor").get(f"/api/v1/sop-acknowledgements/?document={published.document_id}").json()["results"]
    assert [(r["code"], r["number"], r["username"]) for r in rows] == [("AP-001", 1, associate.username)]
    assert api_as("associate").get("/api/v1/sop-acknowledgements/").status_code == 403
    assert api_as("auditor").post(f"/api/v1/sop-versions/{published.pk}/acknowledge/").status_code == 403
