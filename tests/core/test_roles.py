"""Roles: groups with exactly the permissions of the role table; demo users; what the auditor sees."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from apps.core import roles
from apps.core.services.demo import DEMO_USERS, demo_seed
from apps.core.services.roles import roles_sync


def perms_of(group_name):
    return set(Permission.objects.filter(group__name=group_name).values_list("content_type__app_label", "codename"))


def test_setup_roles_is_idempotent_and_restores_drifted_permissions(db):
    call_command("setup_roles")
    before = {role: perms_of(role) for role in roles.ALL_ROLES}
    auditor = Group.objects.get(name=roles.AUDITOR)
    auditor.permissions.add(Permission.objects.get(codename="add_user"))  # someone widened it by hand

    call_command("setup_roles")

    assert {role: perms_of(role) for role in roles.ALL_ROLES} == before
    assert Group.objects.filter(name__in=roles.ALL_ROLES).count() == len(roles.ALL_ROLES)


def test_auditor_can_view_everything_and_change_nothing(db):
    roles_sync()
    perms = perms_of(roles.AUDITOR)
    codenames = {codename for _, codename in perms}
    assert ("core", "export_records") in perms
    assert ("core", "view_auditevent") in perms
    assert ("auditlog", "view_logentry") in perms
    assert ("auth", "view_user") in perms
    assert all(c.startswith("view_") or c == "export_records" for c in codenames), codenames


def test_every_readable_model_is_viewable_by_the_auditor(db):
    roles_sync()
    perms = perms_of(roles.AUDITOR)
    for label in roles.readable_models():
        app_label, model = label.split(".")
        assert (app_label, f"view_{model}") in perms, label


def test_demo_seed_is_idempotent_and_puts_one_user_in_each_role(db, django_user_model):
    created = demo_seed(password="demo-pass-123")
    assert created == [username for username, _ in DEMO_USERS]
    assert demo_seed(password="other-pass-456") == []
    for username, role in DEMO_USERS:
        user = django_user_model.objects.get(username=username)
        assert user.check_password("demo-pass-123")
        assert user.is_staff
        if role:
            assert list(user.groups.values_list("name", flat=True)) == [role]
        else:
            assert user.is_superuser


def test_seed_demo_command_skips_a_database_that_has_users(db, django_user_model, capsys):
    django_user_model.objects.create_user("existing")
    call_command("seed_demo", "--if-empty", "--password", "demo-pass-123")
    assert "left as it is" in capsys.readouterr().out
    assert not django_user_model.objects.filter(username="associate").exists()


def test_seed_demo_generates_and_prints_a_password(db, capsys, tmp_path, settings, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    settings.VAR_DIR = tmp_path
    call_command("seed_demo")
    out = capsys.readouterr().out
    password = out.split("Generated password for the new demo users: ")[1].strip()
    assert len(password) >= 12
    assert (tmp_path / "demo-password").read_text().strip() == password
    assert (tmp_path / "demo-password").stat().st_mode & 0o077 == 0


def test_seed_demo_refuses_production(db, settings):
    from django.core.management.base import CommandError

    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="not for production"):
        call_command("seed_demo", "--password", "demo-pass-123")


@pytest.mark.parametrize("username", [username for username, _ in DEMO_USERS])
def test_each_demo_user_can_log_in_to_the_admin(client, db, username):
    demo_seed(password="demo-pass-123", records=False)
    response = client.post(
        reverse("admin:login"), {"username": username, "password": "demo-pass-123", "next": "/admin/"}
    )
    assert response.status_code == 302 and response.url == "/admin/"
    index = client.get("/admin/")
    assert index.status_code == 200
    assert b"Ops Portal" in index.content


def test_auditor_sees_no_add_change_or_delete_in_the_admin(client, make_user):
    auditor = make_user("auditor")
    client.force_login(auditor)
    index = client.get("/admin/").content.decode()
    assert "addlink" not in index and "changelink" not in index
    assert "viewlink" in index

    users = client.get(reverse("admin:auth_user_changelist")).content.decode()
    assert "addlink" not in users
    assert 'name="action"' not in users  # no bulk actions (delete_selected) offered

    page = client.get(reverse("admin:auth_user_change", args=[auditor.pk])).content.decode()
    assert 'name="_save"' not in page and "deletelink" not in page
    assert client.post(reverse("admin:auth_user_change", args=[auditor.pk]), {"first_name": "x"}).status_code == 403
    assert client.get(reverse("admin:auth_user_add")).status_code == 403
