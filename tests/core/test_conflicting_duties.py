"""Who could both change a vendor's bank details and let money out: report, admin page, CSV, command."""

import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from apps.core.models import AuditEvent
from apps.core.selectors import conflicting_duties
from tests.core.factories import UserFactory

URL = "/admin/auth/user/conflicting-duties/"


def _permission(code):
    app_label, codename = code.split(".")
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


@pytest.fixture
def people(role_groups):
    """Hand-built users: each way of holding both duties, and people holding one side only."""
    keeps_bank_details = Group.objects.create(name="Bank detail keepers")
    keeps_bank_details.permissions.add(_permission("vendors.change_vendor"))
    approves_refunds = Group.objects.create(name="Refund approvers")
    approves_refunds.permissions.add(_permission("refunds.approve_refund"))

    by_groups = UserFactory(username="both_by_groups")
    by_groups.groups.add(keeps_bank_details, approves_refunds)
    by_roles = UserFactory(username="both_by_roles")
    by_roles.groups.add(role_groups["vendor_manager"], role_groups["approver"])
    by_own_permission = UserFactory(username="both_by_own_permission")
    by_own_permission.groups.add(role_groups["vendor_manager"])
    by_own_permission.user_permissions.add(_permission("invoices.add_payment"))
    superuser = UserFactory(username="root", is_superuser=True)

    bank_only = UserFactory(username="bank_only")
    bank_only.groups.add(role_groups["vendor_manager"])
    pay_only = UserFactory(username="pay_only")
    pay_only.groups.add(role_groups["approver"])
    pay_only.user_permissions.add(_permission("vendors.view_vendor"))
    inactive = UserFactory(username="inactive_both", is_active=False)
    inactive.groups.add(keeps_bank_details, approves_refunds)
    return {"superuser": superuser, "by_roles": by_roles}


def test_lists_users_holding_both_duties_through_groups_own_permissions_or_superuser(people):
    conflicts = {row.username: row for row in conflicting_duties()}

    assert set(conflicts) == {"both_by_groups", "both_by_roles", "both_by_own_permission", "root"}
    assert conflicts["both_by_groups"].bank_details == ("vendors.change_vendor (group Bank detail keepers)",)
    assert conflicts["both_by_groups"].payments == ("refunds.approve_refund (group Refund approvers)",)
    assert conflicts["both_by_own_permission"].payments == ("invoices.add_payment (own permission)",)
    assert "invoices.approve_invoice (group Approver)" in conflicts["both_by_roles"].payments
    assert conflicts["root"].is_superuser
    assert all("(superuser)" in item for item in conflicts["root"].payments + conflicts["root"].bank_details)


def test_the_standard_roles_alone_hold_no_conflicting_duties(make_user):
    for role in ("associate", "approver", "vendor_manager", "inventory_controller", "sop_owner", "auditor"):
        make_user(role)
    assert conflicting_duties() == []


def test_the_report_takes_the_same_queries_however_many_users(people, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        conflicting_duties()


def test_the_admin_page_is_linked_from_the_users_list_and_lists_them(client, people, make_user):
    assert reverse("admin:core_conflicting_duties") == URL
    client.force_login(make_user("administrator"))

    users_list = client.get("/admin/auth/user/")
    assert URL in users_list.content.decode()
    page = client.get(URL)

    assert page.status_code == 200
    content = page.content.decode()
    for username in ("both_by_groups", "both_by_roles", "both_by_own_permission", "root"):
        assert username in content
    assert "bank_only" not in content and "pay_only" not in content and "inactive_both" not in content


def test_the_admin_page_needs_view_user(client, people, make_user):
    client.force_login(make_user("associate"))
    assert client.get(URL).status_code == 403


def test_csv_download_needs_export_records_and_is_audited(client, people, make_user):
    administrator = make_user("administrator")
    client.force_login(administrator)
    assert client.get(URL, {"format": "csv"}).status_code == 403  # administrators do not export

    administrator.user_permissions.add(_permission("core.export_records"))
    response = client.get(URL, {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="conflicting-duties.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert {row["username"] for row in rows} == {"both_by_groups", "both_by_roles", "both_by_own_permission", "root"}
    event = AuditEvent.objects.get(action="records.exported")
    assert event.actor == administrator and event.data["what"] == "conflicting-duties" and event.data["rows"] == 4


def test_the_management_command_prints_the_report(people, capsys):
    call_command("conflicting_duties")
    out = capsys.readouterr().out
    assert "both_by_groups" in out and "root (superuser)" in out
    assert "refunds.approve_refund (group Refund approvers)" in out
    assert out.strip().endswith("4 user(s) with conflicting duties.")
