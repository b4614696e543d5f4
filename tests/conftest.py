import os

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from apps.core import roles
from apps.core.services.roles import roles_sync
from tests.core.factories import UserFactory

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are ordinary synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROLE_NAMES = {
    "associate": roles.ASSOCIATE,
    "approver": roles.APPROVER,
    "vendor_manager": roles.VENDOR_MANAGER,
    "inventory_controller": roles.INVENTORY_CONTROLLER,
    "sop_owner": roles.SOP_OWNER,
    "auditor": roles.AUDITOR,
    "administrator": roles.ADMINISTRATOR,
}


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres") and not settings.USING_POSTGRES:
        message = "needs PostgreSQL: set DATABASE_URL=postgres://..."
        if os.environ.get("CI"):
            pytest.fail(f"CI must run every test; {message}")
        pytest.skip(message)


@pytest.fixture
def role_groups(db):
    roles_sync()
    return {key: Group.objects.get(name=name) for key, name in ROLE_NAMES.items()}


@pytest.fixture
def make_user(role_groups):
    """``make_user("auditor")`` — a staff user in that role's group; ``make_user(None)``: no group."""

    def make(role=None, **fields):
        fields.setdefault("is_staff", True)
        user = UserFactory(**fields)
        if role:
            user.groups.add(role_groups[role])
        return user

    return make


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(make_user):
    """``api_as("auditor")`` — an API client authenticated with that role's token."""
    from rest_framework.authtoken.models import Token

    def client_for(role=None, user=None):
        user = user or make_user(role)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
        client.user = user
        return client

    return client_for
