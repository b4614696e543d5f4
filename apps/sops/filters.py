"""FilterSets of the SOP app, shared by the API and the selectors."""

import django_filters
from django.utils import timezone

from apps.sops.models import Acknowledgement, Area, SOPDocument, SOPVersion


class SOPDocumentFilter(django_filters.FilterSet):
    area = django_filters.ChoiceFilter(choices=Area.choices)
    review_overdue = django_filters.BooleanFilter(method="filter_review_overdue", label="Review overdue")
    review_due_before = django_filters.DateFilter(field_name="next_review_date", lookup_expr="lte")
    published = django_filters.BooleanFilter(field_name="current_version", lookup_expr="isnull", exclude=True)

    class Meta:
        model = SOPDocument
        fields = ["area", "owner", "governs_area", "review_overdue", "review_due_before", "published"]

    def filter_review_overdue(self, queryset, name, value):
        today = timezone.localdate()
        if value:
            return queryset.filter(next_review_date__lt=today)
        return queryset.exclude(next_review_date__lt=today)


class SOPVersionFilter(django_filters.FilterSet):
    area = django_filters.ChoiceFilter(field_name="document__area", choices=Area.choices)
    code = django_filters.CharFilter(field_name="document__code", lookup_expr="iexact")
    status = django_filters.MultipleChoiceFilter(choices=SOPVersion.Status.choices)
    published_after = django_filters.IsoDateTimeFilter(field_name="published_at", lookup_expr="gte")
    published_before = django_filters.IsoDateTimeFilter(field_name="published_at", lookup_expr="lt")

    class Meta:
        model = SOPVersion
        fields = ["document", "code", "area", "status", "author", "reviewer", "published_after", "published_before"]


class AcknowledgementFilter(django_filters.FilterSet):
    document = django_filters.NumberFilter(field_name="version__document")
    area = django_filters.ChoiceFilter(field_name="version__document__area", choices=Area.choices)
    since = django_filters.IsoDateTimeFilter(field_name="acknowledged_at", lookup_expr="gte")
    until = django_filters.IsoDateTimeFilter(field_name="acknowledged_at", lookup_expr="lt")

    class Meta:
        model = Acknowledgement
        fields = ["version", "user", "document", "area", "since", "until"]
