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
