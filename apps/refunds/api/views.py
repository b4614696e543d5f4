from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.fast import ListedPrefetchMixin, listed
from apps.core.api.pagination import CountedLargeTablePagination
from apps.core.api.renderers import ExportableListMixin
from apps.core.reports import report_download_response
from apps.refunds import selectors, services
from apps.refunds.api import listing, serializers
from apps.refunds.filters import OrderFilter, RefundCaseFilter
from apps.refunds.models import Channel, ReasonCode, RefundCase, ReportRun
from apps.refunds.report_kinds import report_kind_key


class CanViewCases(BasePermission):
    """Reading cases (and asking for a transition: the service decides who may do which)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm("refunds.view_refundcase"))


class ChannelViewSet(viewsets.ReadOnlyModelViewSet):
    """Sales channels and their return windows."""

    queryset = Channel.objects.order_by("name")
    serializer_class = serializers.ChannelSerializer


class ReasonCodeViewSet(viewsets.ReadOnlyModelViewSet):
    """The reason codes a case can give."""

    queryset = ReasonCode.objects.order_by("code")
    serializer_class = serializers.ReasonCodeSerializer
    filterset_fields = {"case_type": ["exact"], "active": ["exact"]}


class OrderViewSet(
    ListedPrefetchMixin,
    ExportableListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Customer orders: what refunds are measured against. Never deleted."""

    queryset = selectors.order_list().prefetch_related("lines").order_by("-order_date", "-id")
    list_prefetch = (listed("lines"),)
    serializer_class = serializers.OrderSerializer
    filterset_class = OrderFilter
    search_fields = ["reference", "customer_name", "=customer_email"]
    ordering_fields = ["order_date", "reference", "total"]
    pagination_class = CountedLargeTablePagination

    @extend_schema(request=serializers.OrderCreateSerializer, responses={201: serializers.OrderSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.OrderCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        channel = values.pop("channel")
        order = services.order_create(actor=request.user, channel_id=channel.pk, **values)
        return Response(self.get_serializer(order).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=serializers.OrderUpdateSerializer, responses=serializers.OrderSerializer)
    def update(self, request, *args, **kwargs):
        order = self.get_object()
        data = serializers.OrderUpdateSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "channel" in values:
            values["channel_id"] = values.pop("channel").pk
        order = services.order_update(order_id=order.pk, actor=request.user, **values)
        return Response(self.get_serializer(order).data)

    @extend_schema(request=serializers.OrderUpdateSerializer, responses=serializers.OrderSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


TRANSITIONS = {"approve", "reject", "process", "close", "cancel", "evidence_submitted", "outcome", "inspect", "attach"}


class RefundCaseViewSet(
    ListedPrefetchMixin,
    ExportableListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Refund, store-credit, chargeback and return cases (filter by ``type``) and their transitions."""

    queryset = (
        RefundCase.objects.select_related(
            "order", "reason", "requested_by", "decided_by", "processed_by", "payout", "payout__paid_by"
        )
        .prefetch_related("approvals__approver", "return_lines__order_line", "attachments")
        .order_by("-requested_at", "-id")
    )
    # People come from a small table: read once per page, not joined four times into every row of it.
    list_select_related = ("order", "reason", "payout")
    list_fetch_together = ("requested_by", "decided_by", "processed_by", "payout__paid_by")
    # Nested lists are read as plain values, one short query each, and only the columns the list shows.
    list_prefetch = ()
    list_loaders = listing.CASE_LIST_LOADERS
    serializer_class = serializers.RefundCaseSerializer
    filterset_class = RefundCaseFilter
    search_fields = ["reference", "=order__reference", "order__customer_name", "=order__customer_email"]
    ordering_fields = ["requested_at", "due_date", "amount"]
    pagination_class = CountedLargeTablePagination

    @property
    def list_only(self) -> tuple[str, ...]:
        """The columns the serializer's fields show, and what the cursor orders by."""
        return listing.case_list_columns(type(self))

    def get_permissions(self):
        if self.action in TRANSITIONS:
            return [CanViewCases()]
        return super().get_permissions()

    def _answer(self, case):
        return Response(self.get_serializer(self.get_queryset().get(pk=case.pk)).data)

    @extend_schema(request=serializers.CaseRequestSerializer, responses={201: serializers.RefundCaseSerializer})
    def create(self, request, *args, **kwargs):
        data = serializers.CaseRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        case = services.case_request(
            actor=request.user,
            order_id=values["order"],
            type=values["type"],
            amount=values["amount"],
            currency=values.get("currency"),
            reason_code=values["reason"],
            notes=values["notes"],
            override_reason=values["override_reason"],
            return_lines=[
                {"order_line_id": line["order_line"], "quantity": line["quantity"]}
                for line in values.get("return_lines", [])
            ]
            or None,
            network=values["network"],
            network_reason_code=values["network_reason_code"],
            evidence_due_date=values["evidence_due_date"],
            fee=values["fee"],
        )
        response = self._answer(case)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=None, responses=serializers.RefundCaseSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (first or second approval); requester != approver, within the approver's limit."""
        return self._answer(services.case_approve(case_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=serializers.CaseReasonSerializer, responses=serializers.RefundCaseSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = serializers.CaseReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_reject(
            case_id=self.get_object().pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._answer(case)

    @extend_schema(request=None, responses=serializers.RefundCaseSerializer)
    @action(detail=True, methods=["post"])
    def process(self, request, pk=None):
        """Money out, exactly once: calling it again answers the same processed case."""
        return self._answer(services.case_process(case_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=None, responses=serializers.RefundCaseSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._answer(services.case_close(case_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=serializers.CaseReasonSerializer, responses=serializers.RefundCaseSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = serializers.CaseReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.case_cancel(
            case_id=self.get_object().pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._answer(case)

    @extend_schema(request=None, responses=serializers.RefundCaseSerializer)
    @action(detail=True, methods=["post"], url_path="evidence-submitted")
    def evidence_submitted(self, request, pk=None):
        """Chargebacks: the evidence went to the network."""
        return self._answer(services.chargeback_submit_evidence(case_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=serializers.OutcomeSerializer, responses=serializers.RefundCaseSerializer)
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        """Chargebacks: won, lost or accepted, and the amount finally lost."""
        data = serializers.OutcomeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        case = services.chargeback_record_outcome(
            case_id=self.get_object().pk, actor=request.user, **data.validated_data
        )
        return self._answer(case)

    @extend_schema(request=serializers.InspectSerializer, responses=serializers.RefundCaseSerializer)
    @action(detail=True, methods=["post"])
    def inspect(self, request, pk=None):
        """Returns: the condition of one returned item and its disposition."""
        case = self.get_object()
        data = serializers.InspectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = case.return_lines.filter(pk=data.validated_data["line"]).first()
        if line is None:
            from rest_framework.exceptions import ValidationError

            raise ValidationError({"line": f"Line {data.validated_data['line']} is not on {case.reference}."})
        services.return_line_inspect(
            line_id=line.pk,
            actor=request.user,
            condition=data.validated_data["condition"],
            disposition=data.validated_data["disposition"],
        )
        return self._answer(case)

    @extend_schema(
        request={"multipart/form-data": serializers.CaseAttachmentSerializer},
        responses={201: serializers.CaseAttachmentSerializer},
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def attach(self, request, pk=None):
        """Add evidence (a file and what it shows) to a case."""
        data = serializers.CaseAttachmentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = services.attachment_add(
            case_id=self.get_object().pk,
            actor=request.user,
            file=data.validated_data["file"],
            description=data.validated_data.get("description", ""),
        )
        return Response(serializers.CaseAttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class RefundAgingView(APIView):
    """Open cases by days past their due date, per case type and currency (buckets add up to ``total``)."""

    permission_classes = [CanViewCases]

    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", str, description="YYYY-MM-DD; today if omitted"),
            OpenApiParameter("type", str, enum=RefundCase.Type.values),
        ],
        responses=serializers.AgingReportSerializer,
    )
    def get(self, request):
        query = serializers.AgingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or timezone.localdate()
        aging = selectors.case_aging(as_of=as_of, case_type=query.validated_data.get("type"))
        return Response(serializers.AgingReportSerializer(aging).data)


class ReportRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Refund aging and chargeback recovery report runs; a worker writes the file."""

    queryset = ReportRun.objects.order_by("-created_at", "-id")
    serializer_class = serializers.ReportRunSerializer
    filterset_fields = ["kind", "status", "scheduled"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.report_run_request(
            actor=self.request.user,
            kind=data["kind"],
            as_of=data.get("as_of"),
            format=data.get("format", ReportRun.Format.CSV),
            case_type=data.get("case_type", ""),
        )

    @extend_schema(responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        run = self.get_object()
        # As in the reports center: needs export_records, and the download is an audited export.
        return report_download_response(actor=request.user, kind=report_kind_key(run), run_id=run.pk, fmt=run.format)
