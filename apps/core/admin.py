import hashlib
from itertools import chain

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import SEARCH_VAR
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connections
from django.db.models import Q, Value
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from import_export.admin import ExportMixin

from apps.core import audit, exports, imports
from apps.core.admin_list import admin_change_url
from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import AuditEvent, ExportJob, ImportJob, Notification
from apps.core.models.audit import PATH_CHOICES
from apps.core.models.reports import ReportRun
from apps.core.paginator import EstimatedCountPaginator, distinct_values, with_estimated_dates
from apps.core.services.notifications import notifications_mark_read

# --- Lists over big tables ---------------------------------------------------------------------

SEARCH_PREFIXES = {"=": "iexact", "^": "istartswith"}


class LargeTableAdminMixin:
    """A changelist that costs the same at millions of rows as on demo data.

    No exact COUNT of a big table (an estimate unfiltered, a capped count filtered: "10,000+"), a date
    drill-down from MIN/MAX instead of SELECT DISTINCT, and searches an index can answer: the model's own
    ``search_fields`` (use ``=field`` or ``^field`` with a matching ``Upper(...)`` index) plus
    ``search_related``, e.g. ``{"order": ["=reference"]}``: the matching related rows are looked up first
    (indexed lookups, all relations in one query, at most ``search_related_limit`` each) and the list is
    filtered by their keys. A searched list reads its drill-down's MIN/MAX with its capped count.
    """

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    search_related: dict[str, list[str]] = {}
    search_related_limit = 1000
    fast_result_rows = True  # rows drawn by apps.core.admin_list (the same markup, each column worked out once)

    def action_checkbox(self, obj):
        """The row's checkbox, the same markup as Django's widget without rendering a template per row."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    def get_paginator(self, request, queryset, per_page, orphans=0, allow_empty_first_page=True):
        paginator = super().get_paginator(request, queryset, per_page, orphans, allow_empty_first_page)
        if self.date_hierarchy and request.GET.get(SEARCH_VAR) and isinstance(paginator, EstimatedCountPaginator):
            # A search narrows the list to a few rows: the drill-down's MIN/MAX come with its capped count.
            # (A broad filter keeps its index-only count and its two-endpoint MIN/MAX.)
            paginator.bounds_field = self.date_hierarchy
        return paginator

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        changelist.queryset = with_estimated_dates(changelist.queryset)  # read by the date drill-down only
        bounds = getattr(changelist.paginator, "bounds", None)
        if bounds is not None:
            changelist.queryset.remember_bounds(self.date_hierarchy, bounds)
        return changelist

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term or not self.search_related:
            return results, may_have_duplicates
        for relation, keys in self._related_keys(term).items():
            results = results | queryset.filter(**{f"{relation}__in": keys})
        return results, may_have_duplicates

    def _related_keys(self, term: str) -> dict[str, list]:
        """The keys of the related rows matching ``term``, per relation: one query for every relation (UNION ALL)."""
        lookups = []
        for n, (relation, fields) in enumerate(self.search_related.items()):
            related_model = self.model._meta.get_field(relation).related_model
            condition = Q()
            for field in fields:
                lookup = SEARCH_PREFIXES.get(field[0])
                condition |= Q(**{f"{field[1:]}__{lookup}" if lookup else f"{field}__icontains": term})
            lookups.append(
                related_model._default_manager.filter(condition)
                .annotate(search_relation=Value(n))
                .order_by()
                .values_list("search_relation", "pk")[: self.search_related_limit]
            )
        if (
            len(lookups) > 1
            and connections[self.model._default_manager.db].features.supports_slicing_ordering_in_compound
        ):
            rows = lookups[0].union(*lookups[1:], all=True)
        else:  # one relation, or a database (SQLite) that cannot limit each part of a UNION: one query each
            rows = chain.from_iterable(lookups)
        relations = list(self.search_related)
        keys: dict[str, list] = {}
        for n, pk in rows:
            keys.setdefault(relations[n], []).append(pk)
        return keys


def indexed_values_filter(field_name: str, title: str | None = None):
    """A list filter over a column without choices whose values come from walking its index, not DISTINCT."""

    class IndexedValuesListFilter(admin.SimpleListFilter):
        parameter_name = field_name

        def lookups(self, request, model_admin):
            return [(value, value) for value in distinct_values(model_admin.model, field_name)]

        def queryset(self, request, queryset):
            return queryset.filter(**{field_name: self.value()}) if self.value() else queryset

    IndexedValuesListFilter.title = title or field_name
    return IndexedValuesListFilter


class RegisteredModelFilter(admin.SimpleListFilter):
    """Record changes by model: the models on the audit trail, without a DISTINCT over every change."""

    title = "model"
    parameter_name = "content_type"

    def lookups(self, request, model_admin):
        from auditlog.registry import auditlog

        types = ContentType.objects.get_for_models(*auditlog.get_models())
        return sorted(((ct.pk, ct.name) for ct in types.values()), key=lambda choice: str(choice[1]))

    def queryset(self, request, queryset):
        return queryset.filter(content_type_id=self.value()) if str(self.value() or "").isdigit() else queryset


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


# --- Exports -------------------------------------------------------------------------------------


class PortalExportMixin(ExportMixin):
    """Admin exports: only with ``export_records``, formula-safe, and each one on the audit trail.

    A selection above ``EXPORT_ASYNC_THRESHOLD_ROWS`` rows becomes an export job: the worker writes the
    file and the person gets a notification with the link. Either way the file has exactly the fields
    ticked on the export form, in the resource's order, and the audit event names its columns.
    """

    def has_export_permission(self, request):
        return request.user.is_active and request.user.has_perm("core.export_records")

    def get_data_for_export(self, request, queryset, **kwargs):
        return exports.sanitized(super().get_data_for_export(request, queryset, **kwargs))

    def get_export_data(self, file_format, request, queryset, **kwargs):
        from apps.core.services.exports import admin_export_choice

        data = super().get_export_data(file_format, request, queryset, **kwargs)
        content = data.encode("utf-8") if isinstance(data, str) else data
        _, _, columns = admin_export_choice(self, request, kwargs.get("export_form"))
        audit.record(
            action="records.exported",
            actor=request.user,
            data={
                "what": self.model._meta.label_lower,
                "format": file_format.get_title(),
                "rows": queryset.count(),
                "filters": {key: request.GET.getlist(key) for key in request.GET},
                "sha256": hashlib.sha256(content).hexdigest(),
                "columns": columns,
            },
        )
        return data

    def _do_file_export(self, file_format, request, queryset, export_form=None):
        from apps.core.services.exports import admin_export_choice, admin_source, export_is_large, export_job_create

        row_count = queryset.count()
        if not export_is_large(row_count):
            return super()._do_file_export(file_format, request, queryset, export_form=export_form)
        ticked = export_form.cleaned_data.get("export_items") if export_form is not None else None
        resource, fields, columns = admin_export_choice(self, request, export_form)
        job = export_job_create(
            actor=request.user,
            target=self.model._meta.label_lower,
            file_format=file_format.get_title().lower(),
            source=admin_source(self, request, ids=ticked, resource=resource, fields=fields),
            filters={key: request.GET.getlist(key) for key in request.GET},
            columns=columns,
        )
        self.message_user(
            request,
            f"{row_count:,} rows are more than a download at once: the worker is writing the file. "
            "You will get a notification with the link when it is ready.",
        )
        return HttpResponseRedirect(reverse("admin:core_exportjob_change", args=[job.pk]))


admin.site.unregister(LogEntry)


@admin.register(LogEntry)
class ChangeAdmin(PortalExportMixin, LargeTableAdminMixin, ReadOnlyAdminMixin, LogEntryAdmin):
    """Record changes: every create, update and delete of a registered record (exportable by auditors)."""

    list_display = ["created", "resource_url", "action", "msg_short", "user_url", "path"]
    list_filter = ["action", PathFilter, RegisteredModelFilter]
    search_fields = ["object_repr", "object_pk", "actor__username"]
    readonly_fields = ["created", "resource_url", "action", "user_url", "path", "request_line", "remote_addr", "msg"]
    fieldsets = [
        (None, {"fields": ["created", "user_url", "path", "request_line", "remote_addr", "resource_url"]}),
        ("Changes", {"fields": ["action", "msg"]}),
    ]
    show_full_result_count = False

    @admin.display(description="path")
    def path(self, obj):
        return (obj.additional_data or {}).get("path", "")

    # django-auditlog's two link columns, with each model's change URL reversed once per page, not per row
    @admin.display(description=LogEntryAdmin.user_url.short_description)
    def user_url(self, obj):
        if not obj.actor:
            return "system"
        app_label, model = settings.AUTH_USER_MODEL.split(".")
        try:
            link = admin_change_url(app_label, model.lower(), obj.actor.pk)
        except NoReverseMatch:
            return str(obj.actor)
        return format_html('<a href="{}">{}</a>', link, obj.actor)

    @admin.display(description=LogEntryAdmin.resource_url.short_description)
    def resource_url(self, obj):
        content_type = obj.content_type
        try:
            pk = obj.object_pk if obj.object_id is None else obj.object_id
            link = admin_change_url(content_type.app_label, content_type.model, pk)
        except NoReverseMatch:
            return obj.object_repr
        return format_html('<a href="{}">{} - {}</a>', link, content_type, obj.object_repr)

    # not "request": django-auditlog's admin keeps the current request in self.request
    @admin.display(description="request")
    def request_line(self, obj):
        return (obj.additional_data or {}).get("request", "")


@admin.register(AuditEvent)
class AuditEventAdmin(PortalExportMixin, LargeTableAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """The event log: approvals, exports, imports, logins and denied requests (exportable by auditors)."""

    date_hierarchy = "timestamp"
    list_display = ["timestamp", "action", "outcome", "username", "path", "target_repr", "remote_addr"]
    list_filter = ["outcome", "path", indexed_values_filter("action")]
    search_fields = ["username", "target_repr", "target_id"]
    list_select_related = ["actor", "target_type"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    show_full_result_count = False


admin.site.unregister(User)


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    """Users are deactivated, never deleted: their names stay on the audit trail."""

    change_list_template = "admin/auth/user/change_list.html"

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "conflicting-duties/",
                self.admin_site.admin_view(self.conflicting_duties_view),
                name="core_conflicting_duties",
            ),
            *super().get_urls(),
        ]

    def conflicting_duties_view(self, request):
        """Users who could change vendor bank details and let money out; CSV / XLSX with export_records."""
        from django.template.response import TemplateResponse

        from apps.core.selectors import CONFLICTING_DUTIES_HEADERS, conflicting_duties, conflicting_duties_table

        if not request.user.has_perm("auth.view_user"):
            raise PermissionDenied
        conflicts = conflicting_duties()
        fmt = request.GET.get("format")
        if fmt in exports.CONTENT_TYPES:  # needs export_records; recorded on the audit trail
            return exports.export_response(
                actor=request.user,
                name="conflicting-duties",
                headers=CONFLICTING_DUTIES_HEADERS,
                rows=conflicting_duties_table(conflicts),
                fmt=fmt,
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Conflicting duties",
            "conflicts": conflicts,
            "can_export": request.user.has_perm(exports.EXPORT_PERMISSION),
        }
        return TemplateResponse(request, "admin/core/conflicting_duties.html", context)


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
        except ValidationError as exc:
            self.message_user(request, f"Not confirmed: {' '.join(exc.messages)}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:core_importjob_changelist"))
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


# --- Export jobs and evidence packs -------------------------------------------------------------


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Each person's large exports and evidence packs: status, SHA-256, and the file once the worker is done."""

    list_display = ["__str__", "kind", "status", "rows", "created_at", "finished_at", "download_link"]
    list_filter = ["kind", "status"]
    fields = [
        "kind",
        "target",
        "file_format",
        "filters",
        "columns",
        "status",
        "rows",
        "sha256",
        "message",
        "created_at",
        "finished_at",
        "expired_at",
        "download_link",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).filter(created_by=request.user)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.has_perm(exports.EXPORT_PERMISSION)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request) and (obj is None or obj.created_by_id == request.user.pk)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="columns")
    def columns(self, obj):
        fields = obj.source.get("fields") if isinstance(obj.source, dict) else None
        return ", ".join(fields) if fields else "all"

    @admin.display(description="file")
    def download_link(self, obj):
        if obj.expired_at is not None:
            return f"expired {obj.expired_at:%Y-%m-%d}"
        if not obj.is_ready:
            return "—"
        return format_html('<a href="{}">download</a>', reverse("admin:core_exportjob_download", args=[obj.pk]))

    def get_urls(self):
        download = path(
            "<int:job_id>/download/", self.admin_site.admin_view(self.download_view), name="core_exportjob_download"
        )
        return [download, *super().get_urls()]

    def download_view(self, request, job_id):
        from apps.core.services.exports import ExportFileExpired, export_job_download

        if not ExportJob.objects.filter(pk=job_id).exists():
            raise Http404("No such export.")
        try:
            job = export_job_download(job_id=job_id, actor=request.user)
        except ExportFileExpired as exc:
            self.message_user(request, str(exc), messages.WARNING)
            return HttpResponseRedirect(reverse("admin:core_exportjob_change", args=[job_id]))
        except TransitionNotAllowed as exc:
            raise Http404(str(exc)) from exc
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.download_name)


@admin.action(description="Build evidence pack", permissions=["evidence_pack"])
def build_evidence_pack(modeladmin, request, queryset):
    """An evidence pack of the ticked records (or, with "select all", the whole filtered list), built by the worker."""
    from apps.core.services.evidence import evidence_pack_request

    try:
        job = evidence_pack_request(
            actor=request.user,
            target=modeladmin.model._meta.label_lower,
            ids=list(queryset.values_list("pk", flat=True)),
        )
    except (ValidationError, PermissionDenied) as exc:
        problems = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        modeladmin.message_user(request, f"No evidence pack: {problems}", messages.ERROR)
        return None
    modeladmin.message_user(
        request,
        f"The worker is building the evidence pack of {len(job.source['ids']):,} record(s); "
        "you will get a notification with the link.",
    )
    return HttpResponseRedirect(reverse("admin:core_exportjob_change", args=[job.pk]))


class EvidencePackActionMixin:
    """Adds "Build evidence pack" to a changelist, for people with ``export_records``."""

    def _get_base_actions(self):
        return [*super()._get_base_actions(), self.get_action(build_evidence_pack)]

    def has_evidence_pack_permission(self, request):
        return request.user.is_active and request.user.has_perm(exports.EXPORT_PERMISSION)


# --- Reports center -------------------------------------------------------------------------------

RUNS_SHOWN = 10  # past runs listed per report kind


class ReportKindFilter(admin.SimpleListFilter):
    """Runs by report, from the registry instead of a DISTINCT over the runs."""

    title = "report"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        from apps.core import reports

        return [(kind.key, kind.label) for kind in reports.all_kinds() if kind.generic]

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(ReportRun)
class ReportRunAdmin(admin.ModelAdmin):
    """The portal's own report runs, read-only; people run reports and download files in the reports center."""

    list_display = ["__str__", "kind", "scheduled", "status", "row_count", "created_by", "created_at", "finished_at"]
    list_filter = [ReportKindFilter, "status", "scheduled"]
    list_select_related = ["created_by"]
    readonly_fields = [
        "kind",
        "parameters",
        "scheduled",
        "status",
        "row_count",
        "csv_sha256",
        "xlsx_sha256",
        "message",
        "created_by",
        "created_at",
        "started_at",
        "finished_at",
    ]
    fields = readonly_fields
    change_list_template = "admin/core/reports/reportrun_change_list.html"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _form_errors_from(form, exc) -> None:
    """A service's refusal shown on the form: next to the field it names, or above the form."""
    messages_by_field = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, field_messages in messages_by_field.items():
        form.add_error(field if field in form.fields else None, " ".join(field_messages))


def reports_center_view(request):
    """Every report the person may see: a run form, its schedules and its past runs with their files."""
    from django.core.exceptions import ValidationError
    from django.template.response import TemplateResponse

    from apps.core import reports

    user = request.user
    kinds = reports.kinds_for(user)
    can_edit_schedules = user.has_perm("django_celery_beat.change_periodictask")
    if not kinds and not can_edit_schedules:
        raise PermissionDenied("You may not see any report.")
    bound = {}
    if request.method == "POST":
        kind = reports.get(request.POST.get("kind", ""))
        if kind is None or not kind.can_run(user):
            raise PermissionDenied("You may not run this report.")
        form = kind.form_class(request.POST, prefix=kind.key)
        if form.is_valid():
            try:
                run = kind.request(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                _form_errors_from(form, exc)
            except PermissionDenied as exc:
                raise PermissionDenied(str(exc) or "You may not run this report.") from exc
            else:
                messages.success(
                    request, f"{kind.label} run #{run.pk} requested: it is listed below with its files once ready."
                )
                return HttpResponseRedirect(f"{reverse('admin:reports_center')}#{kind.key}")
        bound[kind.key] = form
    # those who keep schedules see every report's schedules, also of reports whose data they do not read
    schedules = reports.schedules_by_kind(reports.all_kinds() if can_edit_schedules else kinds)
    can_add_schedules = user.has_perm("django_celery_beat.add_periodictask")
    sections = []
    for kind in kinds:
        can_run = kind.can_run(user)
        sections.append(
            {
                "kind": kind,
                "form": bound.get(kind.key) or (kind.form_class(prefix=kind.key) if can_run else None),
                "runs": [kind.summary(run) for run in kind.runs()[:RUNS_SHOWN]],
                "schedules": schedules.get(kind.key, []),
                "can_download": kind.can_download(user),
                "add_schedule_url": reports.new_schedule_url(kind) if kind.generic and can_add_schedules else "",
            }
        )
    context = {
        **admin.site.each_context(request),
        "title": "Reports",
        "sections": sections,
        "can_edit_schedules": can_edit_schedules,
        "all_schedules": [(kind, task) for kind in reports.all_kinds() for task in schedules.get(kind.key, [])]
        if can_edit_schedules
        else [],
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "admin/core/reports/center.html", context)


def reports_download_view(request, kind, run_id, fmt):
    """One run's file, for those who may see the report and export records; an export event on the trail."""
    from apps.core import reports

    return reports.report_download_response(actor=request.user, kind=kind, run_id=run_id, fmt=fmt)


def _with_reports_center(site_get_urls):
    def get_urls():
        return [
            path("reports/", admin.site.admin_view(reports_center_view), name="reports_center"),
            path(
                "reports/<str:kind>/<int:run_id>/<str:fmt>/",
                admin.site.admin_view(reports_download_view),
                name="reports_center_download",
            ),
            *site_get_urls(),
        ]

    return get_urls


admin.site.get_urls = _with_reports_center(admin.site.get_urls)


# --- Bulk actions of third-party admins ----------------------------------------------------------


class ActionsNeedPermissionMixin:
    """Bulk actions declared without permissions (enable a schedule, clear attempts) change rows, so
    they are offered only to people with ``action_permission`` on the model — never to readers."""

    action_permission = "change"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if getattr(self, f"has_{self.action_permission}_permission")(request):
            return actions
        return {name: action for name, action in actions.items() if name == "delete_selected"}


def _require_permission_for_actions(model, permission: str) -> None:
    current = type(admin.site._registry[model])
    admin.site.unregister(model)
    guarded = type(current.__name__, (ActionsNeedPermissionMixin, current), {"action_permission": permission})
    admin.site.register(model, guarded)


def _guard_third_party_actions() -> None:
    from axes.models import AccessAttempt
    from django_celery_beat.models import PeriodicTask

    _require_permission_for_actions(PeriodicTask, "change")
    _require_permission_for_actions(AccessAttempt, "delete")  # clearing expired attempts deletes them


_guard_third_party_actions()
