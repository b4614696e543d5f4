import hashlib

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from import_export.admin import ExportMixin

from apps.core import audit, exports, imports
from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import AuditEvent, ImportJob, Notification
from apps.core.models.audit import PATH_CHOICES
from apps.core.services.notifications import notifications_mark_read


class ReadOnlyAdminMixin:
    """The audit trail is read, filtered and exported; nobody adds, changes or deletes it."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PathFilter(admin.SimpleListFilter):
    title = "path"
    parameter_name = "path"

    def lookups(self, request, model_admin):
        return PATH_CHOICES

    def queryset(self, request, queryset):
        return queryset.filter(additional_data__path=self.value()) if self.value() else queryset


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ChangeAdmin(ReadOnlyAdminMixin, LogEntryAdmin):
    """Record changes: every create, update and delete of a registered record."""

    list_display = ["created", "resource_url", "action", "msg_short", "user_url", "path"]
    list_filter = ["action", PathFilter, ("content_type", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["object_repr", "object_pk", "actor__username"]
    readonly_fields = ["created", "resource_url", "action", "user_url", "path", "request", "remote_addr", "msg"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "path", "request", "remote_addr", "resource_url"]}),
        ("Changes", {"fields": ["action", "msg"]}),
    ]
    show_full_result_count = False

    @admin.display(description="path")
    def path(self, obj):
        return (obj.additional_data or {}).get("path", "")

    @admin.display(description="request")
    def request(self, obj):
        return (obj.additional_data or {}).get("request", "")


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    date_hierarchy = "timestamp"
    list_display = ["timestamp", "action", "outcome", "username", "path", "target_repr", "remote_addr"]
    list_filter = ["outcome", "path", "action"]
    search_fields = ["username", "target_repr", "target_id"]
    list_select_related = ["actor", "target_type"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    show_full_result_count = False


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """Users are deactivated, never deleted: their names stay on the audit trail."""

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    """Each person sees their own notifications; opening the list is how they read them."""

    list_display = ["title", "created_at", "is_read", "link"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    fields = ["title", "body", "url", "created_at", "read_at"]
    readonly_fields = fields
    actions = ["mark_read"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(recipient=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or obj.recipient_id == request.user.pk)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(boolean=True, description="read")
    def is_read(self, obj):
        return obj.read_at is not None

    @admin.display(description="open")
    def link(self, obj):
        return format_html('<a href="{}">open</a>', obj.url) if obj.url else ""

    @admin.action(description="Mark selected notifications as read")
    def mark_read(self, request, queryset):
        updated = notifications_mark_read(user=request.user, notification_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{updated} notification(s) marked as read.")


# --- Import jobs --------------------------------------------------------------------------------


class ImportJobForm(forms.ModelForm):
    target = forms.ChoiceField(label="Import into")
    encoding = forms.ChoiceField(choices=list(imports.ENCODINGS.items()), initial="utf-8")

    class Meta:
        model = ImportJob
        fields = ["target", "file", "encoding", "dry_run"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [(t.key, t.label) for t in imports.targets_for(user)]
        self.fields["dry_run"].initial = True
        self.fields["file"].help_text = (
            f"CSV or XLSX, at most {settings.IMPORT_MAX_BYTES // (1024 * 1024)} MB and "
            f"{settings.IMPORT_MAX_ROWS:,} rows. The first row holds the column names."
        )


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Uploads become jobs a worker validates; a dry run shows what would change, then the person confirms."""

    list_display = ["original_name", "target", "dry_run", "status", "progress", "created_by", "created_at"]
    list_filter = ["status", "dry_run", "target"]
    list_select_related = ["created_by"]
    search_fields = ["original_name"]
    change_form_template = "admin/core/importjob/change_form.html"
    show_full_result_count = False

    def get_queryset(self, request):
        jobs = super().get_queryset(request)
        return jobs if request.user.has_perm("core.view_importjob") else jobs.filter(created_by=request.user)

    def has_module_permission(self, request):
        return self.has_add_permission(request) or request.user.has_perm("core.view_importjob")

    def has_view_permission(self, request, obj=None):
        if request.user.has_perm("core.view_importjob"):
            return True
        return self.has_add_permission(request) and (obj is None or obj.created_by_id == request.user.pk)

    def has_add_permission(self, request):
        return bool(imports.targets_for(request.user))

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="progress")
    def progress(self, obj):
        from apps.core.services.imports import import_job_progress

        return f"{import_job_progress(obj)} / {obj.rows_total}" if obj.rows_total else "—"

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class BoundImportJobForm(ImportJobForm):
            def __init__(self, *args, **kw):
                kw.setdefault("initial", {}).setdefault("target", request.GET.get("target", ""))
                super().__init__(*args, user=user, **kw)

        return BoundImportJobForm

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["target", "file", "encoding", "dry_run"]
        return ["original_name", "target", "dry_run", "status", "rows_total", "message", "created_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        from apps.core.services.imports import import_job_create

        job = import_job_create(
            actor=request.user,
            target=form.cleaned_data["target"],
            uploaded_file=form.cleaned_data["file"],
            dry_run=form.cleaned_data["dry_run"],
            encoding=form.cleaned_data["encoding"],
        )
        obj.pk = job.pk
        obj.refresh_from_db()

    def response_add(self, request, obj, post_url_continue=None):
        self.message_user(request, f"{obj.original_name} is queued: this page shows its progress.")
        return HttpResponseRedirect(reverse("admin:core_importjob_change", args=[obj.pk]))

    def get_urls(self):
        return [
            path("<int:job_id>/confirm/", self.admin_site.admin_view(self.confirm_view), name="core_importjob_confirm"),
            path(
                "<int:job_id>/error-report/",
                self.admin_site.admin_view(self.error_report_view),
                name="core_importjob_error_report",
            ),
            *super().get_urls(),
        ]

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if object_id:
            from apps.core.services.imports import import_job_progress

            job = self.get_object(request, object_id)
            if job is not None:
                extra_context = {
                    **(extra_context or {}),
                    "job": job,
                    "rows_processed": import_job_progress(job),
                    "can_confirm": job.can_confirm and job.created_by_id == request.user.pk,
                    "status_url": reverse("importjob-detail", args=[job.pk]),
                }
        return super().changeform_view(request, object_id, form_url, extra_context)

    def confirm_view(self, request, job_id):
        from apps.core.services.imports import import_job_confirm

        if request.method != "POST":
            return HttpResponseRedirect(reverse("admin:core_importjob_change", args=[job_id]))
        try:
            import_job_confirm(job_id=job_id, actor=request.user)
            self.message_user(
                request, "Confirmed: the worker is importing the file; nothing is written unless every row is valid."
            )
        except (TransitionNotAllowed, PermissionDenied) as exc:
            self.message_user(request, f"Not confirmed: {exc}", messages.ERROR)
        return HttpResponseRedirect(reverse("admin:core_importjob_change", args=[job_id]))

    def error_report_view(self, request, job_id):
        job = self.get_object(request, str(job_id))
        if job is None or not job.error_report:
            raise Http404("No error report.")
        return FileResponse(job.error_report.open("rb"), as_attachment=True, filename=f"import-{job.pk}-errors.csv")


class ImportJobLinkMixin:
    """Puts an "Import" button on a changelist that starts an import job for ``import_target``."""

    import_target: str = ""
    change_list_template = "admin/core/change_list_with_import.html"

    def changelist_view(self, request, extra_context=None):
        target = imports.get(self.import_target)
        if target is not None and target.allowed_for(request.user):
            url = f"{reverse('admin:core_importjob_add')}?target={target.key}"
            extra_context = {**(extra_context or {}), "import_url": url}
        return super().changelist_view(request, extra_context)


class PortalExportMixin(ExportMixin):
    """Admin exports: only with ``export_records``, formula-safe, and each one on the audit trail."""

    def has_export_permission(self, request):
        return request.user.is_active and request.user.has_perm("core.export_records")

    def get_data_for_export(self, request, queryset, **kwargs):
        return exports.sanitized(super().get_data_for_export(request, queryset, **kwargs))

    def get_export_data(self, file_format, request, queryset, **kwargs):
        data = super().get_export_data(file_format, request, queryset, **kwargs)
        content = data.encode("utf-8") if isinstance(data, str) else data
        audit.record(
            action="records.exported",
            actor=request.user,
            data={
                "what": self.model._meta.label_lower,
                "format": file_format.get_title(),
                "rows": queryset.count(),
                "filters": {key: request.GET.getlist(key) for key in request.GET},
                "sha256": hashlib.sha256(content).hexdigest(),
            },
        )
        return data
