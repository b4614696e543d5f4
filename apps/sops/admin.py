"""
SOP admin: documents with their version in force, review date and compliance; versions with a
reading view ("I have read this"), transitions, history and diffs; the compliance report.

Every write goes through ``apps.sops.services``; refusals are shown as messages.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import OuterRef, Subquery
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.core import audit
from apps.core.admin_actions import transition_action
from apps.core.exceptions import TransitionNotAllowed
from apps.sops import selectors, services
from apps.sops.admin_mixins import GovernedBySOPAdminMixin
from apps.sops.attachments import check_attachment
from apps.sops.models import Acknowledgement, Area, SOPAttachment, SOPDocument, SOPVersion
from apps.sops.rendering import diff_lines, render_markdown

User = get_user_model()
REFUSALS = (TransitionNotAllowed, PermissionDenied, ValidationError)


def _reason_of(exc) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(exc.messages)
    return str(exc)


# --- Documents ----------------------------------------------------------------------------------


class ReviewDueFilter(admin.SimpleListFilter):
    title = "review"
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("overdue", "Overdue"), ("due30", "Due within 30 days"), ("unscheduled", "Not scheduled")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        if self.value() == "overdue":
            return queryset.filter(next_review_date__lt=today)
        if self.value() == "due30":
            return queryset.filter(next_review_date__gte=today, next_review_date__lte=today + timedelta(days=30))
        if self.value() == "unscheduled":
            return queryset.filter(next_review_date__isnull=True)
        return queryset


class SOPDocumentForm(forms.ModelForm):
    class Meta:
        model = SOPDocument
        fields = [
            "code",
            "title",
            "area",
            "owner",
            "audience",
            "governs_area",
            "review_interval_days",
            "next_review_date",
        ]

    def __init__(self, *args, **kwargs):
        if args and args[0] is not None and "code" in args[0]:
            data = args[0].copy()
            data["code"] = data["code"].strip().upper()
            args = (data, *args[1:])
        super().__init__(*args, **kwargs)
        if "owner" in self.fields:
            self.fields["owner"].queryset = User.objects.filter(is_active=True, is_staff=True).order_by("username")


class VersionHistoryInline(admin.TabularInline):
    """The versions of a document, newest first, with links to read and compare them."""

    model = SOPVersion
    fk_name = "document"
    extra = 0
    can_delete = False
    show_change_link = False
    view_on_site = False
    fields = ["version_link", "status", "change_summary", "author", "reviewer", "published_at", "diff_link"]
    readonly_fields = fields
    ordering = ["-number"]
    verbose_name = "version"
    verbose_name_plural = "version history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "reviewer", "document")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="version")
    def version_link(self, obj):
        return format_html('<a href="{}">v{}</a>', reverse("admin:sops_sopversion_read", args=[obj.pk]), obj.number)

    @admin.display(description="diff")
    def diff_link(self, obj):
        if obj.number == 1:
            return "—"
        return format_html('<a href="{}">changes from v{}</a>', _diff_url(obj), obj.number - 1)


def _diff_url(version, against=None):
    url = reverse("admin:sops_sopversion_diff", args=[version.pk])
    return f"{url}?against={against.pk}" if against is not None else url


@admin.register(SOPDocument)
class SOPDocumentAdmin(GovernedBySOPAdminMixin, admin.ModelAdmin):
    """SOPs with the version in force, its review date and how much of the audience has read it."""

    sop_area = Area.GENERAL
    form = SOPDocumentForm
    list_display = [
        "code",
        "title",
        "area",
        "owner",
        "version_in_force",
        "work_in_progress",
        "review_date",
        "compliance",
    ]
    list_display_links = ["code", "title"]
    list_filter = ["area", ("owner", admin.RelatedOnlyFieldListFilter), ReviewDueFilter, "governs_area"]
    list_select_related = ["owner", "current_version"]
    search_fields = ["code", "title"]
    search_help_text = "Code, title or words in the version in force."
    filter_horizontal = ["audience"]
    readonly_fields = ["version_in_force"]
    inlines = [VersionHistoryInline]
    actions = ["mark_reviewed"]
    fieldsets = [
        (None, {"fields": ["code", "title", "area", "owner", "governs_area"]}),
        ("Audience", {"fields": ["audience"]}),
        ("Review", {"fields": ["review_interval_days", "next_review_date", "version_in_force"]}),
    ]

    def get_queryset(self, request):
        open_versions = SOPVersion.objects.filter(document=OuterRef("pk"), status__in=SOPVersion.OPEN)
        return (
            super()
            .get_queryset(request)
            .annotate(
                open_number=Subquery(open_versions.values("number")[:1]),
                open_status=Subquery(open_versions.values("status")[:1]),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term.strip():
            in_bodies = queryset.filter(pk__in=selectors.sop_search(query=search_term).values("document_id"))
            results = results | in_bodies
        return results, may_have_duplicates

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        compliance = selectors.sop_compliance(documents=changelist.result_list)
        for document in changelist.result_list:
            document.compliance_info = compliance.get(document.pk)
        return changelist

    def get_urls(self):
        urls = [
            path(
                "compliance/",
                self.admin_site.admin_view(self.compliance_view),
                name="sops_sopdocument_compliance",
            ),
            path(
                "<int:document_id>/compliance/",
                self.admin_site.admin_view(self.compliance_view),
                name="sops_sopdocument_document_compliance",
            ),
            path(
                "<int:document_id>/new-version/",
                self.admin_site.admin_view(self.new_version_view),
                name="sops_sopdocument_new_version",
            ),
        ]
        return urls + super().get_urls()

    # Columns

    @admin.display(description="in force", ordering="current_version__number")
    def version_in_force(self, obj):
        if not obj.current_version_id:
            return "—"
        version = obj.current_version
        return format_html(
            '<a href="{}">v{}</a> <span class="quiet">since {}</span>',
            reverse("admin:sops_sopversion_read", args=[version.pk]),
            version.number,
            timezone.localtime(version.published_at).strftime("%d %b %Y"),
        )

    @admin.display(description="being written")
    def work_in_progress(self, obj):
        number = getattr(obj, "open_number", None)
        if number is None:
            return "—"
        return f"v{number} {SOPVersion.Status(obj.open_status).label.lower()}"

    @admin.display(description="next review", ordering="next_review_date")
    def review_date(self, obj):
        if obj.next_review_date is None:
            return "—"
        text = obj.next_review_date.strftime("%d %b %Y")
        if obj.next_review_date < timezone.localdate():
            return format_html('<strong class="sop-overdue">{} (overdue)</strong>', text)
        return text

    @admin.display(description="acknowledged")
    def compliance(self, obj):
        info = getattr(obj, "compliance_info", None)
        if info is None or info.percent is None:
            return "—"
        return f"{info.percent}% ({info.acknowledged_count}/{info.audience_count})"

    # Writes

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.Meta.fields if name in form.cleaned_data}
        audience = data.pop("audience", None)
        if change:
            saved = services.sop_document_update(document_id=obj.pk, actor=request.user, audience=audience, **data)
        else:
            saved = services.sop_document_create(actor=request.user, audience=audience or (), **data)
            obj.pk = saved.pk
            obj._state.adding = False
            obj._state.db = saved._state.db
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The audience was saved by the service; the version history inline is read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def has_delete_permission(self, request, obj=None):
        return False  # SOPs are retired, never deleted: decisions refer to their versions

    def has_publish_permission(self, request):
        return request.user.has_perm("sops.publish_sop")

    def has_review_permission(self, request):
        return request.user.has_perm("sops.publish_sop") or request.user.has_perm("sops.change_sopdocument")

    mark_reviewed = transition_action(
        services.sop_document_mark_reviewed,
        id_arg="document_id",
        verb="marked as reviewed",
        description="Record the periodic review of selected SOPs (still correct as published)",
        permissions=["review"],
        reason="Review note",
    )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        extra_context["new_version_url"] = reverse("admin:sops_sopdocument_new_version", args=[object_id])
        return super().change_view(request, object_id, form_url, extra_context)

    # Views

    def new_version_view(self, request, document_id):
        document = get_object_or_404(SOPDocument, pk=document_id)
        return HttpResponseRedirect(f"{reverse('admin:sops_sopversion_add')}?document={document.pk}")

    def compliance_view(self, request, document_id=None):
        if not request.user.has_perm("sops.view_acknowledgement"):
            raise PermissionDenied
        area = request.GET.get("area") or None
        if area not in (None, *Area.values):
            area = None
        rows = selectors.sop_compliance_report(area=area, document_id=document_id)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "SOP acknowledgement compliance",
            "rows": rows,
            "areas": Area.choices,
            "area": area,
            "document_id": document_id,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/sops/compliance.html", context)


# --- Versions -----------------------------------------------------------------------------------


class AttachmentForm(forms.ModelForm):
    class Meta:
        model = SOPAttachment
        fields = ["file"]

    def clean_file(self):
        uploaded = self.cleaned_data.get("file")
        if uploaded is not None and self.instance.pk is None:
            try:
                check_attachment(uploaded)
            except ValidationError as exc:
                raise ValidationError(exc.message_dict.get("file", exc.messages)) from exc
        return uploaded


class AttachmentInline(admin.TabularInline):
    model = SOPAttachment
    form = AttachmentForm
    extra = 0
    fields = ["file", "download", "content_type", "size_kb"]
    readonly_fields = ["download", "content_type", "size_kb"]

    def get_fields(self, request, obj=None):
        if self._editable(request, obj):
            return ["file", "download", "content_type", "size_kb"]
        return ["download", "content_type", "size_kb"]

    def _editable(self, request, obj):
        return obj is not None and obj.status == SOPVersion.Status.DRAFT and obj.author_id == request.user.pk

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and request.user.has_perm("sops.add_sopattachment")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and request.user.has_perm("sops.delete_sopattachment")

    @admin.display(description="file")
    def download(self, obj):
        if not obj.pk:
            return ""
        return format_html('<a href="{}">{}</a>', reverse("admin:sops_sopattachment_download", args=[obj.pk]), obj.name)

    @admin.display(description="size")
    def size_kb(self, obj):
        return f"{obj.size / 1024:.0f} KB" if obj.pk else ""


class SOPVersionAddForm(forms.ModelForm):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 24, "cols": 100}),
        required=False,
        help_text="Markdown. Leave empty to start from the version in force.",
    )

    class Meta:
        model = SOPVersion
        fields = ["document", "change_summary", "body"]

    def clean_document(self):
        document = self.cleaned_data["document"]
        open_version = selectors.sop_open_version(document_id=document.pk)
        if open_version is not None:
            raise ValidationError(
                f"{open_version} is still {open_version.get_status_display().lower()}: finish or discard it first."
            )
        return document


class SOPVersionChangeForm(forms.ModelForm):
    class Meta:
        model = SOPVersion
        fields = ["change_summary", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 30, "cols": 100})}


class StatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return SOPVersion.Status.choices

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


class ToAcknowledgeFilter(admin.SimpleListFilter):
    """Published versions the signed-in person is asked to acknowledge and has not yet (the dashboard links here)."""

    title = "acknowledgement"
    parameter_name = "acknowledge"

    def lookups(self, request, model_admin):
        return [("me", "to acknowledge by me")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(pk__in=selectors.sop_versions_to_acknowledge(user=request.user).values("pk"))
        return queryset


@admin.register(SOPVersion)
class SOPVersionAdmin(admin.ModelAdmin):
    """Versions: written as drafts, reviewed by someone else, published, read and acknowledged."""

    list_display = ["version", "title", "status", "author", "reviewer", "published_at", "read_link"]
    list_filter = [StatusFilter, "document__area", ("author", admin.RelatedOnlyFieldListFilter), ToAcknowledgeFilter]
    list_select_related = ["document", "author", "reviewer"]
    search_fields = ["document__code", "document__title", "change_summary"]
    date_hierarchy = "published_at"
    ordering = ["document__code", "-number"]
    inlines = [AttachmentInline]
    actions = ["submit_review", "approve", "request_changes", "publish", "retire"]
    show_full_result_count = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = SOPVersionChangeForm if obj is not None else SOPVersionAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["document", "change_summary", "body"]
        if self._editable(request, obj):
            return ["version", "status", "change_summary", "body", "review_comment"]
        return ["version", "status", "change_summary", "rendered_body", "author", "reviewer", "published_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        if self._editable(request, obj):
            return ["version", "status", "review_comment"]
        return ["version", "status", "change_summary", "rendered_body", "author", "reviewer", "published_at"]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        document_id = request.GET.get("document")
        if document_id and document_id.isdigit():
            initial["document"] = int(document_id)
        return initial

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "document":
            kwargs["queryset"] = SOPDocument.objects.order_by("code")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _editable(self, request, obj):
        return obj.status == SOPVersion.Status.DRAFT and obj.author_id == request.user.pk

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or self._editable(request, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and obj is not None and obj.status == SOPVersion.Status.DRAFT

    def has_publish_permission(self, request):
        return request.user.has_perm("sops.publish_sop")

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # drafts are discarded one at a time, through the service
        return actions

    # Columns

    @admin.display(description="version", ordering="document__code")
    def version(self, obj):
        return str(obj)

    @admin.display(description="title", ordering="document__title")
    def title(self, obj):
        return obj.document.title

    @admin.display(description="read")
    def read_link(self, obj):
        return format_html('<a href="{}">read</a>', reverse("admin:sops_sopversion_read", args=[obj.pk]))

    @admin.display(description="body")
    def rendered_body(self, obj):
        return format_html('<div class="sop-body">{}</div>', render_markdown(obj.body))

    # Writes

    def save_model(self, request, obj, form, change):
        if change:
            saved = services.sop_version_update(
                version_id=obj.pk,
                actor=request.user,
                body=form.cleaned_data.get("body"),
                change_summary=form.cleaned_data.get("change_summary"),
            )
        else:
            saved = services.sop_version_create(
                document_id=form.cleaned_data["document"].pk,
                actor=request.user,
                change_summary=form.cleaned_data["change_summary"],
                body=form.cleaned_data.get("body") or None,
            )
            obj.pk = saved.pk
            obj._state.adding = False
            obj._state.db = saved._state.db
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        if formset.model is not SOPAttachment:
            return super().save_formset(request, form, formset, change)
        for attachment_form in formset.forms:
            if attachment_form in formset.deleted_forms:
                if attachment_form.instance.pk:
                    services.sop_attachment_remove(attachment_id=attachment_form.instance.pk, actor=request.user)
            elif attachment_form.instance.pk is None and attachment_form.cleaned_data.get("file"):
                services.sop_attachment_add(
                    version_id=form.instance.pk, actor=request.user, uploaded=attachment_form.cleaned_data["file"]
                )
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        services.sop_version_discard(version_id=obj.pk, actor=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (TransitionNotAllowed, ValidationError) as exc:
            self.message_user(request, f"Not saved: {_reason_of(exc)}", messages.ERROR)
            target = request.get_full_path()
            return HttpResponseRedirect(target)

    def response_add(self, request, obj, post_url_continue=None):
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            self.message_user(request, f"{obj} created as a draft.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:sops_sopversion_read", args=[obj.pk]))
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_continue" not in request.POST and "_addanother" not in request.POST:
            self.message_user(request, f"{obj} saved.", messages.SUCCESS)
            return HttpResponseRedirect(reverse("admin:sops_sopversion_read", args=[obj.pk]))
        return super().response_change(request, obj)

    # Actions

    submit_review = transition_action(
        services.sop_version_submit_review,
        id_arg="version_id",
        verb="submitted for review",
        description="Submit selected drafts for review",
        permissions=["change"],
        confirm=False,
    )
    approve = transition_action(
        services.sop_version_approve,
        id_arg="version_id",
        verb="approved",
        description="Approve selected versions in review",
        permissions=["publish"],
    )
    request_changes = transition_action(
        services.sop_version_request_changes,
        id_arg="version_id",
        verb="sent back",
        description="Send selected versions back to their authors",
        permissions=["publish"],
        reason="What needs to change",
    )
    publish = transition_action(
        services.sop_version_publish,
        id_arg="version_id",
        verb="published",
        description="Publish selected reviewed versions",
        permissions=["publish"],
    )
    retire = transition_action(
        services.sop_version_retire,
        id_arg="version_id",
        verb="retired",
        description="Retire selected published versions",
        permissions=["publish"],
        reason="Why it is withdrawn",
    )

    # Views

    def get_urls(self):
        view = self.admin_site.admin_view
        urls = [
            path("<int:version_id>/read/", view(self.read_view), name="sops_sopversion_read"),
            path("<int:version_id>/diff/", view(self.diff_view), name="sops_sopversion_diff"),
            path("search/", view(self.search_view), name="sops_sopversion_search"),
            path(
                "attachments/<int:attachment_id>/download/",
                view(self.download_view),
                name="sops_sopattachment_download",
            ),
        ]
        return urls + super().get_urls()

    def _context(self, request, **extra):
        request.current_app = self.admin_site.name
        return {**self.admin_site.each_context(request), "opts": self.model._meta, **extra}

    READ_TRANSITIONS = {
        "acknowledge": (services.sop_version_acknowledge, "acknowledged", False),
        "submit_review": (services.sop_version_submit_review, "submitted for review", False),
        "approve": (services.sop_version_approve, "approved", False),
        "publish": (services.sop_version_publish, "published", False),
        "request_changes": (services.sop_version_request_changes, "sent back to its author", True),
        "retire": (services.sop_version_retire, "retired", True),
    }

    def read_view(self, request, version_id):
        """One version as its readers see it, with what the signed-in person may do with it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(
            SOPVersion.objects.select_related("document", "document__owner", "author", "reviewer", "published_by"),
            pk=version_id,
        )
        if request.method == "POST":
            return self._read_transition(request, version)
        user = request.user
        acknowledgement = selectors.sop_acknowledgement_of(version_id=version.pk, user=user)
        current = version.document.current_version_id
        previous = selectors.sop_version_previous(version=version)
        Status = SOPVersion.Status
        can_publish = user.has_perm("sops.publish_sop") and user.pk != version.author_id
        context = self._context(
            request,
            title=f"{version.document.code} {version.document.title}",
            version=version,
            document=version.document,
            body_html=render_markdown(version.body),
            attachments=list(version.attachments.all()),
            acknowledgement=acknowledgement,
            in_audience=selectors.sop_is_in_audience(document=version.document, user=user),
            current_url=reverse("admin:sops_sopversion_read", args=[current])
            if current and current != version.pk
            else "",
            previous=previous,
            diff_url=_diff_url(version, previous) if previous else "",
            history=list(selectors.sop_version_history(document_id=version.document_id)),
            can_acknowledge=version.status == Status.PUBLISHED and user.has_perm("sops.add_acknowledgement"),
            can_edit=self._editable(request, version) and user.has_perm("sops.change_sopversion"),
            can_submit=version.status == Status.DRAFT and user.pk == version.author_id,
            can_review=version.status == Status.IN_REVIEW and can_publish and version.reviewed_at is None,
            can_publish=version.status == Status.IN_REVIEW
            and user.has_perm("sops.publish_sop")
            and (version.reviewed_at is not None or user.pk != version.author_id),
            can_retire=version.status == Status.PUBLISHED and user.has_perm("sops.publish_sop"),
            can_see_compliance=user.has_perm("sops.view_acknowledgement"),
            change_url=reverse("admin:sops_sopversion_change", args=[version.pk]),
        )
        return TemplateResponse(request, "admin/sops/read.html", context)

    def _read_transition(self, request, version):
        name = request.POST.get("transition", "")
        if name not in self.READ_TRANSITIONS:
            raise Http404("Unknown transition.")
        transition, verb, needs_reason = self.READ_TRANSITIONS[name]
        kwargs = {}
        if needs_reason:
            kwargs["reason"] = request.POST.get("reason", "")
        try:
            transition(version_id=version.pk, actor=request.user, **kwargs)
        except REFUSALS as exc:
            audit.record(action=f"sop_version.{name}", outcome="denied", target=version, message=_reason_of(exc))
            self.message_user(request, f"Not {verb}: {_reason_of(exc)}", messages.ERROR)
        else:
            self.message_user(request, f"{version} {verb}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:sops_sopversion_read", args=[version.pk]))

    def diff_view(self, request, version_id):
        """What changed between two versions of the same SOP (by default: from the one before)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        version = get_object_or_404(SOPVersion.objects.select_related("document"), pk=version_id)
        against_id = request.GET.get("against", "")
        if against_id.isdigit():
            against = get_object_or_404(SOPVersion, pk=int(against_id), document_id=version.document_id)
        else:
            against = selectors.sop_version_previous(version=version)
        old, new = (against, version) if against is None or against.number < version.number else (version, against)
        lines = diff_lines(
            old.body if old else "",
            new.body,
            old_label=f"v{old.number}" if old else "empty",
            new_label=f"v{new.number}",
        )
        context = self._context(
            request,
            title=f"{version.document.code}: changes from {f'v{old.number}' if old else 'nothing'} to v{new.number}",
            document=version.document,
            old=old,
            new=new,
            lines=lines,
            history=list(selectors.sop_version_history(document_id=version.document_id)),
        )
        return TemplateResponse(request, "admin/sops/diff.html", context)

    def search_view(self, request):
        """Search the titles and bodies of the versions in force."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.get("q", "").strip()[:200]
        area = request.GET.get("area") or None
        if area not in (None, *Area.values):
            area = None
        results = list(selectors.sop_search(query=query, area=area)[:50]) if query else []
        context = self._context(
            request, title="Search SOPs", query=query, results=results, areas=Area.choices, area=area
        )
        return TemplateResponse(request, "admin/sops/search.html", context)

    def download_view(self, request, attachment_id):
        if not request.user.has_perm("sops.view_sopattachment"):
            raise PermissionDenied
        attachment = get_object_or_404(SOPAttachment, pk=attachment_id)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404("The file is missing from storage.") from exc
        response = FileResponse(handle, as_attachment=True, filename=attachment.name)
        response["Content-Type"] = attachment.content_type
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


# --- Acknowledgements ---------------------------------------------------------------------------


@admin.register(Acknowledgement)
class AcknowledgementAdmin(admin.ModelAdmin):
    """Who read which version when. Made from the reading view; never changed or deleted."""

    list_display = ["acknowledged_at", "user", "sop_version", "area"]
    list_filter = ["version__document__area", ("version__status", admin.ChoicesFieldListFilter)]
    list_select_related = ["user", "version", "version__document"]
    search_fields = ["user__username", "user__last_name", "version__document__code"]
    date_hierarchy = "acknowledged_at"
    readonly_fields = ["version", "user", "acknowledged_at"]
    fields = readonly_fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="version", ordering="version__document__code")
    def sop_version(self, obj):
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:sops_sopversion_read", args=[obj.version_id]), obj.version
        )

    @admin.display(description="area")
    def area(self, obj):
        return obj.version.document.get_area_display()

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["compliance_url"] = reverse("admin:sops_sopdocument_compliance")
        return super().changelist_view(request, extra_context)
