"""
The permission matrix: every role against every admin model and every API resource.

The tables below state, independently of the role definitions, who may do what. The harness
signs in as each role and tries each operation; any difference — an unexpected allow or an
unexpected deny — fails. A model registered in the admin, or a resource registered in the API,
without an entry here fails the meta-tests: new screens come with their permissions stated.
"""

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from opsportal.api_urls import router

ROLES = [
    "anonymous",
    "staff",  # a staff user in no group
    "associate",
    "approver",
    "vendor_manager",
    "inventory_controller",
    "sop_owner",
    "auditor",
    "administrator",
]
STAFF = set(ROLES) - {"anonymous"}
NOBODY: set[str] = set()
AUD_ADM = {"auditor", "administrator"}
ADM = {"administrator"}
VM = {"vendor_manager"}
READERS = {"associate", "approver", "vendor_manager", "inventory_controller", "sop_owner", "auditor"}
LEADS = READERS - {"associate"}
SOP_OWNER = {"sop_owner"}
INV_READ = {"associate", "approver", "inventory_controller", "auditor"}
INV_REVIEW = {"approver", "inventory_controller", "auditor"}
IC = {"inventory_controller"}
CASE_READ = {"associate", "approver", "auditor"}
ASSOC = {"associate"}


def ops(view=NOBODY, add=NOBODY, change=NOBODY, delete=NOBODY):
    return {"view": set(view), "add": set(add), "change": set(change), "delete": set(delete)}


AAA = {"associate", "approver", "auditor"}
AAVA = AAA | {"vendor_manager"}
CASES = ops(view=CASE_READ, add=ASSOC, change=ASSOC)
REFUND_SETUP = ops(view={"associate", "approver"} | AUD_ADM, add=ADM, change=ADM)

# model -> operation -> roles allowed (in the admin)
ADMIN_MATRIX = {
    # the audit trail: read by auditors and administrators, changed by nobody
    "auditlog.logentry": ops(view=AUD_ADM),
    "core.auditevent": ops(view=AUD_ADM),
    # people and access
    "auth.user": ops(view=AUD_ADM, add=ADM, change=ADM),  # deactivated, never deleted
    "auth.group": ops(view=AUD_ADM),  # roles come from setup_roles, not hand edits
    "authtoken.tokenproxy": ops(view=ADM, add=ADM, delete=ADM),  # auditors never see tokens
    "axes.accessattempt": ops(view=AUD_ADM, delete=ADM),  # deleting one unlocks a sign-in
    "axes.accessfailurelog": ops(view=AUD_ADM),
    "axes.accesslog": ops(view=AUD_ADM),
    # platform
    "core.notification": ops(view=STAFF),  # each person their own
    "core.importjob": ops(view=VM | {"auditor"}, add=VM),  # add: whoever may import some target
    "django_celery_beat.periodictask": ops(view=AUD_ADM, add=ADM, change=ADM, delete=ADM),
    "django_celery_beat.crontabschedule": ops(view=AUD_ADM, add=ADM, change=ADM, delete=ADM),
    "django_celery_beat.intervalschedule": ops(view=AUD_ADM, add=ADM, change=ADM, delete=ADM),
    "django_celery_beat.clockedschedule": ops(view=AUD_ADM, add=ADM, change=ADM, delete=ADM),
    "django_celery_beat.solarschedule": ops(view=AUD_ADM, add=ADM, change=ADM, delete=ADM),
    "django_celery_results.taskresult": ops(view=AUD_ADM),
    "django_celery_results.groupresult": ops(view=AUD_ADM),
    # vendors
    "vendors.vendor": ops(
        view={"associate", "approver", "vendor_manager", "inventory_controller", "auditor", "administrator"},
        add=VM,
        change=VM,
    ),  # blocked, never deleted
    "vendors.vendorcontact": ops(
        view={"associate", "approver", "vendor_manager", "auditor"}, add=VM, change=VM, delete=VM
    ),
    "vendors.vendorcontract": ops(view={"associate", "approver", "vendor_manager", "auditor"}, add=VM, change=VM),
    "vendors.standingband": ops(view=VM | AUD_ADM, change=VM),  # changed as a set, never added alone
    "vendors.performancereview": ops(view={"associate", "approver", "vendor_manager", "auditor"}, add=VM, change=VM),
    "vendors.reviewactionitem": ops(view={"associate", "vendor_manager", "auditor"}, change=VM, delete=VM),
    # SOPs: everyone who works reads them; owners write; leads see who acknowledged
    "sops.sopdocument": ops(view=READERS, add=SOP_OWNER, change=SOP_OWNER),
    "sops.sopversion": ops(view=READERS, add=SOP_OWNER, change=SOP_OWNER),
    "sops.acknowledgement": ops(view=LEADS),
    # inventory: associates count, controllers keep the master data and schedule, approvers approve
    "inventory.item": ops(view=INV_READ, add=IC, change=IC),
    "inventory.warehouse": ops(view=INV_READ, add=IC, change=IC),
    "inventory.location": ops(view=INV_READ, add=IC, change=IC),
    "inventory.stocklevel": ops(view=INV_READ),  # changed only by ledger postings
    "inventory.ledgerentry": ops(view=INV_READ, add=IC),  # add = post a stock movement; never changed
    "inventory.countpolicy": ops(view=INV_REVIEW, add=IC, change=IC),
    "inventory.cyclecount": ops(view=INV_READ, add=IC, change=IC),
    "inventory.reorderalert": ops(view=INV_REVIEW),
    "inventory.inventoryreportrun": ops(view=INV_REVIEW, add={"approver", "inventory_controller"}),
    # refunds: associates enter and process cases, approvers approve, administrators set policy and limits
    "refunds.channel": REFUND_SETUP,
    "refunds.reasoncode": REFUND_SETUP,
    "refunds.refundpolicy": REFUND_SETUP,
    "refunds.approverlimit": ops(view={"approver"} | AUD_ADM, add=ADM, change=ADM, delete=ADM),
    "refunds.order": CASES,
    "refunds.refundcase": CASES,
    "refunds.refund": CASES,
    "refunds.storecredit": CASES,
    "refunds.chargeback": CASES,
    "refunds.return": CASES,
    "refunds.payout": ops(view=CASE_READ),  # created by processing only, never by hand
    "refunds.caseapproval": ops(view=CASE_READ),  # created by the approve transition only
    "refunds.reportrun": ops(view=CASE_READ, add={"associate", "approver"}),
    # accounts payable: associates enter, approvers approve and schedule; vendor managers see their vendors' POs
    "invoices.invoice": ops(view=AAVA, add=ASSOC, change={"associate", "approver"}),
    "invoices.invoiceexception": ops(view=AAA, change={"associate", "approver"}),
    "invoices.purchaseorder": ops(view=AAVA, add=ASSOC, change=ASSOC),
    "invoices.purchaseorderline": ops(view=AAA),
    "invoices.goodsreceipt": ops(view=AAA, add=ASSOC),
    "invoices.creditmemo": ops(view=AAA, add=ASSOC),
    "invoices.payment": ops(view=AAA, add=ASSOC),
    "invoices.agingreportrun": ops(view=AAA, add={"associate", "approver"}),
    "invoices.vendormatchingpolicy": ops(
        view=AAVA | {"administrator"}, add={"approver", "vendor_manager"}, change={"approver", "vendor_manager"}
    ),
}

# API resource -> {"list": roles, "create": roles, or None where the resource offers no create}
API_MATRIX = {
    "users": {"list": AUD_ADM, "create": ADM},
    "groups": {"list": AUD_ADM, "create": NOBODY},
    "audit-events": {"list": AUD_ADM, "create": NOBODY},
    "audit-changes": {"list": AUD_ADM, "create": NOBODY},
    "notifications": {"list": STAFF, "create": None},
    "import-jobs": {"list": STAFF, "create": VM},  # a vendors file: only those who may import vendors
    "vendors": {
        "list": {"associate", "approver", "vendor_manager", "inventory_controller", "auditor", "administrator"},
        "create": VM,
    },
    "vendor-contacts": {"list": {"associate", "approver", "vendor_manager", "auditor"}, "create": VM},
    "vendor-contracts": {"list": {"associate", "approver", "vendor_manager", "auditor"}, "create": VM},
    "vendor-reviews": {"list": {"associate", "approver", "vendor_manager", "auditor"}, "create": VM},
    "sops": {"list": READERS, "create": SOP_OWNER},
    "sop-versions": {"list": READERS, "create": SOP_OWNER},
    "sop-acknowledgements": {"list": LEADS, "create": None},
    "items": {"list": INV_READ, "create": IC},
    "warehouses": {"list": INV_READ, "create": NOBODY},
    "locations": {"list": INV_READ, "create": IC},
    "stock-levels": {"list": INV_READ, "create": NOBODY},
    "stock-ledger": {"list": INV_READ, "create": NOBODY},
    "cycle-counts": {"list": INV_READ, "create": IC},
    "reorder-alerts": {"list": INV_REVIEW, "create": NOBODY},
    "inventory-reports": {"list": INV_REVIEW, "create": {"approver", "inventory_controller"}},
    "orders": {"list": CASE_READ, "create": ASSOC},
    "refunds": {"list": CASE_READ, "create": ASSOC},
    "refund-channels": {"list": {"associate", "approver"} | AUD_ADM, "create": None},
    "refund-reasons": {"list": {"associate", "approver"} | AUD_ADM, "create": None},
    "refund-report-runs": {"list": CASE_READ, "create": {"associate", "approver"}},
    "purchase-orders": {"list": AAVA, "create": ASSOC},
    "receipts": {"list": AAA, "create": ASSOC},
    "invoices": {"list": AAVA, "create": ASSOC},
    "credit-memos": {"list": AAA, "create": ASSOC},
    "payments": {"list": AAA, "create": ASSOC},
    "ap-aging-runs": {"list": AAA, "create": {"associate", "approver"}},
}

# Bodies that pass validation where a bare POST would not reach the permission that matters.
CREATE_BODIES = {
    "import-jobs": lambda: (
        {"file": SimpleUploadedFile("v.csv", b"code,legal_name,category\nM-1,M,goods\n"), "target": "vendors.vendor"},
        "multipart",
    ),
}


@pytest.fixture
def users(make_user):
    return {role: None if role == "anonymous" else make_user(None if role == "staff" else role) for role in ROLES}


def registered_admin_models():
    return {model._meta.label_lower: model_admin for model, model_admin in admin.site._registry.items()}


def test_every_admin_model_has_an_entry():
    missing = sorted(set(registered_admin_models()) - set(ADMIN_MATRIX))
    assert missing == [], f"state who may do what on these admin models: {missing}"
    assert sorted(set(ADMIN_MATRIX) - set(registered_admin_models())) == []


def test_every_api_resource_has_an_entry():
    prefixes = {prefix for prefix, _, _ in router.registry}
    assert sorted(prefixes - set(API_MATRIX)) == [], "state who may list and create these API resources"
    assert sorted(set(API_MATRIX) - prefixes) == []


def test_admin_matrix(users, client):
    """Changelist and add page over HTTP; change and delete through the ModelAdmin's own checks."""
    factory = RequestFactory()
    unexpected = []
    for label, model_admin in sorted(registered_admin_models().items()):
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
                expected = role in ADMIN_MATRIX[label][op]
                if allowed != expected:
                    unexpected.append(f"{label} {op} by {role}: {'allowed' if allowed else 'denied'}")
    assert unexpected == []


def test_api_matrix(users):
    unexpected = []
    for prefix, _, _ in router.registry:
        for role, user in users.items():
            client = APIClient()
            if user is not None:
                client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
            listed = client.get(f"/api/v1/{prefix}/").status_code
            if (listed == 200) != (role in API_MATRIX[prefix]["list"]):
                unexpected.append(f"{prefix} list by {role}: {listed}")
            body, fmt = CREATE_BODIES.get(prefix, lambda: ({}, "json"))()
            created = client.post(f"/api/v1/{prefix}/", body, format=fmt).status_code
            expected_roles = API_MATRIX[prefix]["create"]
            if expected_roles is None:
                if created not in (401, 403, 405):
                    unexpected.append(f"{prefix} create by {role}: {created}, expected no create at all")
                continue
            allowed = created not in (401, 403, 405)  # 201, or 400 for an empty body past the permission check
            if allowed != (role in expected_roles):
                unexpected.append(f"{prefix} create by {role}: {created}")
    assert unexpected == []
