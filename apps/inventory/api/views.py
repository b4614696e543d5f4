from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from apps.core.api.fast import ListedPrefetchMixin
from apps.core.api.pagination import CountedLargeTablePagination
from apps.core.api.permissions import ModelPermissions
from apps.core.api.renderers import ExportableListMixin
from apps.inventory import selectors, services
from apps.inventory.api import serializers
from apps.inventory.filters import (
    CycleCountFilter,
    ItemFilter,
    LedgerFilter,
    LocationFilter,
    ReorderAlertFilter,
    StockLevelFilter,
)
from apps.inventory.models import (
    CycleCountLine,
    InventoryReportRun,
    Item,
    LedgerEntry,
    Location,
    ReorderAlert,
    StockLevel,
    Warehouse,
)
from apps.inventory.services.reports import can_request_reports


class CanViewModel(BasePermission):
    """Transitions: the model's view permission lets a person ask; the service decides who may."""

    def has_permission(self, request, view):
        user = request.user
        model = view.get_queryset().model
        return bool(
            user and user.is_authenticated and user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")
        )


class ItemViewSet(
    ExportableListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Items with on-hand and available totals (left empty for items you are counting). Deactivated, never deleted."""

    serializer_class = serializers.ItemSerializer
    filterset_class = ItemFilter
    search_fields = ["sku", "description"]
    ordering_fields = ["sku", "abc_class", "unit_cost", "reorder_point"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Item.objects.none()
        return selectors.items_for(user=self.request.user).order_by("sku")

    def perform_create(self, serializer):
        item = services.item_create(actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=item.pk)

    def perform_update(self, serializer):
        services.item_update(item_id=serializer.instance.pk, actor=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class WarehouseViewSet(viewsets.ReadOnlyModelViewSet):
    """Warehouses; their zones and bins are the locations."""

    queryset = Warehouse.objects.order_by("code")
    serializer_class = serializers.WarehouseSerializer
    search_fields = ["code", "name"]


class LocationViewSet(
    ExportableListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Bins (warehouse → zone → bin)."""

    queryset = Location.objects.select_related("warehouse").order_by("code")
    serializer_class = serializers.LocationSerializer
    filterset_class = LocationFilter
    search_fields = ["code"]

    def perform_create(self, serializer):
        serializer.instance = services.location_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.location_update(
            location_id=serializer.instance.pk, actor=self.request.user, **serializer.validated_data
        )


class StockLevelViewSet(ExportableListMixin, viewsets.ReadOnlyModelViewSet):
    """Quantities per item and bin (the sum of the ledger). Bins you are counting are left out."""

    serializer_class = serializers.StockLevelSerializer
    filterset_class = StockLevelFilter
    search_fields = ["item__sku", "location__code"]
    ordering_fields = ["quantity", "last_movement_at", "last_counted_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return StockLevel.objects.none()
        return selectors.stock_levels_for(user=self.request.user).order_by("item__sku", "location__code")


class LedgerViewSet(ListedPrefetchMixin, ExportableListMixin, viewsets.ReadOnlyModelViewSet):
    """The stock ledger: every change of quantity and why. Bins you are counting are left out."""

    serializer_class = serializers.LedgerEntrySerializer
    filterset_class = LedgerFilter
    search_fields = ["item__sku", "reference"]
    ordering_fields = ["posted_at", "quantity", "value"]
    pagination_class = CountedLargeTablePagination
    list_select_related = ("item", "location", "count_line")  # what the list shows; the person by id

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LedgerEntry.objects.none()
        # The permission check asks for the queryset too: look the person's blind bins up once per request.
        if "_ledger" not in self.__dict__:
            self._ledger = selectors.ledger_for(user=self.request.user).order_by("-posted_at", "-id")
        return self.for_list(self._ledger.all())


class ReorderAlertViewSet(ExportableListMixin, viewsets.ReadOnlyModelViewSet):
    """Items at or below their reorder point: one alert per item until it recovers."""

    serializer_class = serializers.ReorderAlertSerializer
    filterset_class = ReorderAlertFilter
    ordering_fields = ["opened_at", "resolved_at"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ReorderAlert.objects.none()
        return selectors.reorder_alerts_for(user=self.request.user)


class CycleCountViewSet(
    ExportableListMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Cycle counts and their transitions. Blind: a count's counter never gets its expected quantities."""

    filterset_class = CycleCountFilter
    search_fields = ["number", "lines__item__sku"]
    ordering_fields = ["due_date", "number", "status", "submitted_at", "approved_at"]

    def get_queryset(self):
        qs = selectors.counts_with_progress()
        if self.action == "retrieve":
            qs = qs.prefetch_related(
                Prefetch("lines", queryset=CycleCountLine.objects.select_related("item", "location"))
            )
        return qs.order_by("-due_date", "-id")

    def get_serializer_class(self):
        return serializers.CycleCountDetailSerializer if self.action == "retrieve" else serializers.CycleCountSerializer

    def get_permissions(self):
        if self.action in {"list", "retrieve", "create", "metadata"}:
            return [ModelPermissions()]
        return [CanViewModel()]

    def _detail(self, count, code=status.HTTP_200_OK):
        count = self.get_queryset().prefetch_related(None).get(pk=count.pk)
        return Response(
            serializers.CycleCountDetailSerializer(count, context=self.get_serializer_context()).data, status=code
        )

    @extend_schema(
        request=serializers.CycleCountCreateSerializer, responses={201: serializers.CycleCountSerializer(many=True)}
    )
    def create(self, request):
        """Ad-hoc counts by items, by locations or of items with recent variances (one per warehouse)."""
        data = serializers.CycleCountCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        counts = services.cycle_count_create(
            actor=request.user,
            kind=values["kind"],
            item_ids=values.get("item_ids"),
            location_ids=values.get("location_ids"),
            variance_days=values["variance_days"],
            counter_id=values.get("counter"),
            due_date=values.get("due_date"),
            notes=values["notes"],
        )
        created = self.get_queryset().filter(pk__in=[c.pk for c in counts])
        return Response(serializers.CycleCountSerializer(created, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=serializers.CycleCountDetailSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start counting: expected quantities are snapshotted (and not shown to you)."""
        return self._detail(services.cycle_count_start(count_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=serializers.CountEntriesSerializer, responses=serializers.CycleCountDetailSerializer)
    @action(detail=True, methods=["post"])
    def enter(self, request, pk=None):
        """Save counted (or recounted) quantities for some lines; again until submitted."""
        data = serializers.CountEntriesSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        entries = [
            {
                "line_id": row.get("line"),
                "sku": row.get("sku"),
                "location": row.get("location"),
                "quantity": row["quantity"],
            }
            for row in data.validated_data["lines"]
        ]
        count = services.cycle_count_enter(count_id=self.get_object().pk, actor=request.user, entries=entries)
        return self._detail(count)

    @extend_schema(request=None, responses=serializers.CycleCountDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Hand in the count or the recount."""
        return self._detail(services.cycle_count_submit(count_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=serializers.RecountRequestSerializer, responses=serializers.CycleCountDetailSerializer)
    @action(detail=True, methods=["post"])
    def recount(self, request, pk=None):
        """Send lines to recount by someone other than the counter (reviewers)."""
        data = serializers.RecountRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.cycle_count_request_recount(
            count_id=self.get_object().pk,
            actor=request.user,
            line_ids=data.validated_data["lines"],
            reason=data.validated_data["reason"],
        )
        return self._detail(count)

    @extend_schema(request=serializers.ApproveSerializer, responses=serializers.CycleCountDetailSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve: post the adjustments to the ledger and the stock levels."""
        data = serializers.ApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.cycle_count_approve(
            count_id=self.get_object().pk, actor=request.user, comment=data.validated_data["comment"]
        )
        return self._detail(count)

    @extend_schema(request=serializers.CountReasonSerializer, responses=serializers.CycleCountDetailSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Send every line back to counting."""
        data = serializers.CountReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.cycle_count_reject(
            count_id=self.get_object().pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._detail(count)

    @extend_schema(request=serializers.CountReasonSerializer, responses=serializers.CycleCountDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = serializers.CountReasonSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = services.cycle_count_cancel(
            count_id=self.get_object().pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return self._detail(count)

    @extend_schema(request=serializers.AssignSerializer, responses=serializers.CycleCountDetailSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        """Assign the counter (before the start), the recounter, or a new due date."""
        data = serializers.AssignSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        count = services.cycle_count_assign(
            count_id=self.get_object().pk,
            actor=request.user,
            counter_id=values.get("counter"),
            recounter_id=values.get("recounter"),
            due_date=values.get("due_date"),
        )
        return self._detail(count)


class InventoryReportRunPermission(ModelPermissions):
    def has_permission(self, request, view):
        if request.method == "POST":
            return can_request_reports(request.user)
        return super().has_permission(request, view)


class InventoryReportRunViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Inventory report runs (count accuracy, shrinkage, repeated variances, below reorder point)."""

    queryset = InventoryReportRun.objects.order_by("-created_at", "-id")
    serializer_class = serializers.InventoryReportRunSerializer
    permission_classes = [InventoryReportRunPermission]
    filterset_fields = ["kind", "status"]

    def perform_create(self, serializer):
        serializer.instance = services.inventory_report_request(actor=self.request.user, **serializer.validated_data)
