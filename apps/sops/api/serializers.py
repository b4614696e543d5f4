from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.sops.models import Acknowledgement, Area, SOPAttachment, SOPDocument, SOPVersion
from apps.sops.rendering import render_markdown

User = get_user_model()


def status_as_text() -> serializers.ChoiceField:
    """The version status, documented as text where the full version already documents its values.

    Other apps' records have a ``status`` too; documenting this choice set in one component only
    keeps the schema's enum names unambiguous.
    """

    @extend_schema_field(
        {"type": "string", "description": "One of: " + ", ".join(SOPVersion.Status.values) + ".", "readOnly": True}
    )
    class StatusField(serializers.ChoiceField):
        pass

    return StatusField(choices=SOPVersion.Status.choices, read_only=True)


class SOPVersionSummarySerializer(serializers.ModelSerializer):
    status = status_as_text()

    class Meta:
        model = SOPVersion
        fields = ["id", "number", "status", "published_at", "change_summary"]


class SOPDocumentSerializer(serializers.ModelSerializer):
    audience = serializers.SlugRelatedField(slug_field="name", many=True, queryset=Group.objects.all(), required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)
    current_version = SOPVersionSummarySerializer(read_only=True, allow_null=True)
    area = serializers.ChoiceField(choices=Area.choices)

    class Meta:
        model = SOPDocument
        fields = [
            "id",
            "code",
            "title",
            "area",
            "owner",
            "audience",
            "governs_area",
            "review_interval_days",
            "next_review_date",
            "current_version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        # Uniqueness is the service's and the database's to decide (with a field-named error).
        validators = []
        extra_kwargs = {"code": {"validators": []}}


class SOPAttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = SOPAttachment
        fields = ["id", "name", "content_type", "size", "sha256", "download_url", "created_at"]

    def get_download_url(self, obj) -> str:
        return reverse("sopversion-download-attachment", args=[obj.version_id, obj.pk])


class SOPVersionSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="document.code", read_only=True)
    title = serializers.CharField(source="document.title", read_only=True)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    body_html = serializers.SerializerMethodField(help_text="The body rendered to sanitized HTML.")
    attachments = SOPAttachmentSerializer(many=True, read_only=True)

    class Meta:
        model = SOPVersion
        fields = [
            "id",
            "document",
            "code",
            "title",
            "number",
            "status",
            "change_summary",
            "body",
            "body_html",
            "author",
            "reviewer",
            "submitted_at",
            "reviewed_at",
            "review_comment",
            "published_at",
            "published_by",
            "retired_at",
            "retired_by",
            "retired_reason",
            "attachments",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f not in {"document", "change_summary", "body"}]
        validators = []  # the service decides (409 when a version is already open)

    @extend_schema_field(serializers.CharField())
    def get_body_html(self, obj) -> str:
        return str(render_markdown(obj.body))


class SOPVersionListSerializer(SOPVersionSerializer):
    status = status_as_text()

    class Meta(SOPVersionSerializer.Meta):
        fields = [f for f in SOPVersionSerializer.Meta.fields if f not in {"body", "body_html", "attachments"}]


class SOPVersionUpdateSerializer(serializers.Serializer):
    change_summary = serializers.CharField(required=False, max_length=500)
    body = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class SOPSubmitReviewSerializer(serializers.Serializer):
    reviewer = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True, help_text="Who is to review it."
    )


class SOPCommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SOPReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class SOPOptionalReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class SOPUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class SOPAcknowledgementSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="version.document.code", read_only=True)
    number = serializers.IntegerField(source="version.number", read_only=True)
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Acknowledgement
        fields = ["id", "version", "code", "number", "user", "username", "acknowledged_at"]


class SOPDiffLineSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["added", "removed", "context", "hunk"])
    text = serializers.CharField()


class SOPDiffSerializer(serializers.Serializer):
    old = serializers.IntegerField(allow_null=True, help_text="Id of the older version (null: compared with nothing).")
    new = serializers.IntegerField()
    lines = SOPDiffLineSerializer(many=True)


class SOPGroupComplianceSerializer(serializers.Serializer):
    group = serializers.CharField()
    members = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True)


class SOPMissingUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class SOPComplianceSerializer(serializers.Serializer):
    document = serializers.IntegerField()
    code = serializers.CharField()
    title = serializers.CharField()
    area = serializers.ChoiceField(choices=Area.choices)
    version = serializers.IntegerField(allow_null=True)
    version_number = serializers.IntegerField(allow_null=True)
    audience = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    percent = serializers.IntegerField(allow_null=True)
    groups = SOPGroupComplianceSerializer(many=True)
    missing = SOPMissingUserSerializer(many=True)


def compliance_data(row) -> dict:
    document, compliance = row.document, row.compliance
    return {
        "document": document.pk,
        "code": document.code,
        "title": document.title,
        "area": document.area,
        "version": document.current_version_id,
        "version_number": document.current_version.number if document.current_version_id else None,
        "audience": compliance.audience_count,
        "acknowledged": compliance.acknowledged_count,
        "percent": compliance.percent,
        "groups": [
            {"group": name, "members": members, "acknowledged": read, "percent": percent}
            for name, members, read, percent in row.groups
        ],
        "missing": [
            {"id": user.pk, "username": user.username, "name": user.get_full_name()} for user in row.missing_users
        ],
    }
