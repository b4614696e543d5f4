import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout

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


# --- Session timeouts -------------------------------------------------------------------------

SESSION_LOGIN_AT_KEY = "opsportal_login_at"
SESSION_LAST_SEEN_KEY = "opsportal_last_seen"
# Activity is written to the session at most this often: idle time is measured to within a minute
# without a session write on every request.
SESSION_ACTIVITY_RESOLUTION_SECONDS = 60
SESSION_EXPIRED_MESSAGE = "Your session has ended ({reason}). Please sign in again."


def start_session_clock(session) -> None:
    """Start a signed-in session's clocks (called at sign-in): idle from now, absolute end fixed."""
    now = time.time()
    session[SESSION_LOGIN_AT_KEY] = now
    session[SESSION_LAST_SEEN_KEY] = now
    # The absolute end: a fixed moment, not a rolling age that each save would push back.
    session.set_expiry(datetime.fromtimestamp(now + settings.SESSION_COOKIE_AGE, tz=UTC))


class SessionTimeoutMiddleware:
    """A signed-in session ends after ``SESSION_IDLE_TIMEOUT_SECONDS`` without a request, and in any
    case ``SESSION_COOKIE_AGE`` after sign-in, however active it has been.

    The sign-in time is kept in the session and the session's expiry is pinned to it, so activity
    never extends a session. An ended session is flushed before the view runs: the admin sends the
    person to its login page with a message, the API answers as to anyone not signed in. Requests
    authenticated by an API token carry no session and are not affected.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.get(SESSION_KEY):
            reason = self._expired_because(session)
            if reason:
                self._end(request, reason)
            else:
                self._touch(session)
        response = self.get_response(request)
        if session is not None and session.get(SESSION_KEY) and SESSION_LOGIN_AT_KEY not in session:
            start_session_clock(session)  # a sign-in this request made
        return response

    @staticmethod
    def _expired_because(session) -> str:
        now = time.time()
        login_at = session.get(SESSION_LOGIN_AT_KEY)
        last_seen = session.get(SESSION_LAST_SEEN_KEY, login_at)
        if login_at is None:
            return ""  # signed in before timeouts were kept: starts counting now
        if now - login_at > settings.SESSION_COOKIE_AGE:
            return "signed in too long ago"
        if last_seen is not None and now - last_seen > settings.SESSION_IDLE_TIMEOUT_SECONDS:
            return "idle too long"
        return ""

    def _touch(self, session) -> None:
        now = time.time()
        if SESSION_LOGIN_AT_KEY not in session:
            start_session_clock(session)
        elif now - session.get(SESSION_LAST_SEEN_KEY, 0) >= SESSION_ACTIVITY_RESOLUTION_SECONDS:
            session[SESSION_LAST_SEEN_KEY] = now

    @staticmethod
    def _end(request, reason: str) -> None:
        user = request.user
        audit.record(
            action="auth.session_expired",
            actor=user,
            data={"reason": reason, "path": request.path[:255]},
        )
        logout(request)  # flushes the session; request.user becomes anonymous
        if not request.path.startswith("/api/"):
            messages.warning(request, SESSION_EXPIRED_MESSAGE.format(reason=reason), fail_silently=True)


# --- Background work the broker refused -------------------------------------------------------


class EnqueueFailureMessageMiddleware:
    """Tells the person when what they saved is saved but its background work waits for the queue.

    ``apps.core.enqueue`` records each task the broker refused and sends it again later; in the
    admin this adds a warning to the page the person lands on next.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from apps.core import enqueue

        failures, token = enqueue.collect_failures()
        try:
            response = self.get_response(request)
        finally:
            enqueue.stop_collecting(token)
        if failures and not request.path.startswith("/api/"):
            messages.warning(request, enqueue.QUEUE_DOWN_MESSAGE, fail_silently=True)
        return response


# --- Request size limits ----------------------------------------------------------------------


class RequestLimitsMiddleware:
    """Bodies over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` get 413 before anything reads them, and requests
    with more files or fields than allowed get 400, each with a message saying which limit (JSON
    for the API). Files themselves are limited where they are accepted (imports, attachments).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        content_type = request.META.get("CONTENT_TYPE", "")
        if limit is not None and not content_type.startswith("multipart/form-data"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return self._refuse(request, 413, f"Request body too large: at most {limit} bytes are accepted.")
        if request.method == "POST" and not request.path.startswith("/api/"):
            # Admin and web forms are read here, before the audit context and CSRF protection read
            # them, so that a limit is answered with its message. API views read their own bodies.
            try:
                request.POST  # noqa: B018 - parses the form and its files
            except Exception as exc:
                refused = self.process_exception(request, exc)
                if refused is None:
                    raise
                return refused
        return self.get_response(request)

    def process_exception(self, request, exception):
        from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent

        if isinstance(exception, RequestDataTooBig):
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return self._refuse(request, 413, f"Request body too large: at most {limit} bytes are accepted.")
        if isinstance(exception, TooManyFilesSent):
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
            return self._refuse(request, 400, f"Too many files in one request: at most {limit} are accepted.")
        if isinstance(exception, TooManyFieldsSent):
            limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
            return self._refuse(request, 400, f"Too many fields in one request: at most {limit} are accepted.")
        return None

    @staticmethod
    def _refuse(request, status: int, message: str):
        import logging

        from django.http import HttpResponse, JsonResponse

        logging.getLogger("apps.core.security").warning(
            "refused %s %s from %s: %s", request.method, request.path, request.META.get("REMOTE_ADDR"), message
        )
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message}, status=status)
        return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")
