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
    # add: whoever may import some target (vendors; refund orders and cases; inventory items and locations)
    "core.importjob": ops(view=VM | ASSOC | IC | {"auditor"}, add=VM | ASSOC | IC),
    "core.exportjob": ops(view={"auditor"}),  # export_records: each person their own large exports and packs
    "core.reportrun": ops(view={"auditor"}),  # runs are requested in the reports center, never added here
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
    "export-jobs": {"list": {"auditor"}, "create": None},  # made by exports, never posted
    "evidence-packs": {"list": {"auditor"}, "create": {"auditor"}},  # export_records
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


# --- Transition actions, imports and exports ------------------------------------------------------
#
# An admin action is allowed when it is offered to the person (it is in get_actions on a changelist
# they can open); an API transition is allowed when the answer is not 401/403/404 (a 400 or 409 on
# the fixture object in the wrong state is allowed by permission). Deleting selected records is the
# "delete" column above, so it is left out here.

COUNTERS = {"associate", "inventory_controller"}
COUNT_REVIEW = {"approver", "inventory_controller"}
AP = {"associate", "approver"}
APPROVER = {"approver"}
SOP_READERS = {"associate", "approver", "vendor_manager", "inventory_controller", "sop_owner"}
CONFIRMERS = {"approver", "vendor_manager"}
CASE_ACTIONS = {
    "case_approve_action": APPROVER,
    "case_reject_action": APPROVER,
    "case_process_action": ASSOC,  # money out: associates process approved cases
    "case_close_action": ASSOC,
    "case_cancel_action": ASSOC,
    "chargeback_submit_evidence_action": ASSOC,
    "chargeback_outcome_won_action": ASSOC,
    "chargeback_outcome_lost_action": ASSOC,
    "chargeback_outcome_accepted_action": ASSOC,
    "build_evidence_pack": {"auditor"},  # export_records
}
INVOICE_EXCEPTION_ACTIONS = {
    "invoice_override_match_action": APPROVER,
    "invoice_dispute_action": AP,
    "invoice_hold_action": AP,
    "invoice_release_action": AP,
    "invoice_cancel_action": AP,
}

# model -> admin action -> roles it is offered to
ADMIN_ACTION_MATRIX = {
    "axes.accessattempt": {"cleanup_expired_attempts": ADM},  # deletes attempts: as deleting one does
    "core.notification": {"mark_read": STAFF},  # each person their own
    "django_celery_beat.periodictask": {
        "enable_tasks": ADM,
        "disable_tasks": ADM,
        "toggle_tasks": ADM,
        "run_tasks": ADM,
    },
    "inventory.cyclecount": {
        "start_counts": COUNTERS,
        "submit_counts": COUNTERS,
        "approve_counts": COUNT_REVIEW,
        "reject_counts": COUNT_REVIEW,
        "cancel_counts": IC,
        "export_lines": INV_READ,  # the count sheet; expected quantities blanked for the counter
    },
    "inventory.reorderalert": {"refresh": IC},  # opens and resolves alerts: those who keep reorder points
    "invoices.invoice": {
        "build_evidence_pack": {"auditor"},  # export_records
        "invoice_submit_action": AP,
        "invoice_submit_duplicate_action": AP,
        "invoice_approve_action": APPROVER,
        "invoice_schedule_action": APPROVER,
        **INVOICE_EXCEPTION_ACTIONS,
    },
    "invoices.invoiceexception": {**INVOICE_EXCEPTION_ACTIONS, "build_evidence_pack": {"auditor"}},
    "refunds.refundcase": CASE_ACTIONS,
    "refunds.refund": CASE_ACTIONS,
    "refunds.storecredit": CASE_ACTIONS,
    "refunds.chargeback": CASE_ACTIONS,
    "refunds.return": CASE_ACTIONS,
    "sops.sopdocument": {"mark_reviewed": SOP_OWNER},
    "sops.sopversion": {
        "submit_review": SOP_OWNER,
        "approve": SOP_OWNER,
        "request_changes": SOP_OWNER,
        "publish": SOP_OWNER,
        "retire": SOP_OWNER,
    },
    "vendors.performancereview": {"finalize": VM, "supersede": VM},
    "vendors.reviewactionitem": {"complete": VM},  # and the item's owner, for their own open items
    "vendors.vendor": {"put_on_hold": VM, "block": VM, "release": VM, "confirm_bank_details": CONFIRMERS},
}

# "resource/action" -> roles the API accepts the transition from (by permission)
API_TRANSITION_MATRIX = {
    "import-jobs/confirm": VM,  # the fixture job was uploaded by the vendor manager: only they confirm it
    "sops/mark-reviewed": SOP_OWNER,
    "sop-versions/acknowledge": SOP_READERS,
    "sop-versions/submit-review": SOP_OWNER,
    "sop-versions/approve": SOP_OWNER,
    "sop-versions/request-changes": SOP_OWNER,
    "sop-versions/publish": SOP_OWNER,
    "sop-versions/retire": SOP_OWNER,
    "sop-versions/attachments": SOP_OWNER,
    "vendors/hold": VM,
    "vendors/block": VM,
    "vendors/release": VM,
    "vendors/confirm-bank-details": CONFIRMERS,
    "vendor-reviews/finalize": VM,
    "vendor-reviews/supersede": VM,
    "invoices/submit": AP,
    "invoices/approve": APPROVER,
    "invoices/override-match": APPROVER,
    "invoices/hold": AP,
    "invoices/release": AP,
    "invoices/dispute": AP,
    "invoices/schedule": APPROVER,
    "invoices/cancel": AP,
    "invoices/dispute-contacts": AP | VM,
    "refunds/approve": APPROVER,
    "refunds/reject": APPROVER,
    "refunds/process": ASSOC,
    "refunds/close": ASSOC | APPROVER,  # the service lets approvers close processed cases too
    "refunds/cancel": ASSOC,
    "refunds/evidence-submitted": ASSOC,
    "refunds/outcome": ASSOC,
    "refunds/inspect": ASSOC,
    "refunds/attach": ASSOC,
    "cycle-counts/start": COUNTERS,
    "cycle-counts/enter": COUNTERS,
    "cycle-counts/submit": COUNTERS,
    "cycle-counts/recount": COUNT_REVIEW,
    "cycle-counts/approve": COUNT_REVIEW,
    "cycle-counts/reject": COUNT_REVIEW,
    "cycle-counts/cancel": IC,
    "cycle-counts/assign": IC,
}

# import target -> roles who may import it (admin form and API alike)
IMPORT_MATRIX = {
    "inventory.item": IC,
    "inventory.location": IC,
    # change on the model (the rows exist before the file); only the assigned counter's lines are accepted
    "inventory.stocklevel": IC,
    "inventory.cyclecountline": COUNTERS,
    "invoices.purchaseorder": ASSOC,  # associates enter purchase orders, receipts, invoices and payments
    "invoices.goodsreceipt": ASSOC,
    "invoices.invoice": ASSOC,
    "invoices.payment": ASSOC,
    "refunds.order": ASSOC,
    "refunds.refundcase": ASSOC,
    "vendors.vendor": VM,
    "vendors.vendorcontact": VM,
}

# admin model with an export -> roles offered the export
EXPORTERS = {"auditor"}  # export_records, on what they can see
EXPORT_MATRIX = {
    "auditlog.logentry": EXPORTERS,
    "core.auditevent": EXPORTERS,
    "inventory.cyclecount": INV_READ,  # count sheets (see export_lines)
    "inventory.item": EXPORTERS,
    "inventory.ledgerentry": EXPORTERS,
    "inventory.stocklevel": EXPORTERS,
    "invoices.invoice": EXPORTERS,
    "invoices.invoiceexception": EXPORTERS,
    "refunds.chargeback": EXPORTERS,
    "refunds.order": EXPORTERS,
    "refunds.refund": EXPORTERS,
    "refunds.refundcase": EXPORTERS,
    "refunds.return": EXPORTERS,
    "refunds.storecredit": EXPORTERS,
    "vendors.vendor": EXPORTERS,
    "vendors.vendorcontact": EXPORTERS,
}


def admin_actions(model_admin) -> set[str]:
    return {name for _, name, _ in model_admin._get_base_actions()} - {"delete_selected"}


def api_transitions() -> set[str]:
    found = set()
    for prefix, viewset, _ in router.registry:
        for extra in viewset.get_extra_actions():
            if extra.detail and "post" in extra.mapping:
                found.add(f"{prefix}/{extra.url_path}")
    return found


def test_every_admin_action_has_an_entry():
    declared = {
        label: admin_actions(model_admin)
        for label, model_admin in registered_admin_models().items()
        if admin_actions(model_admin)
    }
    stated = {label: set(actions) for label, actions in ADMIN_ACTION_MATRIX.items()}
    assert declared == stated, "state who is offered each admin action"


def test_every_api_transition_has_an_entry():
    assert sorted(api_transitions() ^ set(API_TRANSITION_MATRIX)) == [], "state who may call these transitions"


def test_every_import_target_and_export_has_an_entry():
    from apps.core import imports

    assert {target.key for target in imports.targets()} == set(IMPORT_MATRIX)
    exporting = {
        label
        for label, model_admin in registered_admin_models().items()
        if hasattr(model_admin, "has_export_permission")
    }
    assert exporting == set(EXPORT_MATRIX)


def _admin_request(user, label):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.messages.storage.fallback import FallbackStorage

    app_label, model_name = label.split(".")
    request = RequestFactory().get(f"/admin/{app_label}/{model_name}/")
    request.user = user or AnonymousUser()
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def test_admin_action_matrix(users):
    unexpected = []
    models = registered_admin_models()
    for label, actions in sorted(ADMIN_ACTION_MATRIX.items()):
        model_admin = models[label]
        for role, user in users.items():
            request = _admin_request(user, label)
            reachable = user is not None and model_admin.has_view_or_change_permission(request)
            offered = set(model_admin.get_actions(request)) if reachable else set()
            for name, roles in actions.items():
                if (name in offered) != (role in roles):
                    unexpected.append(f"{label} {name} by {role}: {'offered' if name in offered else 'not offered'}")
    assert unexpected == [], "\n".join(unexpected)


def test_export_matrix(users):
    unexpected = []
    models = registered_admin_models()
    for label, roles in sorted(EXPORT_MATRIX.items()):
        model_admin = models[label]
        for role, user in users.items():
            request = _admin_request(user, label)
            offered = (
                user is not None
                and model_admin.has_view_or_change_permission(request)
                and model_admin.has_export_permission(request)
            )
            if offered != (role in roles):
                unexpected.append(f"{label} export by {role}: {'offered' if offered else 'not offered'}")
    assert unexpected == [], "\n".join(unexpected)


def test_import_matrix(users):
    from apps.core import imports

    unexpected = []
    for key, roles in sorted(IMPORT_MATRIX.items()):
        target = imports.get(key)
        for role, user in users.items():
            client = _api_client(user)
            upload = SimpleUploadedFile("m.csv", b"code,legal_name,category\nM-1,M,goods\n")
            answer = client.post("/api/v1/import-jobs/", {"file": upload, "target": key}, format="multipart")
            accepted = answer.status_code not in (401, 403)
            if accepted != (role in roles) or target.allowed_for(user) != (role in roles):
                unexpected.append(f"{key} import by {role}: {answer.status_code}")
    assert unexpected == [], "\n".join(unexpected)


def _api_client(user):
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


@pytest.fixture
def transition_objects(users, make_user, settings, tmp_path):
    """One record per resource with transitions, each entered by someone outside the roles under test."""
    from datetime import date, timedelta
    from decimal import Decimal

    from django.utils import timezone

    from apps.core.services.imports import import_job_create
    from apps.inventory.models import CycleCount
    from apps.inventory.services import cycle_count_create
    from apps.invoices import services as invoice_services
    from apps.refunds import services as refund_services
    from apps.refunds.models import ReturnLine
    from tests.inventory.factories import ItemFactory, LocationFactory, WarehouseFactory, stock
    from tests.invoices.factories import PurchaseOrderLineFactory, ReceiptFactory
    from tests.refunds.factories import (
        ApproverLimitFactory,
        ChannelFactory,
        OrderLineFactory,
        PolicyFactory,
        ReasonCodeFactory,
    )
    from tests.sops.factories import SOPVersionFactory
    from tests.vendors.factories import ReviewFactory, VendorFactory

    settings.MEDIA_ROOT = str(tmp_path)
    clerk, controller = make_user("associate"), make_user("inventory_controller")
    po_line = PurchaseOrderLineFactory()
    ReceiptFactory(po_line=po_line)
    invoice = invoice_services.invoice_create(
        actor=clerk,
        vendor_id=po_line.purchase_order.vendor_id,
        number="INV-MATRIX",
        invoice_date=date(2026, 10, 1),
        purchase_order=po_line.purchase_order,
        tax=Decimal("0"),
        lines=[{"po_line": po_line, "description": "Brackets", "quantity": "100", "unit_price": "10.00"}],
    )
    ChannelFactory()
    ReasonCodeFactory()
    PolicyFactory()
    ApproverLimitFactory(user=users["approver"], max_amount=Decimal("1000.00"))
    order_line = OrderLineFactory()
    case = refund_services.case_request(
        actor=clerk,
        order_id=order_line.order_id,
        type="return",
        amount="10.00",
        reason_code="damaged",
        return_lines=[{"order_line_id": order_line.pk, "quantity": 1}],
    )
    return_line = case.return_lines.get()
    warehouse = WarehouseFactory()
    location = LocationFactory(warehouse=warehouse)
    stock(ItemFactory(), location, 5)
    (count,) = cycle_count_create(actor=controller, kind=CycleCount.Kind.LOCATION, location_ids=[location.pk])
    job = import_job_create(
        actor=users["vendor_manager"],
        target="vendors.vendor",
        uploaded_file=SimpleUploadedFile("v.csv", b"code,legal_name,category\nM-1,M,goods\n"),
    )
    own_version = SOPVersionFactory(author=users["sop_owner"])  # the author's steps
    version = SOPVersionFactory()  # a reviewer's steps: somebody else wrote it
    line = count.lines.first()
    return {
        "import-jobs": (job.pk, {}),
        "sops": (version.document_id, {"reason": "Still right"}),
        "sop-versions": (
            own_version.pk,
            {"reason": "Checked", "comment": "Checked", "reviewer": make_user("sop_owner").pk},
        ),
        "vendors": (
            VendorFactory().pk,
            {"reason": "Checked", "release_date": str(timezone.localdate() + timedelta(1))},
        ),
        "sop-versions/approve": (version.pk, {"comment": "Checked"}),
        "sop-versions/request-changes": (version.pk, {"reason": "Checked"}),
        "vendor-reviews": (ReviewFactory().pk, {}),
        "invoices": (invoice.pk, {"reason": "Checked", "summary": "Called the vendor", "channel": "email"}),
        "refunds": (
            case.pk,
            {
                "reason": "Checked",
                "outcome": "won",
                "line": return_line.pk,
                "condition": ReturnLine.Condition.values[0],
                "disposition": ReturnLine.Disposition.values[0],
            },
        ),
        "cycle-counts": (
            count.pk,
            {"reason": "Checked", "lines": [line.pk], "comment": "", "due_date": str(timezone.localdate())},
        ),
    }


TRANSITION_BODIES = {
    "cycle-counts/enter": lambda body: {"lines": [{"sku": "nothing", "quantity": "1"}]},
    "sop-versions/attachments": lambda body: {"file": SimpleUploadedFile("a.txt", b"attachment")},
    "refunds/attach": lambda body: {"file": SimpleUploadedFile("a.txt", b"attachment"), "kind": "other"},
}
MULTIPART = {"sop-versions/attachments", "refunds/attach"}


def test_api_transition_matrix(users, transition_objects):
    from django.db import transaction

    unexpected = []
    for name, roles in sorted(API_TRANSITION_MATRIX.items()):
        prefix, path = name.split("/", 1)
        pk, body = transition_objects.get(name) or transition_objects[prefix]
        for role, user in users.items():
            given = TRANSITION_BODIES.get(name, dict)(body) if name in TRANSITION_BODIES else dict(body)
            with transaction.atomic():
                answer = _api_client(user).post(
                    f"/api/v1/{prefix}/{pk}/{path}/", given, format="multipart" if name in MULTIPART else "json"
                )
                transaction.set_rollback(True)
            allowed = answer.status_code not in (401, 403, 404)
            if allowed != (role in roles):
                unexpected.append(f"{name} by {role}: {answer.status_code}")
    assert unexpected == [], "\n".join(unexpected)


# --- Reports center ---------------------------------------------------------------------------------
#
# Seeing a report (and its past runs) follows the view permission of its data; running it needs what
# the app's own run needs (the portal's own reports: export_records, their only result being a file);
# downloading a file needs export_records.

VENDOR_READERS = {"associate", "approver", "vendor_manager", "inventory_controller", "auditor", "administrator"}
EXPORTERS = {"auditor"}

# report kind -> who sees it, who runs it, who downloads its files
REPORTS_MATRIX = {
    "audit_trail": {"see": AUD_ADM, "run": EXPORTERS, "download": EXPORTERS},
    "sop_compliance": {"see": LEADS, "run": EXPORTERS, "download": EXPORTERS},
    "vendor_scorecards": {"see": VENDOR_READERS, "run": EXPORTERS, "download": EXPORTERS},
    "ap_aging": {"see": AAA, "run": {"associate", "approver"}, "download": EXPORTERS},
    "refund_aging": {"see": CASE_READ, "run": {"associate", "approver"}, "download": EXPORTERS},
    "chargeback_recovery": {"see": CASE_READ, "run": {"associate", "approver"}, "download": EXPORTERS},
    "count_accuracy": {"see": INV_REVIEW, "run": {"approver", "inventory_controller"}, "download": EXPORTERS},
    "shrinkage": {"see": INV_REVIEW, "run": {"approver", "inventory_controller"}, "download": EXPORTERS},
    "repeated_variances": {"see": INV_REVIEW, "run": {"approver", "inventory_controller"}, "download": EXPORTERS},
    "below_reorder": {"see": INV_REVIEW, "run": {"approver", "inventory_controller"}, "download": EXPORTERS},
}


def test_every_report_kind_has_an_entry():
    from apps.core import reports

    assert sorted(kind.key for kind in reports.all_kinds()) == sorted(REPORTS_MATRIX)


def test_reports_matrix(users, client):
    from apps.core import reports

    unexpected = []
    for role, user in users.items():
        for kind in reports.all_kinds():
            actual = {"see": kind.can_view(user), "run": kind.can_run(user), "download": kind.can_download(user)}
            for op, allowed in actual.items():
                if allowed != (role in REPORTS_MATRIX[kind.key][op]):
                    unexpected.append(f"{kind.key} {op} by {role}: {'allowed' if allowed else 'denied'}")
        client.logout()
        if user is not None:
            client.force_login(user)
        sees_some = any(role in entry["see"] for entry in REPORTS_MATRIX.values())
        expected = 200 if sees_some else 302 if user is None else 403  # anonymous people are sent to sign in
        if (answer := client.get("/admin/reports/").status_code) != expected:
            unexpected.append(f"reports center by {role}: {answer}")
    assert unexpected == [], "\n".join(unexpected)
