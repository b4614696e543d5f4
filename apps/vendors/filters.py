import django_filters

from apps.vendors.models import PerformanceReview, Vendor, VendorContact, VendorContract


class VendorFilter(django_filters.FilterSet):
    class Meta:
        model = Vendor
        fields = ["status", "category", "latest_standing", "bank_details_pending", "default_currency", "manager"]


class VendorContactFilter(django_filters.FilterSet):
    class Meta:
        model = VendorContact
        fields = ["vendor", "is_primary"]


class VendorContractFilter(django_filters.FilterSet):
    ends_before = django_filters.DateFilter(field_name="end_date", lookup_expr="lte")
    ends_after = django_filters.DateFilter(field_name="end_date", lookup_expr="gte")

    class Meta:
        model = VendorContract
        fields = ["vendor", "ends_before", "ends_after"]


class PerformanceReviewFilter(django_filters.FilterSet):
    period_end_after = django_filters.DateFilter(field_name="period_end", lookup_expr="gte")
    period_end_before = django_filters.DateFilter(field_name="period_end", lookup_expr="lte")

    class Meta:
        model = PerformanceReview
        fields = ["vendor", "status", "standing", "reviewer", "period_end_after", "period_end_before"]
