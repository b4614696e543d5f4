"""FilterSets shared by the API and the admin. None of them filters on an expected quantity of a
count a person may not see (see ``selectors.expected_visible_q``)."""

import django_filters
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce

from apps.inventory import selectors
from apps.inventory.models import CycleCount, CycleCountLine, Item, LedgerEntry, Location, ReorderAlert, StockLevel


class ItemFilter(django_filters.FilterSet):
    below_reorder_point = django_filters.BooleanFilter(method="filter_below", label="At or below reorder point")

    class Meta:
        model = Item
        fields = ["abc_class", "is_critical", "is_active", "unit_of_measure", "below_reorder_point"]

    def filter_below(self, queryset, name, value):
        ids = [item.pk for item, _ in selectors.items_below_reorder_point()]
        return queryset.filter(pk__in=ids) if value else queryset.exclude(pk__in=ids)


class LocationFilter(django_filters.FilterSet):
    warehouse = django_filters.CharFilter(field_name="warehouse__code")

    class Meta:
        model = Location
        fields = ["warehouse", "zone", "is_active"]


class StockLevelFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="item__sku")
    location = django_filters.CharFilter(field_name="location__code")
    warehouse = django_filters.CharFilter(field_name="location__warehouse__code")
    abc_class = django_filters.CharFilter(field_name="item__abc_class")

    class Meta:
        model = StockLevel
        fields = ["item", "sku", "location", "warehouse", "abc_class"]


class LedgerFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="item__sku")
    location = django_filters.CharFilter(field_name="location__code")
    warehouse = django_filters.CharFilter(field_name="location__warehouse__code")
    since = django_filters.IsoDateTimeFilter(field_name="posted_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="posted_at", lookup_expr="lt")
    count = django_filters.NumberFilter(field_name="count_line__count")

    class Meta:
        model = LedgerEntry
        fields = ["item", "sku", "location", "warehouse", "kind", "since", "until", "count"]


class CycleCountFilter(django_filters.FilterSet):
    warehouse = django_filters.CharFilter(field_name="warehouse__code")
    due_before = django_filters.DateFilter(field_name="due_date", lookup_expr="lte")
    due_after = django_filters.DateFilter(field_name="due_date", lookup_expr="gte")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Counted or recounted by me")
    has_variance = django_filters.BooleanFilter(
        method="filter_has_variance", label="Has a line with a variance (counts whose expected quantities you may see)"
    )

    class Meta:
        model = CycleCount
        fields = ["status", "kind", "warehouse", "zone", "counter", "recounter", "mine", "has_variance"]

    def filter_mine(self, queryset, name, value):
        me = Q(counter_id=self.request.user.pk) | Q(recounter_id=self.request.user.pk)
        return queryset.filter(me) if value else queryset.exclude(me)

    def filter_has_variance(self, queryset, name, value):
        user = self.request.user
        varied = (
            CycleCountLine.objects.filter(count_id=OuterRef("pk"), expected_quantity__isnull=False)
            .annotate(final=Coalesce("recount_quantity", "counted_quantity"))
            .filter(final__isnull=False)
            .exclude(final=F("expected_quantity"))
        )
        visible = queryset.filter(
            Q(status__in=[s for s in CycleCount.Status.values if s not in CycleCount.OPEN])
            | (
                Q(pk__in=CycleCountLine.objects.filter(selectors.expected_visible_q(user)).values("count_id"))
                if user.has_perm("inventory.view_expected_quantity")
                else Q(pk__in=[])
            )
        )
        return visible.filter(Exists(varied)) if value else visible.exclude(Exists(varied))


class ReorderAlertFilter(django_filters.FilterSet):
    open = django_filters.BooleanFilter(field_name="resolved_at", lookup_expr="isnull", label="Still open")
    sku = django_filters.CharFilter(field_name="item__sku")

    class Meta:
        model = ReorderAlert
        fields = ["open", "sku", "is_critical"]
