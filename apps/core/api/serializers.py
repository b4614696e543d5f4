from auditlog.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework import serializers

from apps.core.api.fast import FastRepresentationMixin
from apps.core.models import AuditEvent, ExportJob, ImportJob, Notification


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


class AuditEventSerializer(FastRepresentationMixin, serializers.ModelSerializer):
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


class ImportJobSerializer(serializers.ModelSerializer):
    rows_processed = serializers.SerializerMethodField()
    progress_percent = serializers.SerializerMethodField()
    error_report_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "target",
            "original_name",
            "encoding",
            "dry_run",
            "status",
            "rows_total",
            "rows_processed",
            "progress_percent",
            "summary",
            "preview",
            "message",
            "error_report_url",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_rows_processed(self, job) -> int:
        from apps.core.services.imports import import_job_progress

        return import_job_progress(job)

    def get_progress_percent(self, job) -> int:
        if job.status in (ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED):
            return 100
        return int(100 * self.get_rows_processed(job) / job.rows_total) if job.rows_total else 0

    def get_error_report_url(self, job) -> str | None:
        if not job.error_report:
            return None
        from django.urls import reverse

        return reverse("importjob-error-report", args=[job.pk])


class ImportJobCreateSerializer(serializers.Serializer):
    file = serializers.FileField()
    target = serializers.CharField(help_text="What the rows become, e.g. vendors.vendor")
    dry_run = serializers.BooleanField(default=True)
    encoding = serializers.ChoiceField(choices=["utf-8", "cp1252"], default="utf-8")


# --- Export jobs and evidence packs ---------------------------------------------------------------


class ExportJobSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "target",
            "file_format",
            "filters",
            "status",
            "rows",
            "sha256",
            "message",
            "download_url",
            "created_at",
            "started_at",
            "finished_at",
        ]

    def get_download_url(self, job) -> str | None:
        from django.urls import reverse

        return reverse("exportjob-download", args=[job.pk]) if job.is_ready else None


class EvidencePackRequestSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=["invoices.invoice", "refunds.refundcase"])
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    filters = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        default=dict,
        help_text='The list endpoint\'s filters, e.g. {"status": "paid", "due_after": "2026-07-01"}',
    )
