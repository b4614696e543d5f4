"""Who may do what with the refunds screens and API resources, role by role (the permission matrix)."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

ROLES = [
    "anonymous",
    "staff",
    "associate",
    "approver",
    "vendor_manager",
    "inventory_controller",
    "sop_owner",
    "auditor",
    "administrator",
]
NOBODY: set[str] = set()
ADM = {"administrator"}
CASE_DESK = {"associate", "approver", "auditor"}  # who reads orders and cases
REFERENCE_READERS = CASE_DESK | ADM
ASSOCIATE = {"associate"}


def ops(view=NOBODY, add=NOBODY, change=NOBODY, delete=NOBODY):
    return {"view": set(view), "add": set(add), "change": set(change), "delete": set(delete)}


CASES = ops(view=CASE_DESK, add=ASSOCIATE, change=ASSOCIATE)  # never deleted; approvers act through actions

ADMIN_MATRIX = {
    "refunds.channel": ops(view=REFERENCE_READERS, add=ADM, change=ADM),
    "refunds.reasoncode": ops(view=REFERENCE_READERS, add=ADM, change=ADM),
    "refunds.refundpolicy": ops(view=REFERENCE_READERS, add=ADM, change=ADM),  # add only while none exists
    "refunds.approverlimit": ops(view={"approver", "auditor", "administrator"}, add=ADM, change=ADM, delete=ADM),
    "refunds.order": ops(view=CASE_DESK, add=ASSOCIATE, change=ASSOCIATE),  # never deleted
    "refunds.refundcase": CASES,
    "refunds.refund": CASES,
    "refunds.storecredit": CASES,
    "refunds.chargeback": CASES,
    "refunds.return": CASES,
    "refunds.payout": ops(view=CASE_DESK),
    "refunds.caseapproval": ops(view=CASE_DESK),
    "refunds.reportrun": ops(view=CASE_DESK, add={"associate", "approver"}),
}

API_MATRIX = {
    "orders": {"list": CASE_DESK, "create": ASSOCIATE},
    "refunds": {"list": CASE_DESK, "create": ASSOCIATE},
    "refund-channels": {"list": REFERENCE_READERS, "create": None},
    "refund-reasons": {"list": REFERENCE_READERS, "create": None},
    "refund-report-runs": {"list": CASE_DESK, "create": {"associate", "approver"}},
}


@pytest.fixture
def users(make_user):
    return {role: None if role == "anonymous" else make_user(None if role == "staff" else role) for role in ROLES}


def refunds_admins():
    return {
        model._meta.label_lower: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "refunds"
    }


def test_every_refunds_screen_and_resource_is_stated():
    from opsportal.api_urls import router

    assert sorted(refunds_admins()) == sorted(ADMIN_MATRIX)
    prefixes = {prefix for prefix, viewset, _ in router.registry if viewset.__module__.startswith("apps.refunds")}
    assert sorted(prefixes) == sorted(API_MATRIX)


def test_admin_matrix(users, client):
    factory = RequestFactory()
    unexpected = []
    for label, model_admin in sorted(refunds_admins().items()):
        opts = model_admin.model._meta
        changelist = f"/admin/{opts.app_label}/{opts.model_name}/"
        for role, user in users.items():
            client.logout()
            if user is not None:
                client.force_login(user)
            request = factory.get(changelist)
            request.user = user
            actual = {
                "view": client.get(changelist).status_code == 200,
                "add": client.get(f"{changelist}add/").status_code == 200,
                "change": user is not None and model_admin.has_change_permission(request),
                "delete": user is not None and model_admin.has_delete_permission(request),
            }
            for op, allowed in actual.items():
                if allowed != (role in ADMIN_MATRIX[label][op]):
                    unexpected.append(f"{label} {op} by {role}: {'allowed' if allowed else 'denied'}")
    assert unexpected == []


def test_api_matrix(users):
    unexpected = []
    for prefix, rules in API_MATRIX.items():
        for role, user in users.items():
            client = APIClient()
            if user is not None:
                client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
            listed = client.get(f"/api/v1/{prefix}/").status_code
            if (listed == 200) != (role in rules["list"]):
                unexpected.append(f"{prefix} list by {role}: {listed}")
            created = client.post(f"/api/v1/{prefix}/", {}, format="json").status_code
            if rules["create"] is None:
                if created not in (401, 403, 405):
                    unexpected.append(f"{prefix} create by {role}: {created}, expected no create at all")
                continue
            if (created not in (401, 403, 405)) != (role in rules["create"]):
                unexpected.append(f"{prefix} create by {role}: {created}")
    assert unexpected == []
