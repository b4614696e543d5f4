"""The API skeleton: token auth, permissions on reads and writes, JSON errors, pagination, schema."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apps.core import audit
from apps.core.api.exceptions import exception_handler
from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import AuditEvent
from tests.core.factories import PASSWORD

OPEN_TO_ANONYMOUS = {"/healthz", "/api/v1/auth/token/"}


def _concrete_paths(resolver=None, prefix=""):
    """Every URL the API and health endpoints serve, with sample values for their parameters."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _concrete_paths(entry, pattern)
        elif isinstance(entry, URLPattern):
            path = re.sub(r"<drf_format_suffix:\w+>", ".json", pattern)
            path = re.sub(r"<uuid:\w+>", "3fa85f64-5717-4562-b3fc-2c963f66afa6", path)
            path = re.sub(r"\(\?P<format>[^)]*\)", "json", path)
            path = re.sub(r"<(?:int:)?\w+>|\(\?P<\w+>[^)]*\)", "1", path)
            path = path.replace("^", "").replace("$", "").replace("\\.", ".").replace("/?", "/")
            yield "/" + path


def test_token_endpoint_returns_a_token_for_valid_credentials(api_client, make_user):
    user = make_user("associate")
    response = api_client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/notifications/").status_code == 200
    assert AuditEvent.objects.filter(action="auth.token_issued", actor=user).exists()


def test_token_endpoint_refuses_a_wrong_password_with_a_clear_message(api_client, make_user):
    user = make_user("associate")
    response = api_client.post("/api/v1/auth/token/", {"username": user.username, "password": "wrong"})
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with the given username and password."]}
    assert AuditEvent.objects.filter(action="auth.login_failed", username=user.username, outcome="failed").exists()


def test_token_endpoint_names_missing_fields(api_client, db):
    response = api_client.post("/api/v1/auth/token/", {})
    assert response.status_code == 400
    assert set(response.json()) == {"username", "password"}


def test_repeated_failed_logins_lock_the_account_even_for_the_right_password(api_client, make_user, settings):
    user = make_user("associate")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post("/api/v1/auth/token/", {"username": user.username, "password": "wrong"})
    response = api_client.post("/api/v1/auth/token/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert "locked" in response.json()["detail"]
    assert AuditEvent.objects.filter(action="auth.locked_out", username=user.username).exists()


def test_admin_login_is_throttled_too(client, make_user, settings):
    user = make_user("associate")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": user.username, "password": "wrong"})
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 429
    assert b"locked" in response.content
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_no_endpoint_is_open_to_anonymous_users_except_token_and_health(api_client):
    paths = sorted({p for p in _concrete_paths() if p.startswith(("/api/", "/healthz"))})
    assert "/api/v1/users/" in paths and "/api/schema/" in paths and "/api/docs/" in paths
    for path in paths:
        response = api_client.get(path)
        if path in OPEN_TO_ANONYMOUS:
            assert response.status_code in (200, 405), path
        else:
            assert response.status_code in (401, 403), f"{path} answered {response.status_code} to anonymous"


def test_reads_need_the_view_permission(api_as):
    associate = api_as("associate")  # no permission on users yet
    assert associate.get("/api/v1/users/").status_code == 403
    assert associate.get("/api/v1/audit-events/").status_code == 403
    assert api_as("auditor").get("/api/v1/users/").status_code == 200


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/api/v1/users/", {"username": "x1"}),
        ("patch", "/api/v1/users/{self}/", {"first_name": "Changed"}),
        ("put", "/api/v1/users/{self}/", {"username": "x", "first_name": "Changed"}),
        ("post", "/api/v1/system/ping/", {}),
    ],
)
def test_auditor_gets_403_on_writes(api_as, method, path, body):
    client = api_as("auditor")
    response = getattr(client, method)(path.format(self=client.user.pk), body)
    assert response.status_code == 403
    assert "detail" in response.json()
    client.user.refresh_from_db()
    assert client.user.first_name != "Changed"


def test_auditor_cannot_write_through_any_read_only_endpoint(api_as):
    client = api_as("auditor")
    for path in ["/api/v1/audit-events/", "/api/v1/audit-changes/", "/api/v1/groups/", "/api/v1/notifications/"]:
        assert client.post(path, {}).status_code in (403, 405), path


def test_denied_requests_are_logged(api_as):
    client = api_as("auditor")
    client.post("/api/v1/users/", {"username": "x1"})
    event = AuditEvent.objects.get(action="access.denied")
    assert event.outcome == "denied"
    assert event.username == client.user.username
    assert event.path == "api"
    assert event.data["path"] == "/api/v1/users/"


def test_validation_errors_are_400_with_field_errors(api_as):
    client = api_as("administrator")
    response = client.post("/api/v1/users/", {"username": "has spaces!", "groups": ["No such role"]})
    assert response.status_code == 400
    assert set(response.json()) == {"username", "groups"}


def test_not_found_is_json(api_as):
    response = api_as("administrator").get("/api/v1/users/999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No User matches the given query."}


def test_transition_not_allowed_becomes_409():
    response = exception_handler(TransitionNotAllowed("Only a submitted invoice can be approved."), {})
    assert response.status_code == 409
    assert response.data == {"detail": "Only a submitted invoice can be approved."}


def test_django_validation_error_becomes_400_with_fields():
    from django.core.exceptions import ValidationError

    response = exception_handler(ValidationError({"amount": ["Must be positive."]}), {})
    assert response.status_code == 400
    assert response.data == {"amount": ["Must be positive."]}


def test_page_pagination_on_ordinary_lists(api_as, make_user):
    for _ in range(3):
        make_user(None)
    body = api_as("auditor").get("/api/v1/users/?page_size=2").json()
    assert body["count"] >= 4
    assert len(body["results"]) == 2
    assert "page=2" in body["next"]


def test_cursor_pagination_on_the_event_log(api_as, make_user):
    user = make_user("auditor")
    for n in range(5):
        audit.record(action=f"test.event{n}", actor=user)
    client = api_as(user=user)
    first = client.get("/api/v1/audit-events/?page_size=2").json()
    assert "count" not in first
    assert [e["action"] for e in first["results"]] == ["test.event4", "test.event3"]
    second = client.get(first["next"]).json()
    assert [e["action"] for e in second["results"]] == ["test.event2", "test.event1"]


def test_audit_events_filter_by_action_and_outcome(api_as, make_user):
    user = make_user("auditor")
    audit.record(action="auth.login", actor=user)
    audit.record(action="auth.login_failed", outcome="failed", username="mallory")
    body = api_as(user=user).get("/api/v1/audit-events/?outcome=failed").json()
    assert [e["username"] for e in body["results"]] == ["mallory"]


def test_audit_changes_filter_by_model_and_path(api_as, make_user):
    client = api_as("administrator")
    client.post("/api/v1/users/", {"username": "via-api"})
    body = api_as("auditor").get("/api/v1/audit-changes/?model=auth.user&path=api").json()
    assert [c["object_repr"] for c in body["results"]] == ["via-api"]
    assert body["results"][0]["path"] == "api"


def test_openapi_schema_and_offline_docs(api_as, client, make_user):
    schema = api_as("auditor").get("/api/schema/?format=json")
    assert schema.status_code == 200
    document = schema.json()
    assert document["openapi"].startswith("3.")
    assert "/api/v1/users/" in document["paths"]
    assert "/api/v1/auth/token/" in document["paths"]

    client.force_login(make_user("auditor"))
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    external = re.findall(r"""(?:src|href)=["'](https?://[^"']+)""", html)
    assert external == [], f"the docs page loads files from the internet: {external}"


def test_users_api_creates_a_user_with_roles_and_no_usable_password(api_as):
    client = api_as("administrator")
    response = client.post(
        "/api/v1/users/", {"username": "newhire", "email": "new@example.com", "groups": ["Associate"]}
    )
    assert response.status_code == 201
    assert response.json()["groups"] == ["Associate"]
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username="newhire")
    assert user.is_staff and not user.has_usable_password()
