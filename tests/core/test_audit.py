"""Every change to a registered record is recorded on every path, with actor, path and fields."""

import sys

import pytest
from auditlog.models import LogEntry
from celery import shared_task
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from apps.core import audit
from apps.core.models import AuditEvent

User = get_user_model()


def changes_of(obj):
    return LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_pk=str(obj.pk)).order_by(
        "timestamp", "id"
    )


@shared_task(name="tests.deactivate_user")
def deactivate_user(user_id):
    user = User.objects.get(pk=user_id)
    user.is_active = False
    user.save()


def test_admin_form_change_records_actor_path_and_fields(client, make_user):
    administrator = make_user("administrator")
    target = make_user(None, first_name="Ann")
    client.force_login(administrator)

    response = client.post(
        reverse("admin:auth_user_change", args=[target.pk]),
        {
            "username": target.username,
            "first_name": "Anna",
            "last_name": target.last_name,
            "email": target.email,
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
            "initial-date_joined_0": "2026-01-01",
            "initial-date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.content
    entry = changes_of(target).last()
    assert entry.action == LogEntry.Action.UPDATE
    assert entry.actor == administrator
    assert entry.additional_data == {"path": "admin", "request": f"POST /admin/auth/user/{target.pk}/change/"}
    assert entry.changes["first_name"] == ["Ann", "Anna"]


def test_admin_bulk_action_records_admin_action_path(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x-password-1")
    doomed = Group.objects.create(name="Temporary")
    client.force_login(superuser)

    response = client.post(
        reverse("admin:auth_group_changelist"),
        {"action": "delete_selected", "_selected_action": [doomed.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert not Group.objects.filter(pk=doomed.pk).exists()
    entry = changes_of(doomed).get(action=LogEntry.Action.DELETE)
    assert entry.additional_data["path"] == "admin_action"
    assert entry.actor == superuser


def test_users_are_deactivated_not_deleted_in_admin(client, django_user_model, make_user):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x-password-1")
    target = make_user(None)
    client.force_login(superuser)
    assert client.get(reverse("admin:auth_user_delete", args=[target.pk])).status_code == 403


def test_api_create_records_api_path_and_token_user(api_as):
    client = api_as("administrator")

    response = client.post("/api/v1/users/", {"username": "newhire", "email": "n@example.com", "groups": ["Auditor"]})

    assert response.status_code == 201, response.json()
    created = User.objects.get(username="newhire")
    entries = list(changes_of(created))
    assert entries[0].action == LogEntry.Action.CREATE
    assert entries[0].changes["username"][1] == "newhire"
    assert {entry.additional_data["path"] for entry in entries} == {"api"}
    assert {entry.actor for entry in entries} == {client.user}
    assert any("groups" in entry.changes for entry in entries)  # role assignment is part of the trail


def test_task_changes_are_recorded_with_task_path(make_user):
    target = make_user(None)

    deactivate_user.apply(args=[target.pk])

    entry = changes_of(target).last()
    assert entry.additional_data["path"] == "task"
    assert entry.changes["is_active"] == [True, False]


def test_management_command_changes_are_recorded_with_command_path(transactional_db, monkeypatch):
    # A command run through manage.py closes its connections when it ends: no test transaction here.
    import manage

    monkeypatch.setattr(sys, "argv", ["manage.py", "setup_roles"])
    manage.main()

    entries = LogEntry.objects.filter(content_type__model="group")
    assert entries.exists()
    assert {entry.additional_data["path"] for entry in entries} == {"command"}


def test_code_outside_any_entry_point_is_recorded_as_system(db):
    user = User.objects.create_user("quiet")
    assert changes_of(user).get().additional_data == {"path": "system"}


def test_password_changes_are_recorded_without_the_hash(make_user):
    user = make_user(None)
    user.set_password("another-secret-9")
    user.save()
    entry = changes_of(user).last()
    assert "password" in entry.changes
    assert "another-secret-9" not in str(entry.changes)
    assert user.password not in str(entry.changes)


def test_audit_record_appends_event_with_context(make_user):
    actor = make_user("approver")
    with audit.audit_context(path="api", actor=actor, remote_addr="10.0.0.7", detail="POST /api/v1/x/"):
        event = audit.record(action="invoice.approved", target=actor, data={"amount": "10.00"})
    event.refresh_from_db()
    assert (event.actor, event.path, event.remote_addr, event.request_path) == (
        actor,
        "api",
        "10.0.0.7",
        "POST /api/v1/x/",
    )
    assert event.target_repr == str(actor)
    assert event.data == {"amount": "10.00"}


def test_unknown_path_is_refused():
    with pytest.raises(ValueError, match="Unknown audit path"), audit.audit_context(path="backdoor"):
        pass


@pytest.mark.parametrize("role", ["auditor", "administrator"])
def test_admin_offers_no_way_to_change_or_delete_the_trail(client, make_user, role):
    user = make_user(role)
    audit.record(action="auth.login", actor=user)
    event = AuditEvent.objects.first()
    client.force_login(user)

    change_page = client.get(reverse("admin:core_auditevent_change", args=[event.pk]))
    delete_page = client.get(reverse("admin:core_auditevent_delete", args=[event.pk]))
    add_page = client.get(reverse("admin:core_auditevent_add"))

    assert change_page.status_code == 200
    assert b'name="_save"' not in change_page.content
    assert delete_page.status_code == 403
    assert add_page.status_code == 403


def test_superuser_cannot_delete_change_log_entries_in_admin(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("root", "root@example.com", "x-password-1")
    entry = LogEntry.objects.first()
    client.force_login(superuser)
    assert client.get(reverse("admin:auditlog_logentry_delete", args=[entry.pk])).status_code == 403
    assert client.get(reverse("admin:auditlog_logentry_add")).status_code == 403


@pytest.mark.postgres
@pytest.mark.parametrize("table", ["core_auditevent", "auditlog_logentry"])
@pytest.mark.parametrize("statement", ["UPDATE {table} SET remote_addr = '10.0.0.1'", "DELETE FROM {table}"])
def test_postgres_refuses_update_and_delete_of_the_trail(make_user, table, statement):
    user = make_user("auditor")
    audit.record(action="auth.login", actor=user)
    assert AuditEvent.objects.exists() and LogEntry.objects.exists()

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(table=table))

    assert AuditEvent.objects.exists() and LogEntry.objects.exists()


@pytest.mark.postgres
def test_postgres_refuses_orm_update_of_an_event(make_user):
    event = audit.record(action="auth.login", actor=make_user("auditor"))
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(message="rewritten")


@pytest.mark.parametrize(
    "method, url, data, expected",
    [
        ("get", "/admin/auth/user/", {}, "admin"),
        ("post", "/admin/auth/user/", {"action": "delete_selected", "_selected_action": "1"}, "admin_action"),
        ("post", "/admin/auth/user/", {"action": "x", "select_across": "1"}, "admin_action"),
        ("post", "/admin/vendors/vendor/import/", {}, "import"),
        ("post", "/admin/vendors/vendor/process_import/", {}, "import"),
        ("get", "/api/v1/users/", {}, "api"),
        ("get", "/healthz", {}, "web"),
    ],
)
def test_request_paths_are_told_apart(rf, method, url, data, expected):
    from apps.core.middleware import _path_for

    assert _path_for(getattr(rf, method)(url, data)) == expected


# --- Writes that send no signals ----------------------------------------------------------------


@pytest.fixture
def vendors(db):
    from tests.vendors.factories import VendorFactory

    return [VendorFactory(payment_terms_days=days, bank_account_number="DE001") for days in (30, 30, 45)]


def test_a_queryset_update_leaves_each_rows_fields_before_and_after(vendors, make_user):
    from django.db.models import F

    from apps.vendors.models import Vendor

    manager = make_user("vendor_manager")
    first, second, third = vendors
    with audit.audit_context(path="task", actor=manager), transaction.atomic():
        updated = audit.logged_update(
            Vendor.objects.filter(pk__in=[first.pk, second.pk]).exclude(pk=third.pk),
            payment_terms_days=F("payment_terms_days") + 15,
            bank_account_number="DE002",
        )

    assert updated == 2
    for vendor in (first, second):
        entry = changes_of(vendor).get(action=LogEntry.Action.UPDATE)
        assert entry.changes["payment_terms_days"] == [30, 45]  # F() read back after the update
        masked = entry.changes["bank_account_number"][1]
        assert masked.startswith("**") and masked != "DE002"  # masked as the registration says
        assert "updated_at" in entry.changes  # stamped as save() stamps it
        assert entry.actor == manager
        assert entry.additional_data["path"] == "task"
    assert not changes_of(third).filter(action=LogEntry.Action.UPDATE).exists()
    assert Vendor.objects.get(pk=first.pk).payment_terms_days == 45


def test_a_queryset_update_that_changes_nothing_leaves_no_entry(vendors):
    from apps.vendors.models import Vendor

    first = vendors[0]
    with transaction.atomic():
        audit.logged_update(Vendor.objects.filter(pk=first.pk), payment_terms_days=30, updated_at=first.updated_at)

    assert not changes_of(first).filter(action=LogEntry.Action.UPDATE).exists()


def test_a_bulk_update_leaves_each_changed_rows_fields_before_and_after(vendors, make_user):
    first, second, third = vendors
    old_name = second.legal_name
    first.legal_name, second.legal_name = "Renamed One", "Renamed Two"
    before = {vendor.pk: changes_of(vendor).count() for vendor in vendors}
    with audit.audit_context(path="admin_action", actor=make_user("vendor_manager")), transaction.atomic():
        audit.logged_bulk_update(vendors, ["legal_name"])

    renamed = changes_of(second).get(action=LogEntry.Action.UPDATE)
    assert renamed.changes == {"legal_name": [old_name, "Renamed Two"]}
    assert renamed.additional_data["path"] == "admin_action"
    assert changes_of(first).count() == before[first.pk] + 1
    assert changes_of(third).count() == before[third.pk]


def test_updates_are_not_logged_where_django_auditlog_is_disabled(vendors):
    from auditlog.context import disable_auditlog

    from apps.vendors.models import Vendor

    with disable_auditlog(), transaction.atomic():
        assert audit.logged_update(Vendor.objects.filter(pk=vendors[0].pk), payment_terms_days=60) == 1

    assert not changes_of(vendors[0]).filter(action=LogEntry.Action.UPDATE).exists()
