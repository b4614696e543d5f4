from rest_framework.renderers import BaseRenderer


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
