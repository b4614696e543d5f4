"""Security headers, cookie flags, password rules, upload limits and the logging of denials,
under the settings production really gets."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.core.models import AuditEvent
from tests.core.factories import PASSWORD

BASE_DIR = Path(__file__).resolve().parents[2]
HOST = "portal.example.com"
HARDENING_SETTINGS = [
    "ALLOWED_HOSTS",
    "DEBUG",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "X_FRAME_OPTIONS",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
]


@pytest.fixture(scope="module")
def production_values():
    """The hardening settings as ``DJANGO_ENV=production`` computes them (the deploy check's environment)."""
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{name: getattr(settings, name) for name in {HARDENING_SETTINGS!r}}}))"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "opsportal.settings",
        "DJANGO_ENV": "production",
        "DJANGO_SECRET_KEY": "production-shape-test-key-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": HOST,
    }
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True
    )
    values = json.loads(result.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def production(settings, production_values):
    for name, value in production_values.items():
        setattr(settings, name, value)
    return settings


def _https(client, method, url, **extra):
    return getattr(client, method)(url, secure=True, HTTP_HOST=HOST, **extra)


def _assert_hardened(response):
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_representative_pages_carry_the_security_headers(production, client, make_user):
    login_page = _https(client, "get", "/admin/login/")
    assert login_page.status_code == 200
    _assert_hardened(login_page)

    client.force_login(make_user("administrator"))
    for url in ("/admin/", "/api/v1/users/"):
        response = _https(client, "get", url)
        assert response.status_code == 200, url
        _assert_hardened(response)

    health = _https(client, "get", "/healthz")
    assert health.status_code == 200
    _assert_hardened(health)


def test_plain_http_is_redirected_except_the_health_check(production, client, db):
    response = client.get("/admin/login/", HTTP_HOST=HOST)
    assert response.status_code == 301 and response["Location"] == f"https://{HOST}/admin/login/"
    assert client.get("/healthz", HTTP_HOST=HOST).status_code == 200


def test_session_and_csrf_cookies_are_secure_httponly_and_same_site(production, client, make_user):
    user = make_user("associate")
    login_page = _https(client, "get", "/admin/login/")
    csrf = login_page.cookies["csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"

    signed_in = _https(client, "post", "/admin/login/", data={"username": user.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    session = signed_in.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Sh0rt!pw", "password_too_short"),
        ("password123", "password_too_common"),
        ("8461937205", "password_entirely_numeric"),
        ("mariakowalska", "password_too_similar"),
    ],
)
def test_password_validators_refuse_weak_passwords(make_user, password, code):
    user = make_user(None, username="mariakowalska", first_name="Maria", last_name="Kowalska")
    with pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    assert code in {error.code for error in refused.value.error_list}


def test_password_validators_accept_a_strong_password(make_user):
    assert validate_password("plum-orbit-cascade-71", make_user(None)) is None


def test_a_form_body_over_the_limit_is_refused_with_413_naming_the_limit(client, make_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client.force_login(make_user("administrator"))
    response = client.post("/admin/auth/group/add/", {"name": "x" * 4096})
    assert response.status_code == 413
    assert response.content.decode() == "Request body too large: at most 1024 bytes are accepted."
    assert not Group.objects.filter(name__startswith="xxx").exists()


def test_an_api_body_over_the_limit_is_refused_with_413_in_json(api_as, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = api_as("administrator")
    response = client.post("/api/v1/users/", {"username": "x" * 4096}, format="json")
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large: at most 1024 bytes are accepted."}


def test_more_files_than_allowed_in_one_request_are_refused_with_400(api_as, settings):
    client = api_as("administrator")
    limit = settings.DATA_UPLOAD_MAX_NUMBER_FILES
    files = {f"file{n}": SimpleUploadedFile(f"f{n}.csv", b"a,b\n", content_type="text/csv") for n in range(limit + 1)}
    response = client.post("/api/v1/import-jobs/", {"target": "vendors.vendor", **files}, format="multipart")
    assert response.status_code == 400
    assert response.json() == {"detail": f"Too many files in one request: at most {limit} are accepted."}


def test_every_denied_request_is_logged_with_user_address_path_and_time(api_as, client, db):
    associate = api_as("associate")
    assert associate.get("/api/v1/users/", REMOTE_ADDR="203.0.113.7").status_code == 403
    assert client.get("/api/v1/users/", REMOTE_ADDR="203.0.113.8").status_code in (401, 403)

    denied_user = AuditEvent.objects.get(action="access.denied", username=associate.user.username)
    assert denied_user.outcome == "denied" and denied_user.remote_addr == "203.0.113.7"
    assert "/api/v1/users/" in denied_user.request_path and denied_user.timestamp is not None
    anonymous = AuditEvent.objects.get(action="access.denied", remote_addr="203.0.113.8")
    assert anonymous.username == "" and anonymous.data["path"] == "/api/v1/users/"


def test_a_failed_login_is_logged_with_user_address_path_and_time(client, make_user):
    user = make_user("associate")
    client.post("/admin/login/", {"username": user.username, "password": "wrong"}, REMOTE_ADDR="198.51.100.4")
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.username == user.username and event.outcome == "failed"
    assert event.remote_addr == "198.51.100.4"
    assert event.request_path == "POST /admin/login/" and event.timestamp is not None
