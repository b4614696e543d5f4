from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework import serializers

from apps.core.models import AuditEvent, Notification


class UserSerializer(serializers.ModelSerializer):
    groups = serializers.SlugRelatedField(slug_field="name", many=True, queryset=Group.objects.all(), required=False)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "first_name", "last_name", "email", "is_active", "groups", "last_login"]
        read_only_fields = ["last_login"]


class UserUpdateSerializer(UserSerializer):
    class Meta(UserSerializer.Meta):
        read_only_fields = ["username", "last_login"]


class GroupSerializer(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["id", "name"]


class AuditEventSerializer(serializers.ModelSerializer):
    target_type = serializers.SlugRelatedField(slug_field="model", read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "timestamp",
            "action",
            "outcome",
            "actor",
            "username",
            "path",
            "request_path",
            "remote_addr",
            "target_type",
            "target_id",
            "target_repr",
            "message",
            "data",
        ]


class ChangeSerializer(serializers.ModelSerializer):
    model = serializers.SerializerMethodField()
    path = serializers.SerializerMethodField()
    request = serializers.SerializerMethodField()
    action = serializers.CharField(source="get_action_display")

    class Meta:
        model = LogEntry
        fields = [
            "id",
            "timestamp",
            "model",
            "object_pk",
            "object_repr",
            "action",
            "changes",
            "actor",
            "path",
            "request",
            "remote_addr",
        ]

    def get_path(self, obj) -> str:
        return (obj.additional_data or {}).get("path", "")

    def get_request(self, obj) -> str:
        return (obj.additional_data or {}).get("request", "")

    def get_model(self, obj) -> str:
        return f"{obj.content_type.app_label}.{obj.content_type.model}"


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "title", "body", "url", "created_at", "read_at"]


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()


class PingSerializer(serializers.Serializer):
    task_id = serializers.CharField()


class TaskStatusSerializer(serializers.Serializer):
    task_id = serializers.CharField()
    state = serializers.CharField()
    result = serializers.JSONField(allow_null=True)
