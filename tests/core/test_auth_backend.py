"""A signed-in request loads its user, their permissions and their unread count in one query, and a change
of groups, permissions or active status takes effect on the very next request."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.core.auth_backends import PortalModelBackend, unread_notification_count_loaded
from apps.core.models import Notification

pytestmark = pytest.mark.django_db

LIST = "/admin/invoices/invoice/"


def _perm(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


def _sqls(client, url: str) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    return response.status_code, [q["sql"] for q in ctx.captured_queries]


def test_a_signed_in_admin_page_costs_one_query_for_session_user_permissions_and_badge(client, make_user):
    user = make_user("associate")
    Notification.objects.create(recipient=user, title="one")
    Notification.objects.create(recipient=user, title="two")
    client.force_login(user)

    status, sqls = _sqls(client, "/admin/password_change/")

    assert status == 200
    assert len(sqls) == 1, sqls  # the session comes from the cache
    assert '"auth_user"' in sqls[0] and '"core_notification"' in sqls[0]
    page = client.get(LIST).content.decode()
    assert 'data-testid="unread-count">2<' in page


def test_permission_changes_take_effect_on_the_next_request(client, make_user):
    user = make_user(None)
    client.force_login(user)
    assert client.get(LIST).status_code == 403

    user.user_permissions.add(_perm("view_invoice"))
    assert client.get(LIST).status_code == 200
    user.user_permissions.remove(_perm("view_invoice"))
    assert client.get(LIST).status_code == 403

    group = Group.objects.create(name="invoice readers")
    group.permissions.add(_perm("view_invoice"))
    user.groups.add(group)
    assert client.get(LIST).status_code == 200
    group.permissions.remove(_perm("view_invoice"))
    assert client.get(LIST).status_code == 403

    group.permissions.add(_perm("view_invoice"))
    assert client.get(LIST).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get(LIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_permissions_loaded_are_model_backend_s(make_user):
    user = make_user("associate")
    user.user_permissions.add(_perm("view_auditevent"), _perm("view_invoice"))
    fresh = ModelBackend()

    loaded = PortalModelBackend().get_user(user.pk)

    assert loaded._user_perm_cache == fresh.get_user_permissions(type(user).objects.get(pk=user.pk))
    assert loaded._group_perm_cache == fresh.get_group_permissions(type(user).objects.get(pk=user.pk))
    assert "core.view_auditevent" in loaded._user_perm_cache and loaded._group_perm_cache
    assert unread_notification_count_loaded(loaded) == 0
    with CaptureQueriesContext(connection) as ctx:
        assert loaded.has_perm("invoices.view_invoice") and not loaded.has_perm("auth.delete_user")
    assert ctx.captured_queries == []


def test_users_loaded_another_way_read_both_kinds_of_permissions_in_one_query(make_user):
    user = make_user("associate")
    user.user_permissions.add(_perm("view_auditevent"))
    backend, fresh = PortalModelBackend(), ModelBackend()
    plain = type(user).objects.get(pk=user.pk)

    with CaptureQueriesContext(connection) as ctx:
        everything = backend.get_all_permissions(plain)
    assert len(ctx.captured_queries) == 1
    assert everything == fresh.get_all_permissions(type(user).objects.get(pk=user.pk))
    assert backend.get_user_permissions(plain) == {"core.view_auditevent"}


def test_superusers_and_inactive_people(make_user):
    boss = make_user(None, is_superuser=True)
    gone = make_user("associate", is_active=False)
    backend = PortalModelBackend()

    loaded = backend.get_user(boss.pk)
    assert backend.get_all_permissions(loaded) == ModelBackend().get_all_permissions(type(boss).objects.get(pk=boss.pk))
    assert backend.get_user(gone.pk) is None
    assert backend.get_user(10**9) is None
