import uuid

from auditlog.models import LogEntry
from celery.result import AsyncResult
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import Group
from django.http import FileResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import audit, tasks
from apps.core.api import serializers
from apps.core.api.pagination import LargeTablePagination
from apps.core.api.permissions import CanOperateWorkers
from apps.core.api.renderers import ExportableListMixin
from apps.core.exports import EXPORT_PERMISSION
from apps.core.filters import AuditEventFilter, ChangeFilter, UserFilter
from apps.core.models import AuditEvent, ExportJob, ImportJob, Notification
from apps.core.services.evidence import evidence_pack_request
from apps.core.services.exports import ExportFileExpired, export_job_download
from apps.core.services.imports import import_job_confirm, import_job_create
from apps.core.services.users import user_create, user_update


class TokenView(APIView):
    """Exchange a username and password for an API token (throttled like the admin login)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    serializer_class = serializers.TokenRequestSerializer

    @extend_schema(request=serializers.TokenRequestSerializer, responses=serializers.TokenSerializer)
    def post(self, request):
        data = serializers.TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request=request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise ValidationError({"non_field_errors": ["Unable to log in with the given username and password."]})
        token, _ = Token.objects.get_or_create(user=user)
        audit.record(action="auth.token_issued", actor=user)
        return Response({"token": token.key})


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Portal users and their roles. Users are deactivated, never deleted."""

    queryset = get_user_model().objects.prefetch_related("groups").order_by("username")
    serializer_class = serializers.UserSerializer
    filterset_class = UserFilter
    search_fields = ["username", "first_name", "last_name", "email"]

    def get_serializer_class(self):
        if self.action in {"update", "partial_update"}:
            return serializers.UserUpdateSerializer
        return serializers.UserSerializer

    def perform_create(self, serializer):
        serializer.instance = user_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = user_update(user_id=serializer.instance.pk, **serializer.validated_data)


class GroupViewSet(viewsets.ReadOnlyModelViewSet):
    """The roles (Django groups)."""

    queryset = Group.objects.order_by("name")
    serializer_class = serializers.GroupSerializer


class AuditEventViewSet(ExportableListMixin, viewsets.ReadOnlyModelViewSet):
    """The append-only event log: approvals, exports, imports, logins, denied requests (``?format=csv`` exports)."""

    queryset = AuditEvent.objects.select_related("target_type")
    serializer_class = serializers.AuditEventSerializer
    filterset_class = AuditEventFilter
    pagination_class = LargeTablePagination


class ChangeViewSet(ExportableListMixin, viewsets.ReadOnlyModelViewSet):
    """Every change to a registered record, fields before and after (``?format=csv`` exports)."""

    queryset = LogEntry.objects.select_related("content_type")
    serializer_class = serializers.ChangeSerializer
    filterset_class = ChangeFilter
    pagination_class = LargeTablePagination


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """The signed-in person's own notifications (marked read in the admin)."""

    serializer_class = serializers.NotificationSerializer
    permission_classes = [IsAuthenticated]
    filterset_fields = {"read_at": ["isnull"]}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return Notification.objects.filter(recipient=self.request.user)


class PingView(APIView):
    """Send a ping task to the workers; its result shows a worker is consuming."""

    permission_classes = [CanOperateWorkers]

    @extend_schema(request=None, responses={202: serializers.PingSerializer})
    def post(self, request):
        result = tasks.ping.delay(uuid.uuid4().hex)
        return Response({"task_id": result.id}, status=status.HTTP_202_ACCEPTED)


class TaskStatusView(APIView):
    """The state and result of a background task."""

    permission_classes = [CanOperateWorkers]

    @extend_schema(responses=serializers.TaskStatusSerializer)
    def get(self, request, task_id):
        result = AsyncResult(str(task_id))
        value = result.result if result.successful() else None
        return Response({"task_id": str(task_id), "state": result.state, "result": value})


class ImportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Import jobs: upload a file (a dry run by default), watch its progress, confirm it, get its error report.

    People see their own jobs; those who may view import jobs (auditors, administrators) see all.
    """

    serializer_class = serializers.ImportJobSerializer
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["status", "target", "dry_run"]

    def get_queryset(self):
        jobs = ImportJob.objects.select_related("created_by")
        user = self.request.user
        if getattr(self, "swagger_fake_view", False) or user.has_perm("core.view_importjob"):
            return jobs
        return jobs.filter(created_by=user)

    @extend_schema(request=serializers.ImportJobCreateSerializer, responses={201: serializers.ImportJobSerializer})
    def create(self, request):
        given = serializers.ImportJobCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        job = import_job_create(
            actor=request.user,
            target=given.validated_data["target"],
            uploaded_file=given.validated_data["file"],
            dry_run=given.validated_data["dry_run"],
            encoding=given.validated_data["encoding"],
        )
        return Response(self.get_serializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.ImportJobSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        job = import_job_confirm(job_id=self.get_object().pk, actor=request.user)
        return Response(self.get_serializer(job).data)

    @extend_schema(responses={(200, "text/csv"): bytes})
    @action(detail=True, methods=["get"], url_path="error-report")
    def error_report(self, request, pk=None):
        job = self.get_object()
        if not job.error_report:
            raise NotFound("This job has no error report.")
        return FileResponse(job.error_report.open("rb"), as_attachment=True, filename=f"import-{job.pk}-errors.csv")


# --- Export jobs and evidence packs ---------------------------------------------------------------


class CanExport(IsAuthenticated):
    """Export jobs and evidence packs are for people with ``export_records``."""

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.user.has_perm(EXPORT_PERMISSION)


class ExportFileGone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This file has expired."
    default_code = "expired"


class ExportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your export jobs (large exports and evidence packs): status, SHA-256, and the file when ready.

    Files are deleted ``EXPORT_FILE_RETENTION_DAYS`` after they were written: the job then shows ``expired``
    and its download answers 410 Gone.
    """

    serializer_class = serializers.ExportJobSerializer
    permission_classes = [CanExport]
    filterset_fields = ["kind", "status", "target"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExportJob.objects.none()
        return ExportJob.objects.filter(created_by=self.request.user)

    @extend_schema(
        responses={
            (200, "application/octet-stream"): bytes,
            410: OpenApiResponse(description="The file has expired and was deleted."),
        }
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        try:
            job = export_job_download(job_id=self.get_object().pk, actor=request.user)
        except ExportFileExpired as exc:
            raise ExportFileGone(str(exc)) from exc
        return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.download_name)


class EvidencePackViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Auditor evidence packs: ``POST`` a target (invoices.invoice or refunds.refundcase) with ids or filters.

    The worker builds one ZIP (records, related records, audit history, SOP versions, attachments and a
    manifest with every file's SHA-256); follow it at ``/api/v1/export-jobs/{id}/``.
    """

    serializer_class = serializers.ExportJobSerializer
    permission_classes = [CanExport]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ExportJob.objects.none()
        return ExportJob.objects.filter(created_by=self.request.user, kind=ExportJob.Kind.EVIDENCE_PACK)

    @extend_schema(request=serializers.EvidencePackRequestSerializer, responses={202: serializers.ExportJobSerializer})
    def create(self, request):
        given = serializers.EvidencePackRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        job = evidence_pack_request(actor=request.user, **given.validated_data)
        return Response(self.get_serializer(job).data, status=status.HTTP_202_ACCEPTED)
