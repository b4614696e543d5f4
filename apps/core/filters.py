import django_filters
from auditlog.models import LogEntry
from django.contrib.auth import get_user_model

from apps.core.models import AuditEvent
from apps.core.models.audit import PATH_CHOICES


class AuditEventFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")
    target_model = django_filters.CharFilter(field_name="target_type__model")

    class Meta:
        model = AuditEvent
        fields = ["action", "outcome", "actor", "username", "path", "target_model", "target_id"]


class ChangeFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="timestamp", lookup_expr="lt")
    model = django_filters.CharFilter(method="filter_model", help_text="app_label.model, e.g. auth.user")
    path = django_filters.ChoiceFilter(choices=PATH_CHOICES, field_name="additional_data__path")
    action = django_filters.ChoiceFilter(
        choices=[("create", "create"), ("update", "update"), ("delete", "delete")], method="filter_action"
    )

    class Meta:
        model = LogEntry
        fields = ["actor", "path", "object_pk", "model", "action"]

    def filter_model(self, queryset, name, value):
        app_label, _, model = value.lower().partition(".")
        return queryset.filter(content_type__app_label=app_label, content_type__model=model)

    def filter_action(self, queryset, name, value):
        codes = {
            "create": LogEntry.Action.CREATE,
            "update": LogEntry.Action.UPDATE,
            "delete": LogEntry.Action.DELETE,
        }
        return queryset.filter(action=codes[value])


class UserFilter(django_filters.FilterSet):
    group = django_filters.CharFilter(field_name="groups__name")

    class Meta:
        model = get_user_model()
        fields = ["is_active", "group"]
