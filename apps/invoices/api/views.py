from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import exports
from apps.core.api.fast import ListedPrefetchMixin, listed
from apps.core.api.pagination import CountedLargeTablePagination
from apps.core.api.renderers import ExportableListMixin
from apps.core.reports import report_download_response
from apps.invoices import reports, selectors, services
from apps.invoices.api import serializers
from apps.invoices.filters import (
    AgingReportRunFilter,
    CreditMemoFilter,
    GoodsReceiptFilter,
    InvoiceFilter,
    PaymentFilter,
    PurchaseOrderFilter,
)
from apps.invoices.models import AgingReportRun, CreditMemo, GoodsReceipt, Invoice, Payment, PurchaseOrder

CREATE_ONLY = (mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet)


class PurchaseOrderViewSet(ExportableListMixin, *CREATE_ONLY):
    """Purchase orders with their lines; invoices are matched against the lines."""

    queryset = PurchaseOrder.objects.select_related("vendor").prefetch_related("lines")
    serializer_class = serializers.PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    search_fields = ["number", "vendor__code"]
    ordering_fields = ["order_date", "number"]

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.purchase_order_create(
            actor=self.request.user,
            vendor_id=data["vendor"].pk,
            number=data["number"],
            order_date=data["order_date"],
            currency=data.get("currency", ""),
            notes=data.get("notes", ""),
            lines=[dict(line) for line in data["lines"]],
        )


class GoodsReceiptViewSet(ExportableListMixin, *CREATE_ONLY):
    """Goods received against purchase order lines."""

    queryset = GoodsReceipt.objects.select_related("po_line__purchase_order")
    serializer_class = serializers.GoodsReceiptSerializer
    filterset_class = GoodsReceiptFilter
    ordering_fields = ["received_date"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.receipt_record(
            actor=self.request.user, po_line_id=data.pop("po_line").pk, **data
        )


class CanViewInvoices(BasePermission):
    """Invoice transitions: only for people who see invoices; logging a dispute contact also needs its
    permission before the body is read, so that nobody else learns anything from validation errors."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.has_perm("invoices.view_invoice")):
            return False
        return view.action != "dispute_contacts" or user.has_perm("invoices.add_disputecontact")


# The columns of ``?format=csv`` / ``?format=xlsx`` on the invoice list, read with values_list.
INVOICE_EXPORT_FIELDS = [
    "id",
    "vendor",
    "number",
    "purchase_order",
    "invoice_date",
    "due_date",
    "currency",
    "subtotal",
    "tax",
    "total",
    "paid_amount",
    "credited_amount",
    "status",
    "match_result",
]


class InvoiceViewSet(ListedPrefetchMixin, ExportableListMixin, *CREATE_ONLY, mixins.UpdateModelMixin):
    """Vendor invoices. Transitions are POST actions; a status that does not allow one answers 409."""

    queryset = Invoice.objects.select_related("vendor").prefetch_related("lines")
    list_select_related = ()  # the list shows the vendor's id only
    list_prefetch = (listed("lines"),)
    serializer_class = serializers.InvoiceSerializer
    filterset_class = InvoiceFilter
    export_columns = exports.model_columns(Invoice, INVOICE_EXPORT_FIELDS)  # ?format=csv straight from the database
    search_fields = ["number", "vendor__code", "vendor__legal_name"]
    ordering_fields = ["invoice_date", "due_date", "total", "number"]
    pagination_class = CountedLargeTablePagination

    def get_serializer_class(self):
        if self.action in {"update", "partial_update"}:
            return serializers.InvoiceUpdateSerializer
        return serializers.InvoiceSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.invoice_create(
            actor=self.request.user,
            vendor_id=data.pop("vendor").pk,
            lines=serializers.lines_data(data.pop("lines")),
            **data,
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        if "lines" in data:
            data["lines"] = serializers.lines_data(data["lines"])
        serializer.instance = services.invoice_update(
            invoice_id=serializer.instance.pk, actor=self.request.user, **data
        )

    def _transition(self, service, input_serializer=None, **rename):
        invoice = self.get_object()
        data = {}
        if input_serializer is not None:
            given = input_serializer(data=self.request.data)
            given.is_valid(raise_exception=True)
            data = {rename.get(k, k): v for k, v in given.validated_data.items()}
        result = service(invoice_id=invoice.pk, actor=self.request.user, **data)
        fresh = self.get_queryset().get(pk=result.pk)
        return Response(serializers.InvoiceSerializer(fresh).data)

    def get_permissions(self):
        # Transitions need view on invoices; the service checks the permission each one needs.
        if self.action in TRANSITIONS:
            return [CanViewInvoices()]
        return super().get_permissions()

    @extend_schema(request=serializers.InvoiceSubmitSerializer, responses=serializers.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(services.invoice_submit, serializers.InvoiceSubmitSerializer)

    @extend_schema(request=None, responses=serializers.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._transition(services.invoice_approve)

    @extend_schema(request=serializers.InvoiceReasonSerializer, responses=serializers.InvoiceSerializer)
    @action(detail=True, methods=["post"], url_path="override-match")
    def override_match(self, request, pk=None):
        return self._transition(services.invoice_override_match, serializers.InvoiceReasonSerializer)

    @extend_schema(request=serializers.InvoiceReasonSerializer, responses=serializers.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, pk=None):
        return self._transition(services.invoice_hold, serializers.InvoiceReasonSerializer)

    @extend_schema(request=serializers.InvoiceOptionalReasonSerializer, responses=serializers.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return self._transition(services.invoice_release, serializers.InvoiceOptionalReasonSerializer)

    @extend_schema(request=serializers.InvoiceReasonSerializer, responses=serializers.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def dispute(self, request, pk=None):
        return self._transition(services.invoice_dispute, serializers.InvoiceReasonSerializer)

    @extend_schema(request=serializers.InvoiceScheduleSerializer, responses=serializers.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def schedule(self, request, pk=None):
        return self._transition(services.invoice_schedule, serializers.InvoiceScheduleSerializer)

    @extend_schema(request=serializers.InvoiceReasonSerializer, responses=serializers.InvoiceSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(services.invoice_cancel, serializers.InvoiceReasonSerializer)

    @extend_schema(request=serializers.DisputeContactSerializer, responses={201: serializers.DisputeContactSerializer})
    @action(detail=True, methods=["post"], url_path="dispute-contacts")
    def dispute_contacts(self, request, pk=None):
        invoice = self.get_object()
        given = serializers.DisputeContactSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        contact = services.dispute_contact_log(invoice_id=invoice.pk, actor=request.user, **given.validated_data)
        return Response(serializers.DisputeContactSerializer(contact).data, status=status.HTTP_201_CREATED)


TRANSITIONS = {
    "submit",
    "approve",
    "override_match",
    "hold",
    "release",
    "dispute",
    "schedule",
    "cancel",
    "dispute_contacts",
}


class CreditMemoViewSet(ExportableListMixin, *CREATE_ONLY):
    """Credit memos, each applied to one invoice on entry."""

    queryset = CreditMemo.objects.select_related("vendor", "invoice")
    serializer_class = serializers.CreditMemoSerializer
    filterset_class = CreditMemoFilter
    search_fields = ["number", "vendor__code"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.credit_memo_apply(
            actor=self.request.user, invoice_id=data.pop("invoice").pk, **data
        )


class PaymentViewSet(ExportableListMixin, *CREATE_ONLY):
    """Payments of scheduled invoices; never above the open balance."""

    queryset = Payment.objects.select_related("invoice__vendor")
    serializer_class = serializers.PaymentSerializer
    filterset_class = PaymentFilter
    search_fields = ["reference", "invoice__number"]
    ordering_fields = ["payment_date", "amount"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.payment_record(
            actor=self.request.user, invoice_id=data.pop("invoice").pk, **data
        )


class AgingReportRunViewSet(*CREATE_ONLY):
    """Stored AP aging report runs; a worker writes their CSV and XLSX files."""

    queryset = AgingReportRun.objects.select_related("vendor")
    serializer_class = serializers.AgingReportRunSerializer
    filterset_class = AgingReportRunFilter

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = reports.aging_run_request(
            actor=self.request.user, as_of=data["as_of"], vendor=data.get("vendor"), currency=data.get("currency", "")
        )

    @extend_schema(
        parameters=[OpenApiParameter("file", str, enum=["csv", "xlsx"])],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        run = self.get_object()
        # As in the reports center: needs export_records, and the download is an audited export.
        return report_download_response(
            actor=request.user, kind="ap_aging", run_id=run.pk, fmt=request.query_params.get("file", "csv")
        )


class APAgingView(APIView):
    """AP aging as of a day, by vendor and currency, with one total per currency (amounts as decimal strings)."""

    queryset = Invoice.objects.none()  # model permissions: view on invoices

    @extend_schema(parameters=[serializers.APAgingQuerySerializer], responses=serializers.APAgingReportSerializer)
    def get(self, request):
        query = serializers.APAgingQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        report = selectors.ap_aging(
            as_of=data.get("as_of") or timezone.localdate(),
            vendor_id=data["vendor"].pk if data.get("vendor") else None,
            currency=data.get("currency"),
        )
        return Response(selectors.aging_as_json(report))
