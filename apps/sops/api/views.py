"""SOP API: documents, versions with their transitions, acknowledgements and the compliance report."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from apps.core.api.renderers import ExportableListMixin
from apps.sops import selectors, services
from apps.sops.api import serializers
from apps.sops.api.permissions import SOPPermissions
from apps.sops.filters import AcknowledgementFilter, SOPDocumentFilter, SOPVersionFilter
from apps.sops.models import Acknowledgement, Area, SOPAttachment, SOPVersion
from apps.sops.rendering import diff_lines


def _require_compliance_access(request):
    if not request.user.has_perm("sops.view_acknowledgement"):
        raise PermissionDenied("The compliance report needs permission to view acknowledgements.")


class SOPDocumentViewSet(
    ExportableListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """SOP documents with the version in force. SOPs are retired, never deleted."""

    queryset = selectors.sop_document_list().order_by("code")
    serializer_class = serializers.SOPDocumentSerializer
    permission_classes = [SOPPermissions]
    filterset_class = SOPDocumentFilter
    search_fields = ["code", "title"]
    ordering_fields = ["code", "title", "next_review_date", "area"]
    action_permissions = {
        "mark_reviewed": ["sops.view_sopdocument"],
        "compliance_report": ["sops.view_sopdocument"],
        "document_compliance": ["sops.view_sopdocument"],
        "versions": ["sops.view_sopversion"],
        "search": ["sops.view_sopversion"],
    }

    def perform_create(self, serializer):
        serializer.instance = services.sop_document_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.sop_document_update(
            document_id=serializer.instance.pk, actor=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=serializers.SOPOptionalReasonSerializer, responses=serializers.SOPDocumentSerializer)
    @action(detail=True, methods=["post"], url_path="mark-reviewed")
    def mark_reviewed(self, request, pk=None):
        """The periodic review found the SOP still right: its next review moves one interval on."""
        data = serializers.SOPOptionalReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        document = services.sop_document_mark_reviewed(
            document_id=self.get_object().pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(self.get_serializer(selectors.sop_document_list().get(pk=document.pk)).data)

    @extend_schema(responses=serializers.SOPVersionListSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        """The document's versions, newest first."""
        history = selectors.sop_version_history(document_id=self.get_object().pk).select_related("document")
        return Response(serializers.SOPVersionListSerializer(history, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("area", OpenApiTypes.STR, enum=Area.values)],
        responses=serializers.SOPComplianceSerializer(many=True),
    )
    @action(detail=False, methods=["get"], url_path="compliance", filter_backends=[], pagination_class=None)
    def compliance_report(self, request):
        """Per published SOP: how much of its audience acknowledged the version in force, per group, who is missing."""
        _require_compliance_access(request)
        area = request.query_params.get("area") or None
        if area is not None and area not in Area.values:
            return Response({"area": [f"Unknown area {area!r}."]}, status=status.HTTP_400_BAD_REQUEST)
        rows = selectors.sop_compliance_report(area=area)
        return Response([serializers.compliance_data(row) for row in rows])

    @extend_schema(responses=serializers.SOPComplianceSerializer)
    @action(detail=True, methods=["get"], url_path="compliance")
    def document_compliance(self, request, pk=None):
        """Acknowledgement compliance of one SOP."""
        _require_compliance_access(request)
        document = self.get_object()
        rows = selectors.sop_compliance_report(document_id=document.pk)
        if not rows:
            raise Http404("This SOP has no version in force.")
        return Response(serializers.compliance_data(rows[0]))

    @extend_schema(
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, required=True, description="Words to look for."),
            OpenApiParameter("area", OpenApiTypes.STR, enum=Area.values),
        ],
        responses=serializers.SOPVersionListSerializer(many=True),
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def search(self, request):
        """Search titles and bodies of the versions in force, best match first."""
        area = request.query_params.get("area") or None
        if area is not None and area not in Area.values:
            return Response({"area": [f"Unknown area {area!r}."]}, status=status.HTTP_400_BAD_REQUEST)
        results = selectors.sop_search(query=request.query_params.get("q", "")[:200], area=area)
        page = self.paginate_queryset(results)
        return self.get_paginated_response(serializers.SOPVersionListSerializer(page, many=True).data)


class SOPVersionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """SOP versions. Drafts are edited by their author; every other change is a transition."""

    queryset = (
        SOPVersion.objects.select_related("document")
        .prefetch_related("attachments")
        .order_by("document__code", "-number")
    )
    permission_classes = [SOPPermissions]
    filterset_class = SOPVersionFilter
    search_fields = ["document__code", "document__title", "change_summary"]
    ordering_fields = ["published_at", "number", "document__code"]
    action_permissions = {
        "submit_review": ["sops.view_sopversion"],
        "approve": ["sops.view_sopversion"],
        "request_changes": ["sops.view_sopversion"],
        "publish": ["sops.view_sopversion"],
        "retire": ["sops.view_sopversion"],
        "acknowledge": ["sops.view_sopversion"],
        "diff": ["sops.view_sopversion"],
        "upload_attachment": ["sops.view_sopversion"],
        "download_attachment": ["sops.view_sopattachment"],
    }

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.SOPVersionListSerializer
        if self.action in {"update", "partial_update"}:
            return serializers.SOPVersionUpdateSerializer
        return serializers.SOPVersionSerializer

    def _detail(self, version_id, code=status.HTTP_200_OK):
        version = self.get_queryset().get(pk=version_id)
        return Response(serializers.SOPVersionSerializer(version).data, status=code)

    @extend_schema(request=serializers.SOPVersionSerializer, responses={201: serializers.SOPVersionSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.SOPVersionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data.get("body")
        version = services.sop_version_create(
            document_id=data.validated_data["document"].pk,
            actor=request.user,
            change_summary=data.validated_data.get("change_summary", ""),
            body=body if body else None,
        )
        return self._detail(version.pk, status.HTTP_201_CREATED)

    @extend_schema(request=serializers.SOPVersionUpdateSerializer, responses=serializers.SOPVersionSerializer)
    def update(self, request, *args, **kwargs):
        data = serializers.SOPVersionUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        version = services.sop_version_update(
            version_id=self.get_object().pk, actor=request.user, **data.validated_data
        )
        return self._detail(version.pk)

    @extend_schema(request=serializers.SOPVersionUpdateSerializer, responses=serializers.SOPVersionSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.sop_version_discard(version_id=instance.pk, actor=self.request.user)

    @extend_schema(request=serializers.SOPSubmitReviewSerializer, responses=serializers.SOPVersionSerializer)
    @action(detail=True, methods=["post"], url_path="submit-review")
    def submit_review(self, request, pk=None):
        """The author hands the draft over for review (optionally to a named reviewer)."""
        data = serializers.SOPSubmitReviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.sop_version_submit_review(
            version_id=self.get_object().pk, actor=request.user, reviewer=data.validated_data.get("reviewer")
        )
        return self._detail(version.pk)

    @extend_schema(request=serializers.SOPCommentSerializer, responses=serializers.SOPVersionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """A reviewer other than the author approves the version in review."""
        data = serializers.SOPCommentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.sop_version_approve(
            version_id=self.get_object().pk, actor=request.user, comment=data.validated_data["comment"]
        )
        return self._detail(version.pk)

    @extend_schema(request=serializers.SOPReasonSerializer, responses=serializers.SOPVersionSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        """The reviewer sends the version back to its author as a draft."""
        data = serializers.SOPReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.sop_version_request_changes(
            version_id=self.get_object().pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._detail(version.pk)

    @extend_schema(request=None, responses=serializers.SOPVersionSerializer)
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        """Put a reviewed version in force; the version before is retired."""
        version = services.sop_version_publish(version_id=self.get_object().pk, actor=request.user)
        return self._detail(version.pk)

    @extend_schema(request=serializers.SOPReasonSerializer, responses=serializers.SOPVersionSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, pk=None):
        """Withdraw the version in force without a successor."""
        data = serializers.SOPReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.sop_version_retire(
            version_id=self.get_object().pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._detail(version.pk)

    @extend_schema(
        request=None,
        responses={201: serializers.SOPAcknowledgementSerializer, 200: serializers.SOPAcknowledgementSerializer},
    )
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """The signed-in person confirms they have read this version (201 the first time, 200 after)."""
        acknowledgement, created = services.sop_version_acknowledge(version_id=self.get_object().pk, actor=request.user)
        return Response(
            serializers.SOPAcknowledgementSerializer(acknowledgement).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[OpenApiParameter("against", OpenApiTypes.INT, description="Another version of the same SOP.")],
        responses=serializers.SOPDiffSerializer,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request, pk=None):
        """Line-by-line changes between this version and another (default: the one before)."""
        version = self.get_object()
        against_id = request.query_params.get("against", "")
        if against_id:
            if not against_id.isdigit():
                return Response({"against": ["A version id is expected."]}, status=status.HTTP_400_BAD_REQUEST)
            against = SOPVersion.objects.filter(pk=int(against_id), document_id=version.document_id).first()
            if against is None:
                return Response(
                    {"against": ["No version of the same SOP has this id."]}, status=status.HTTP_400_BAD_REQUEST
                )
        else:
            against = selectors.sop_version_previous(version=version)
        old, new = (against, version) if against is None or against.number < version.number else (version, against)
        lines = diff_lines(old.body if old else "", new.body)
        return Response(
            {
                "old": old.pk if old else None,
                "new": new.pk,
                "lines": [{"kind": line.kind, "text": line.text} for line in lines],
            }
        )

    @extend_schema(
        request={"multipart/form-data": serializers.SOPUploadSerializer},
        responses={201: serializers.SOPAttachmentSerializer},
    )
    @action(detail=True, methods=["post"], url_path="attachments", parser_classes=[MultiPartParser])
    def upload_attachment(self, request, pk=None):
        """Attach a file to a draft (PDF, images, Office documents, text; size-limited)."""
        data = serializers.SOPUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.sop_attachment_add(
            version_id=self.get_object().pk, actor=request.user, uploaded=data.validated_data["file"]
        )
        return Response(serializers.SOPAttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>\d+)")
    def download_attachment(self, request, pk=None, attachment_id=None):
        """Download an attachment of this version."""
        attachment = get_object_or_404(SOPAttachment, pk=attachment_id, version_id=self.get_object().pk)
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404("The file is missing from storage.") from exc
        response = FileResponse(handle, as_attachment=True, filename=attachment.name)
        response["Content-Type"] = attachment.content_type
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


class AcknowledgementViewSet(viewsets.ReadOnlyModelViewSet):
    """Who acknowledged which SOP version, and when."""

    queryset = Acknowledgement.objects.select_related("user", "version", "version__document")
    serializer_class = serializers.SOPAcknowledgementSerializer
    filterset_class = AcknowledgementFilter
    ordering_fields = ["acknowledged_at"]
