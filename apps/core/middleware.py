from apps.core import audit


def _path_for(request) -> str:
    if request.path.startswith("/api/"):
        return "api"
    if request.path.startswith("/admin/"):
        if request.path.endswith(("/import/", "/process_import/")):
            return "import"  # django-import-export's upload and confirm views
        if (
            request.method == "POST"
            and "action" in request.POST
            and ("_selected_action" in request.POST or "select_across" in request.POST)
        ):
            return "admin_action"  # a bulk action on a changelist, any ModelAdmin's
        return "admin"
    return "web"


class AuditContextMiddleware:
    """Every request acts as its user, through the admin, the API or the web.

    The user is read when a record is written, so API token authentication (which happens
    inside the view) is seen too. Requests answered 401 or 403 are logged as denied.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = _path_for(request)
        with audit.audit_context(
            path=path,
            actor=lambda: getattr(request, "user", None),
            remote_addr=request.META.get("REMOTE_ADDR"),
            detail=f"{request.method} {request.path}"[:255],
        ):
            response = self.get_response(request)
            if response.status_code in (401, 403):
                user = getattr(request, "user", None)
                audit.record(
                    action="access.denied",
                    outcome="denied",
                    username=user.get_username() if user is not None and user.is_authenticated else "",
                    data={"status": response.status_code, "method": request.method, "path": request.path[:255]},
                )
        return response
