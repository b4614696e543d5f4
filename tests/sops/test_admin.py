"""SOP admin: lists with bounded queries, the reading view and its buttons, diffs, compliance, the SOP link."""

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from django.urls import reverse

from apps.sops import services
from apps.sops.admin_mixins import GovernedBySOPAdminMixin
from apps.sops.models import Acknowledgement, SOPAttachment, SOPDocument, SOPVersion

Status = SOPVersion.Status


def read_url(version):
    return reverse("admin:sops_sopversion_read", args=[version.pk])


@pytest.fixture
def many_documents(author, reviewer, role_groups, make_user):
    """Twelve published SOPs across areas, each partly acknowledged, one with a draft."""
    readers = [make_user("associate") for _ in range(3)]
    documents = []
    for n in range(12):
        area = ["invoices", "refunds", "inventory", "vendors", "general"][n % 5]
        document = services.sop_document_create(
            actor=author,
            code=f"TST-{n:03d}",
            title=f"Procedure {n}",
            area=area,
            governs_area=n < 5,
            audience=[role_groups["associate"]],
        )
        version = services.sop_version_create(document_id=document.pk, actor=author, change_summary="x", body="# x")
        services.sop_version_submit_review(version_id=version.pk, actor=author)
        services.sop_version_publish(version_id=version.pk, actor=reviewer)
        services.sop_version_acknowledge(version_id=version.pk, actor=readers[n % 3])
        documents.append(document)
    services.sop_version_create(document_id=documents[0].pk, actor=author, change_summary="Next.")
    return documents


# --- Lists ----------------------------------------------------------------------------------------


def test_document_list_shows_version_review_date_and_compliance_in_bounded_queries(
    client, author, many_documents, django_assert_max_num_queries
):
    client.force_login(author)
    with django_assert_max_num_queries(16):
        page = client.get(reverse("admin:sops_sopdocument_changelist"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "TST-011" in html and "33% (1/3)" in html
    assert "v2 draft" in html  # the version being written
    assert 'data-testid="sop-in-force"' in html  # the SOP admin is itself governed (area general)


def test_document_list_query_count_does_not_grow_with_rows(client, author, many_documents, django_assert_num_queries):
    client.force_login(author)
    client.get(reverse("admin:sops_sopdocument_changelist"))  # warm caches (content types, sessions)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as full:
        client.get(reverse("admin:sops_sopdocument_changelist"))
    with CaptureQueriesContext(connection) as filtered:
        client.get(reverse("admin:sops_sopdocument_changelist") + "?area__exact=invoices")
    assert len(full) == len(filtered)


@pytest.mark.parametrize(
    "query,codes",
    [("area__exact=refunds", {"TST-001", "TST-006", "TST-011"}), ("review=unscheduled", set())],
)
def test_document_list_filters(client, author, many_documents, query, codes):
    client.force_login(author)
    html = client.get(reverse("admin:sops_sopdocument_changelist") + "?" + query).content.decode()
    assert {f"TST-{n:03d}" for n in range(12) if f">TST-{n:03d}<" in html} == codes


def test_document_list_overdue_filter(client, author, many_documents):
    from datetime import timedelta

    from django.utils import timezone

    SOPDocument.objects.filter(code="TST-004").update(next_review_date=timezone.localdate() - timedelta(days=1))
    client.force_login(author)
    html = client.get(reverse("admin:sops_sopdocument_changelist") + "?review=overdue").content.decode()
    assert ">TST-004<" in html and ">TST-003<" not in html and "(overdue)" in html


def test_document_search_looks_into_bodies(client, author, many_documents, publish):
    publish(many_documents[3], body="Escalate to the **treasury desk** at once.")
    client.force_login(author)
    html = client.get(reverse("admin:sops_sopdocument_changelist") + "?q=treasury").content.decode()
    assert ">TST-003<" in html and ">TST-002<" not in html


def test_version_and_acknowledgement_lists_load_in_bounded_queries(
    client, author, many_documents, django_assert_max_num_queries
):
    client.force_login(author)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("admin:sops_sopversion_changelist")).status_code == 200
    with django_assert_max_num_queries(12):
        html = client.get(reverse("admin:sops_acknowledgement_changelist")).content.decode()
    assert "Compliance report" in html


# --- Writing through the admin --------------------------------------------------------------------


def test_adding_a_document_goes_through_the_service(client, author, role_groups):
    client.force_login(author)
    response = client.post(
        reverse("admin:sops_sopdocument_add"),
        {
            "code": "rf-004",
            "title": "Store credit",
            "area": "refunds",
            "owner": author.pk,
            "audience": [role_groups["associate"].pk],
            "review_interval_days": 365,
            "versions-TOTAL_FORMS": 0,
            "versions-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    document = SOPDocument.objects.get(code="RF-004")
    assert list(document.audience.all()) == [role_groups["associate"]]
    assert document.created_by == author


def test_writing_a_new_version_in_the_admin(client, author, document):
    client.force_login(author)
    response = client.post(
        reverse("admin:sops_sopversion_add"),
        {
            "document": document.pk,
            "change_summary": "First issue.",
            "body": "# Steps\n\n1. One.",
            "attachments-TOTAL_FORMS": 0,
            "attachments-INITIAL_FORMS": 0,
        },
    )
    version = SOPVersion.objects.get(document=document)
    assert response.status_code == 302 and response.url == read_url(version)
    assert version.author == author and version.status == Status.DRAFT


def test_the_add_form_refuses_a_second_open_version(client, author, draft):
    client.force_login(author)
    response = client.post(
        reverse("admin:sops_sopversion_add"),
        {
            "document": draft.document_id,
            "change_summary": "x",
            "body": "y",
            "attachments-TOTAL_FORMS": 0,
            "attachments-INITIAL_FORMS": 0,
        },
    )
    assert response.status_code == 200
    assert "AP-001 v1 is still draft" in response.content.decode()


def test_a_published_version_has_no_edit_form(client, author, document, publish):
    version = publish(document)
    client.force_login(author)
    page = client.get(reverse("admin:sops_sopversion_change", args=[version.pk])).content.decode()
    assert 'name="_save"' not in page and 'name="body"' not in page
    response = client.post(reverse("admin:sops_sopversion_change", args=[version.pk]), {"body": "changed"})
    assert response.status_code == 403
    assert SOPVersion.objects.get(pk=version.pk).body != "changed"


def test_attachments_on_a_draft_and_their_refusals(client, author, draft):
    client.force_login(author)

    def upload(name, content):
        return client.post(
            reverse("admin:sops_sopversion_change", args=[draft.pk]),
            {
                "change_summary": draft.change_summary,
                "body": draft.body,
                "attachments-TOTAL_FORMS": 1,
                "attachments-INITIAL_FORMS": 0,
                "attachments-0-file": SimpleUploadedFile(name, content),
            },
        )

    refused = upload("payload.html", b"<script>alert(1)</script>")
    assert refused.status_code == 200 and "Files of type .html are not accepted" in refused.content.decode()
    disguised = upload("form.pdf", b"MZ\x90\x00 not a pdf")
    assert "does not look like a .pdf file" in disguised.content.decode()
    assert not SOPAttachment.objects.exists()

    accepted = upload("checklist.pdf", b"%PDF-1.7\n...")
    assert accepted.status_code == 302
    attachment = SOPAttachment.objects.get()
    assert (attachment.name, attachment.content_type) == ("checklist.pdf", "application/pdf")

    download = client.get(reverse("admin:sops_sopattachment_download", args=[attachment.pk]))
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == b"%PDF-1.7\n..."
    attachment.file.delete(save=False)


# --- Reading view ---------------------------------------------------------------------------------


def test_reading_view_renders_hostile_markdown_inert(client, associate, document, publish):
    version = publish(
        document, body='# Steps\n\n<script>alert("x")</script>\n\n[go](javascript:alert(1)) <b onclick=x>b</b>'
    )
    client.force_login(associate)
    html = client.get(read_url(version)).content.decode()
    body = html.split('data-testid="sop-body">')[1].split("</article>")[0]
    assert "<h1>Steps</h1>" in body
    assert "<script" not in body and "javascript:" not in body and "onclick" not in body
    assert "I have read this" in html


def test_i_have_read_this(client, associate, document, publish):
    version = publish(document)
    client.force_login(associate)
    response = client.post(read_url(version), {"transition": "acknowledge"}, follow=True)
    html = response.content.decode()
    assert "AP-001 v1 acknowledged." in html and "You acknowledged this version on" in html
    assert Acknowledgement.objects.filter(version=version, user=associate).exists()


def test_an_old_version_points_to_the_one_in_force_and_cannot_be_acknowledged(client, associate, document, publish):
    old = publish(document, body="# v1")
    new = publish(document, body="# v2")
    client.force_login(associate)
    html = client.get(read_url(old)).content.decode()
    assert "This is not the version in force" in html and read_url(new) in html
    assert "I have read this" not in html
    response = client.post(read_url(old), {"transition": "acknowledge"}, follow=True)
    assert "Not acknowledged: AP-001 v1 is retired" in response.content.decode()


def test_the_author_submits_and_a_reviewer_publishes_from_the_reading_view(client, author, reviewer, draft):
    client.force_login(author)
    page = client.get(read_url(draft)).content.decode()
    assert "Submit for review" in page and "Publish" not in page
    client.post(read_url(draft), {"transition": "submit_review"})
    assert SOPVersion.objects.get(pk=draft.pk).status == Status.IN_REVIEW
    assert 'value="Publish"' not in client.get(read_url(draft)).content.decode()  # not their own

    client.force_login(reviewer)
    page = client.get(read_url(draft)).content.decode()
    assert 'value="Publish"' in page and "Approve review" in page
    response = client.post(read_url(draft), {"transition": "publish"}, follow=True)
    assert "AP-001 v1 published." in response.content.decode()
    assert SOPVersion.objects.get(pk=draft.pk).status == Status.PUBLISHED


def test_a_refused_transition_is_explained_and_recorded(client, author, in_review):
    from apps.core.models import AuditEvent

    client.force_login(author)
    response = client.post(read_url(in_review), {"transition": "publish"}, follow=True)
    assert "Not published: AP-001 v1 was written by you" in response.content.decode()
    assert AuditEvent.objects.filter(action="sop_version.publish", outcome="denied", actor=author).exists()
    assert SOPVersion.objects.get(pk=in_review.pk).status == Status.IN_REVIEW


def test_send_back_with_a_reason_from_the_reading_view(client, reviewer, in_review):
    client.force_login(reviewer)
    client.post(read_url(in_review), {"transition": "request_changes", "reason": "Add the escalation path."})
    version = SOPVersion.objects.get(pk=in_review.pk)
    assert version.status == Status.DRAFT and version.review_comment == "Add the escalation path."


def test_an_unknown_transition_is_not_found(client, reviewer, in_review):
    client.force_login(reviewer)
    assert client.post(read_url(in_review), {"transition": "delete"}).status_code == 404


def test_auditor_reads_but_gets_no_buttons(client, make_user, document, publish):
    version = publish(document)
    client.force_login(make_user("auditor"))
    html = client.get(read_url(version)).content.decode()
    assert "I have read this" not in html and "Retire" not in html and "Edit draft" not in html
    client.post(read_url(version), {"transition": "acknowledge"})
    assert not Acknowledgement.objects.exists()
    listing = client.get(reverse("admin:sops_sopversion_changelist")).content.decode()
    assert "addlink" not in listing and 'name="action"' not in listing


# --- Actions -----------------------------------------------------------------------------------------


def test_publish_action_publishes_others_and_refuses_own(client, reviewer, author, document, other_document):
    own = services.sop_version_create(document_id=other_document.pk, actor=reviewer, change_summary="x", body="# x")
    services.sop_version_submit_review(version_id=own.pk, actor=reviewer)
    theirs = services.sop_version_create(document_id=document.pk, actor=author, change_summary="x", body="# y")
    services.sop_version_submit_review(version_id=theirs.pk, actor=author)
    client.force_login(reviewer)

    response = client.post(
        reverse("admin:sops_sopversion_changelist"),
        {"action": "publish", "_selected_action": [own.pk, theirs.pk], "confirmed": "yes"},
        follow=True,
    )

    html = response.content.decode()
    assert "Published: 1 SOP version." in html
    assert "Not published: GEN-002 v1 — GEN-002 v1 was written by you" in html
    assert SOPVersion.objects.get(pk=theirs.pk).status == Status.PUBLISHED
    assert SOPVersion.objects.get(pk=own.pk).status == Status.IN_REVIEW


def test_associates_get_no_transition_actions(client, associate, document, publish):
    publish(document)
    client.force_login(associate)
    html = client.get(reverse("admin:sops_sopversion_changelist")).content.decode()
    assert 'value="publish"' not in html and 'value="retire"' not in html


def test_mark_reviewed_action_with_a_note(client, author, document, publish):
    publish(document)
    client.force_login(author)
    response = client.post(
        reverse("admin:sops_sopdocument_changelist"),
        {"action": "mark_reviewed", "_selected_action": [document.pk], "confirmed": "yes", "reason": "Still right."},
        follow=True,
    )
    assert "Marked as reviewed: 1 SOP document." in response.content.decode()


# --- Diff, history, compliance, search ---------------------------------------------------------------


def test_diff_between_versions(client, associate, document, publish):
    first = publish(document, body="# Steps\n\n1. Check.\n")
    second = publish(document, body="# Steps\n\n1. Check.\n2. Escalate.\n")
    client.force_login(associate)
    html = client.get(reverse("admin:sops_sopversion_diff", args=[second.pk])).content.decode()
    assert '<span class="diff-added">+ 2. Escalate.</span>' in html
    reverse_order = client.get(
        reverse("admin:sops_sopversion_diff", args=[first.pk]) + f"?against={second.pk}"
    ).content.decode()
    assert "+ 2. Escalate." in reverse_order  # always from the older to the newer


def test_diff_escapes_hostile_text(client, associate, document, publish):
    publish(document, body="a\n")
    second = publish(document, body="a\n<script>alert(1)</script>\n")
    client.force_login(associate)
    html = client.get(reverse("admin:sops_sopversion_diff", args=[second.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_diff_against_another_sop_is_not_found(client, associate, document, publish, other_document):
    version = publish(document)
    stranger = publish(other_document)
    client.force_login(associate)
    url = reverse("admin:sops_sopversion_diff", args=[version.pk]) + f"?against={stranger.pk}"
    assert client.get(url).status_code == 404


def test_document_page_shows_the_version_history(client, author, document, publish):
    publish(document, body="# v1")
    publish(document, body="# v2")
    client.force_login(author)
    html = client.get(reverse("admin:sops_sopdocument_change", args=[document.pk])).content.decode()
    assert "version history" in html.lower() and "changes from v1" in html
    assert "Start a new version" in html


def test_compliance_report_lists_percent_and_who_is_missing(client, make_user, document, publish):
    late = make_user("associate", username="late.reader")
    early = make_user("associate", username="early.reader")
    version = publish(document)
    services.sop_version_acknowledge(version_id=version.pk, actor=early)
    client.force_login(make_user("approver"))
    html = client.get(reverse("admin:sops_sopdocument_compliance")).content.decode()
    assert 'data-testid="percent">50%<' in html
    assert "late.reader" in html and "early.reader" not in html.split("missing")[-1]
    assert "Associate: 1/2 (50%)" in html
    assert (
        late.username
        in client.get(reverse("admin:sops_sopdocument_document_compliance", args=[document.pk])).content.decode()
    )


def test_compliance_report_is_for_leads_owners_and_auditors(client, make_user):
    for role, status in [("associate", 403), ("approver", 200), ("sop_owner", 200), ("auditor", 200)]:
        client.force_login(make_user(role))
        assert client.get(reverse("admin:sops_sopdocument_compliance")).status_code == status, role


def test_search_page(client, associate, document, publish):
    publish(document, body="Check the three-way match.")
    client.force_login(associate)
    html = client.get(reverse("admin:sops_sopversion_search") + "?q=match").content.decode()
    assert "AP-001 Vendor invoice approval" in html
    assert (
        "Nothing in force matches" in client.get(reverse("admin:sops_sopversion_search") + "?q=zebra").content.decode()
    )


# --- The SOP in force on another app's pages -------------------------------------------------------


class GroupAdminWithOwnTemplate(GovernedBySOPAdminMixin, django_admin.ModelAdmin):
    """Stands in for an app's admin with its own list template (as django-import-export's)."""

    sop_area = "invoices"
    change_list_template = "admin/sops/sopversion/change_list.html"


@pytest.fixture
def governed_admin():
    site = django_admin.AdminSite(name="governed")
    return GroupAdminWithOwnTemplate(Group, site)


def _render(response):
    response.render()
    return response.content.decode()


def test_governed_admin_shows_the_sop_in_force_on_list_and_form(
    governed_admin, make_user, document, publish, django_assert_max_num_queries
):
    version = publish(document)
    request = RequestFactory().get("/admin/auth/group/")
    request.user = make_user(None, is_superuser=True)
    with django_assert_max_num_queries(6):
        html = _render(governed_admin.changelist_view(request))
    assert f'href="/admin/sops/sopversion/{version.pk}/read/"' in html
    assert "AP-001 Vendor invoice approval, version 1" in html
    assert "Search SOPs" in html  # the admin's own template is still used

    group = Group.objects.first()
    request = RequestFactory().get(f"/admin/auth/group/{group.pk}/change/")
    request.user = make_user(None, is_superuser=True)
    assert "AP-001 Vendor invoice approval, version 1" in _render(governed_admin.change_view(request, str(group.pk)))


def test_governed_admin_says_when_nothing_is_in_force(governed_admin, make_user, db):
    request = RequestFactory().get("/admin/auth/group/")
    request.user = make_user(None, is_superuser=True)
    assert "No SOP is in force for Invoices." in _render(governed_admin.changelist_view(request))


def test_governed_admin_costs_one_query_whatever_the_rows(governed_admin, make_user, document, publish):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    publish(document)
    request = RequestFactory().get("/admin/auth/group/")
    request.user = make_user(None, is_superuser=True)
    _render(governed_admin.changelist_view(request))
    with CaptureQueriesContext(connection) as few:
        _render(governed_admin.changelist_view(request))
    Group.objects.bulk_create([Group(name=f"extra {n}") for n in range(20)])
    with CaptureQueriesContext(connection) as many:
        _render(governed_admin.changelist_view(request))
    assert len(many) == len(few)
    assert sum("sops_sopversion" in q["sql"] for q in many.captured_queries) == 1


def test_governed_admin_refuses_an_unknown_area(make_user, db):
    class Broken(GovernedBySOPAdminMixin, django_admin.ModelAdmin):
        sop_area = "payroll"

    request = RequestFactory().get("/admin/auth/group/")
    request.user = make_user(None, is_superuser=True)
    with pytest.raises(ValueError, match="sop_area must be one of"):
        Broken(Group, django_admin.AdminSite(name="broken")).changelist_view(request)
