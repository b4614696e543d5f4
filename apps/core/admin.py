from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.utils.html import format_html

from apps.core.models import AuditEvent, Notification
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
