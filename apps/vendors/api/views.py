from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.renderers import CSVRenderer, ExportableListMixin, XLSXRenderer
from apps.core.exports import export_response
from apps.vendors import reports, selectors, services
from apps.vendors.api import serializers
from apps.vendors.filters import PerformanceReviewFilter, VendorContactFilter, VendorContractFilter, VendorFilter
from apps.vendors.models import PerformanceReview, Vendor, VendorContact, VendorContract

REVIEW_FIELDS = ("period_start", "period_end", "reviewer", "comments")


class VendorViewSet(
    ExportableListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Vendors. They are put on hold, blocked and released, never deleted."""

    queryset = Vendor.objects.all()
    serializer_class = serializers.VendorSerializer
    filterset_class = VendorFilter
    search_fields = ["code", "legal_name", "tax_id"]
    ordering_fields = ["code", "legal_name", "latest_score"]

    def perform_create(self, serializer):
        serializer.instance = services.vendor_save(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.vendor_save(
            actor=self.request.user, vendor_id=serializer.instance.pk, **serializer.validated_data
        )

    def _transition(self, service, input_serializer=None, **extra):
        vendor = self.get_object()
        data = {}
        if input_serializer is not None:
            given = input_serializer(data=self.request.data)
            given.is_valid(raise_exception=True)
            data = given.validated_data
        result = service(vendor_id=vendor.pk, actor=self.request.user, **data, **extra)
        return Response(serializers.VendorSerializer(result).data)

    @extend_schema(request=serializers.HoldSerializer, responses=serializers.VendorSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        return self._transition(services.vendor_hold, serializers.HoldSerializer)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.VendorSerializer)
    @action(detail=True, methods=["post"])
    def block(self, request, pk=None):
        return self._transition(services.vendor_block, serializers.ReasonSerializer)

    @extend_schema(request=serializers.ReasonSerializer, responses=serializers.VendorSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return self._transition(services.vendor_release, serializers.ReasonSerializer)

    @extend_schema(request=None, responses=serializers.VendorSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-bank-details")
    def confirm_bank_details(self, request, pk=None):
        # Needs only view on vendors here; the service checks the confirm permission and who changed them.
        return self._transition(services.vendor_confirm_bank_details)

    @extend_schema(responses=serializers.ScorecardSerializer)
    @action(detail=True, methods=["get"])
    def scorecard(self, request, pk=None):
        return Response(selectors.vendor_scorecard(vendor_id=self.get_object().pk))

    def get_permissions(self):
        if self.action == "confirm_bank_details":
            from rest_framework.permissions import IsAuthenticated

            return [IsAuthenticated()]
        return super().get_permissions()


class VendorContactViewSet(ExportableListMixin, viewsets.ModelViewSet):
    queryset = VendorContact.objects.select_related("vendor")
    serializer_class = serializers.VendorContactSerializer
    filterset_class = VendorContactFilter
    search_fields = ["name", "email", "vendor__code"]

    def perform_create(self, serializer):
        serializer.instance = services.contact_save(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.contact_save(
            actor=self.request.user, contact_id=serializer.instance.pk, **serializer.validated_data
        )


class VendorContractViewSet(
    ExportableListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = VendorContract.objects.select_related("vendor")
    serializer_class = serializers.VendorContractSerializer
    filterset_class = VendorContractFilter
    search_fields = ["reference", "title", "vendor__code"]

    def perform_create(self, serializer):
        serializer.instance = services.contract_save(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.contract_save(
            actor=self.request.user, contract_id=serializer.instance.pk, **serializer.validated_data
        )


class PerformanceReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Performance reviews: drafted (criteria proposed from portal data), finalized, superseded."""

    queryset = PerformanceReview.objects.select_related("vendor").prefetch_related("criteria", "action_items")
    serializer_class = serializers.PerformanceReviewSerializer
    filterset_class = PerformanceReviewFilter
    ordering_fields = ["period_end", "overall_score"]

    def get_serializer_class(self):
        if self.action in {"update", "partial_update"}:
            return serializers.PerformanceReviewUpdateSerializer
        return serializers.PerformanceReviewSerializer

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.review_create(
            actor=self.request.user,
            vendor_id=data["vendor"].pk,
            period_start=data["period_start"],
            period_end=data["period_end"],
            reviewer=data.get("reviewer"),
            comments=data.get("comments", ""),
            criteria=[dict(c) for c in data["criteria"]] if "criteria" in data else None,
            action_items=[dict(i) for i in data.get("action_items", [])],
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.review_update(
            actor=self.request.user,
            review_id=serializer.instance.pk,
            criteria=[dict(c) for c in data["criteria"]] if "criteria" in data else None,
            action_items=[dict(i) for i in data["action_items"]] if "action_items" in data else None,
            **{k: data[k] for k in REVIEW_FIELDS if k in data},
        )

    @extend_schema(request=None, responses=serializers.PerformanceReviewSerializer)
    @action(detail=True, methods=["post"])
    def finalize(self, request, pk=None):
        review = services.review_finalize(review_id=self.get_object().pk, actor=request.user)
        return Response(self.get_serializer(PerformanceReview.objects.get(pk=review.pk)).data)

    @extend_schema(request=None, responses={201: serializers.PerformanceReviewSerializer})
    @action(detail=True, methods=["post"])
    def supersede(self, request, pk=None):
        replacement = services.review_supersede(review_id=self.get_object().pk, actor=request.user)
        return Response(self.get_serializer(replacement).data, status=201)


class VendorScorecardReportView(APIView):
    """All vendors ranked by their latest review score; ``?format=csv`` or ``xlsx`` downloads it."""

    queryset = Vendor.objects.none()  # model permissions: view on vendors
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer, XLSXRenderer]

    @extend_schema(
        responses=serializers.ScorecardRowSerializer(many=True),
        parameters=[OpenApiParameter("format", str, enum=["json", "csv", "xlsx"])],
    )
    def get(self, request, format=None):
        fmt = request.accepted_renderer.format
        if fmt in ("csv", "xlsx"):
            return export_response(
                actor=request.user,
                name="vendor-scorecards",
                headers=reports.HEADERS,
                rows=reports.scorecard_rows(),
                fmt=fmt,
            )
        rows = [
            {
                "rank": rank if vendor.latest_score is not None else None,
                "vendor": vendor.pk,
                "code": vendor.code,
                "legal_name": vendor.legal_name,
                "status": vendor.status,
                "latest_score": vendor.latest_score,
                "standing": vendor.latest_standing,
                "latest_review_end": vendor.latest_review_end,
            }
            for rank, vendor in enumerate(selectors.vendor_ranking(), start=1)
        ]
        return Response(serializers.ScorecardRowSerializer(rows, many=True).data)
