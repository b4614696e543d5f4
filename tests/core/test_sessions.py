"""Sessions end after idle time and at an absolute age from sign-in, whatever the activity."""

import time

import pytest

from apps.core.middleware import SESSION_LAST_SEEN_KEY, SESSION_LOGIN_AT_KEY
from apps.core.models import AuditEvent
from tests.core.factories import PASSWORD


@pytest.fixture
def signed_in(client, make_user):
    """A client signed in through the admin login form, as a person would."""
    user = make_user("administrator")
    response = client.post("/admin/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    client.user = user
    return client


def _shift_session(client, *, key, seconds):
    """Move a stored timestamp into the past: the session looks as if that much time went by."""
    session = client.session
    session[key] = session[key] - seconds
    session.save()


def test_sign_in_records_the_time_and_pins_the_absolute_end(signed_in, settings):
    session = signed_in.session
    assert session[SESSION_LOGIN_AT_KEY] == pytest.approx(time.time(), abs=60)
    assert session[SESSION_LAST_SEEN_KEY] == session[SESSION_LOGIN_AT_KEY]
    assert session.get_expiry_age() <= settings.SESSION_COOKIE_AGE
    assert settings.SESSION_SAVE_EVERY_REQUEST is False


def test_a_recent_session_keeps_working(signed_in):
    _shift_session(signed_in, key=SESSION_LAST_SEEN_KEY, seconds=5 * 60)
    assert signed_in.get("/admin/").status_code == 200
    assert signed_in.session[SESSION_LAST_SEEN_KEY] == pytest.approx(time.time(), abs=60)


def test_an_idle_session_ends_on_the_next_request_with_a_message(signed_in, settings):
    _shift_session(signed_in, key=SESSION_LAST_SEEN_KEY, seconds=settings.SESSION_IDLE_TIMEOUT_SECONDS + 60)

    response = signed_in.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in signed_in.session
    login_page = signed_in.get(response["Location"])
    assert "Your session has ended (idle too long)" in login_page.content.decode()
    event = AuditEvent.objects.get(action="auth.session_expired")
    assert event.actor == signed_in.user and event.data["reason"] == "idle too long"


def test_activity_does_not_extend_the_absolute_age(signed_in, settings):
    # Active a minute ago, but signed in longer ago than the session may live.
    _shift_session(signed_in, key=SESSION_LOGIN_AT_KEY, seconds=settings.SESSION_COOKIE_AGE + 60)
    _shift_session(signed_in, key=SESSION_LAST_SEEN_KEY, seconds=60)

    response = signed_in.get("/admin/")

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert "_auth_user_id" not in signed_in.session
    assert AuditEvent.objects.get(action="auth.session_expired").data["reason"] == "signed in too long ago"


def test_requests_do_not_move_the_sign_in_time(signed_in):
    login_at = signed_in.session[SESSION_LOGIN_AT_KEY]
    _shift_session(signed_in, key=SESSION_LAST_SEEN_KEY, seconds=120)
    signed_in.get("/admin/")
    assert signed_in.session[SESSION_LOGIN_AT_KEY] == login_at


def test_the_api_answers_an_ended_session_as_not_signed_in(signed_in, settings):
    assert signed_in.get("/api/v1/users/").status_code == 200
    _shift_session(signed_in, key=SESSION_LAST_SEEN_KEY, seconds=settings.SESSION_IDLE_TIMEOUT_SECONDS + 60)

    response = signed_in.get("/api/v1/users/")

    assert response.status_code in (401, 403)
    assert AuditEvent.objects.filter(action="access.denied", request_path__contains="/api/v1/users/").exists()


def test_token_authentication_is_not_affected(api_as):
    client = api_as("administrator")
    assert client.get("/api/v1/users/").status_code == 200
    assert client.get("/api/v1/users/").status_code == 200
    assert not AuditEvent.objects.filter(action="auth.session_expired").exists()
