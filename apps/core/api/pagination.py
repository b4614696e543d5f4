from rest_framework.pagination import CursorPagination, PageNumberPagination


class PagePagination(PageNumberPagination):
    """Numbered pages (``?page=``, ``?page_size=`` up to 500): the default for ordinary lists."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class LargeTablePagination(CursorPagination):
    """Cursor pages for tables that grow without bound: constant cost on every page, no COUNT."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-pk"


class CountedLargeTablePagination(LargeTablePagination):
    """Cursor pages for big business tables, with a count that stops at 10,000 (``count_capped`` says so).

    The count is ``SELECT COUNT(*)`` over a ``LIMIT 10001`` subquery: its cost does not grow with the table.
    """

    def paginate_queryset(self, queryset, request, view=None):
        from apps.core.paginator import COUNT_CAP, capped_count

        self.count = capped_count(queryset)
        self.count_capped = self.count > COUNT_CAP
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data = {"count": int(self.count), "count_capped": self.count_capped, **response.data}
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"] = {
            "count": {"type": "integer", "example": 123, "description": "Exact up to 10,000; 10,001 means more."},
            "count_capped": {"type": "boolean", "description": "True when there are more than 10,000 rows."},
            **schema["properties"],
        }
        return schema
