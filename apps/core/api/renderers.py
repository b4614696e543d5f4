"""Files out of the API: ``?format=csv`` / ``?format=xlsx`` on list endpoints, with the rules of every export."""

from django.http import JsonResponse
from rest_framework.renderers import BaseRenderer
from rest_framework.settings import api_settings

from apps.core import exports
from apps.core.permissions import require_perm


class FileRenderer(BaseRenderer):
    """Lets ``?format=csv`` / ``?format=xlsx`` through content negotiation; the view returns the file itself."""

    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


class CSVRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXRenderer(FileRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"


def export_list_response(view, request, fmt: str):
    """The filtered list of ``view`` as a file: streamed CSV or XLSX at once, or an export job when large.

    Needs ``export_records``; the rows are the endpoint's ``export_columns`` or its own serializer output,
    so whatever it masks stays masked. A large export answers 202 with the export job to follow.
    """
    from apps.core.api.serializers import ExportJobSerializer
    from apps.core.services.exports import api_source, api_table, export_is_large, export_job_create

    require_perm(request.user, exports.EXPORT_PERMISSION, "You may not export records.")
    headers, rows, count = api_table(view=view)
    filters = {key: request.query_params.getlist(key) for key in request.query_params if key != "format"}
    what = view.get_queryset().model._meta.label_lower
    if export_is_large(count):
        job = export_job_create(
            actor=request.user, target=what, file_format=fmt, source=api_source(view, request), filters=filters
        )
        return JsonResponse(ExportJobSerializer(job, context={"request": request}).data, status=202)
    columns = getattr(view, "export_columns", None)
    if fmt == "csv" and columns:
        stream = exports.queryset_csv_stream(view.filter_queryset(view.get_queryset()), columns, actor=request.user)
        return exports.streaming_csv_response(actor=request.user, name=what, stream=stream, filters=filters)
    if fmt == "csv":
        return exports.streaming_csv_response(
            actor=request.user, name=what, headers=headers, rows=rows, filters=filters
        )
    return exports.export_response(
        actor=request.user, name=what.replace(".", "-"), headers=headers, rows=rows, fmt=fmt, filters=filters
    )


class ExportableListMixin:
    """A list endpoint that also answers ``?format=csv`` and ``?format=xlsx`` with its current filtered rows.

    Rows are the serializer's output unless the view sets ``export_columns`` (``apps.core.exports.Column``),
    which are read straight from the database: the fast path for big tables.
    """

    export_columns = None

    renderer_classes = [*api_settings.DEFAULT_RENDERER_CLASSES, CSVRenderer, XLSXRenderer]

    def list(self, request, *args, **kwargs):
        fmt = getattr(request.accepted_renderer, "format", None)
        if fmt in exports.CONTENT_TYPES:
            return export_list_response(self, request, fmt)
        return super().list(request, *args, **kwargs)
