from django_filters.rest_framework import DjangoFilterBackend


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend, without building and validating the filter form when the request names none of
    its filters (a plain page of a list): every filter leaves the list as it is when its value is empty."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = filterset_class.base_filters
        given = request.query_params
        named = any(param in names or param.rsplit("_", 1)[0] in names for param in given)
        if not named and not any(f.extra.get("required") for f in names.values()):
            return queryset
        return super().filter_queryset(request, queryset, view)
