"""Auditor evidence packs: one ZIP with the records, related records, audit history, SOP versions in force,
attachments and a manifest; ``verify_evidence_pack`` refuses any mismatch, missing or extra file."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.core.models import AuditEvent, ExportJob
from apps.core.services.evidence import evidence_pack_request
from apps.core.services.exports import export_job_run
from apps.invoices import services as invoice_services
from apps.refunds import services as refund_services
from apps.sops.models import Area, SOPVersion
from tests.core.factories import UserFactory
from tests.invoices.factories import PurchaseOrderLineFactory, ReceiptFactory
from tests.refunds.factories import ApproverLimitFactory, ChannelFactory, OrderFactory, PolicyFactory, ReasonCodeFactory
from tests.sops.factories import SOPDocumentFactory, SOPVersionFactory


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def published_sop(area: str, code: str) -> SOPVersion:
    now = timezone.now()
    return SOPVersionFactory(
        document=SOPDocumentFactory(area=area, code=code, governs_area=True),
        number=3,
        status=SOPVersion.Status.PUBLISHED,
        reviewer=UserFactory(),
        reviewed_at=now - timedelta(days=2),
        published_at=now - timedelta(days=1),
        body="# Approving invoices\n\nCheck the match first.\n",
    )


@pytest.fixture
def approved_invoices(make_user):
    """Two approved invoices (the SOP AP-900 v3 in force) and one draft that stays out of the selection."""
    sop = published_sop(Area.INVOICES, "AP-900")
    associate, approver = make_user("associate"), make_user("approver")
    invoices = []
    for number in ("E-1", "E-2", "E-3"):
        line = PurchaseOrderLineFactory()
        ReceiptFactory(po_line=line)
        invoice = invoice_services.invoice_create(
            actor=associate,
            vendor_id=line.purchase_order.vendor_id,
            number=number,
            invoice_date=timezone.localdate(),
            purchase_order=line.purchase_order,
            tax=Decimal("0"),
            lines=[{"po_line": line, "description": "=cmd|' /C calc'!A0", "quantity": "100", "unit_price": "10.00"}],
        )
        if number != "E-3":
            invoice_services.invoice_submit(invoice_id=invoice.pk, actor=associate)
            invoice = invoice_services.invoice_approve(invoice_id=invoice.pk, actor=approver)
        invoices.append(invoice)
    assert invoices[0].sop_version == sop
    return invoices


def build(actor, target, **selection) -> ExportJob:
    job = evidence_pack_request(actor=actor, target=target, **selection)
    export_job_run(job_id=job.pk)  # what the worker runs
    job.refresh_from_db()
    assert job.status == ExportJob.Status.SUCCEEDED, job.message
    return job


def read_csv(archive: zipfile.ZipFile, name: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def test_an_invoice_pack_holds_records_related_rows_history_sops_and_a_manifest(approved_invoices, make_user):
    auditor = make_user("auditor")
    first, second, draft = approved_invoices

    job = build(auditor, "invoices.invoice", filters={"status": "approved"})

    assert job.rows == 2
    content = job.file.read()
    assert job.sha256 == hashlib.sha256(content).hexdigest()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        names = set(archive.namelist())
        assert {f["name"] for f in manifest["files"]} == names - {"manifest.json"}
        for entry in manifest["files"]:
            assert hashlib.sha256(archive.read(entry["name"])).hexdigest() == entry["sha256"]
        assert {r["number"] for r in read_csv(archive, "records/invoices.csv")} == {first.number, second.number}
        lines = read_csv(archive, "records/invoice_lines.csv")
        assert {r["invoice"] for r in lines} == {str(first.pk), str(second.pk)}
        assert lines[0]["description"].startswith("'=")  # formula-safe inside the pack too
        changes = read_csv(archive, "audit/changes.csv")
        assert {(r["model"], r["object_pk"]) for r in changes} >= {
            ("invoice", str(first.pk)),
            ("invoice", str(second.pk)),
        }
        assert str(draft.pk) not in {r["object_pk"] for r in changes if r["model"] == "invoice"}
        events = read_csv(archive, "audit/events.csv")
        assert {r["target_id"] for r in events if r["model"] == "invoice"} == {str(first.pk), str(second.pk)}
        assert "sops/AP-900-v3.md" in names
        assert "Check the match first." in archive.read("sops/AP-900-v3.md").decode()
        assert manifest["target"] == "invoices.invoice" and manifest["built_by"] == auditor.username
    event = AuditEvent.objects.get(action="records.exported")
    assert event.data["sha256"] == job.sha256 and event.data["kind"] == "evidence_pack"


@pytest.fixture
def refund_case_with_evidence(make_user):
    ChannelFactory()
    ReasonCodeFactory()
    PolicyFactory()
    published_sop(Area.REFUNDS, "RF-900")
    associate, approver = make_user("associate"), make_user("approver")
    ApproverLimitFactory(user=approver, max_amount=Decimal("1000.00"))
    order = OrderFactory(customer_name="Jane Doe", customer_email="jane@example.com")
    case = refund_services.case_request(
        actor=associate, order_id=order.pk, type="refund", amount="100.00", reason_code="damaged"
    )
    refund_services.attachment_add(
        case_id=case.pk, actor=associate, file=SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 evidence"), description="x"
    )
    refund_services.case_approve(case_id=case.pk, actor=approver)
    return case


def test_a_refund_pack_holds_approvals_attachments_and_masks_personal_data(refund_case_with_evidence, make_user):
    from django.contrib.auth.models import Permission

    reader = make_user(None)
    reader.user_permissions.add(
        Permission.objects.get(codename="export_records"), Permission.objects.get(codename="view_refundcase")
    )
    job = build(reader, "refunds.refund", ids=[refund_case_with_evidence.pk])

    with zipfile.ZipFile(job.file.open("rb")) as archive:
        names = archive.namelist()
        orders = read_csv(archive, "records/orders.csv")
        assert (orders[0]["customer_name"], orders[0]["customer_email"]) == ("J*** D***", "j***@example.com")
        assert b"jane@example.com" not in archive.read("audit/changes.csv")
        approvals = read_csv(archive, "records/approvals.csv")
        assert len(approvals) == 1
        attachment = next(name for name in names if name.startswith("attachments/"))
        assert archive.read(attachment) == b"%PDF-1.4 evidence"
        assert approvals[0]["sop_version"].startswith("RF-900 v3")
        assert "sops/RF-900-v3.md" in names


def test_packs_need_export_records_and_a_selection(approved_invoices, make_user):
    with pytest.raises(PermissionDenied):
        evidence_pack_request(actor=make_user("approver"), target="invoices.invoice", ids=[approved_invoices[0].pk])
    auditor = make_user("auditor")
    with pytest.raises(ValidationError, match="Select the records"):
        evidence_pack_request(actor=auditor, target="invoices.invoice")
    with pytest.raises(ValidationError, match=r"not 'vendors\.vendor'"):
        evidence_pack_request(actor=auditor, target="vendors.vendor", ids=[1])
    assert not ExportJob.objects.exists()


def test_the_api_and_the_admin_action_start_a_pack(approved_invoices, make_user, api_as, client):
    auditor = make_user("auditor")
    response = api_as(user=auditor).post(
        "/api/v1/evidence-packs/", {"target": "invoices.invoice", "ids": [approved_invoices[0].pk]}, format="json"
    )
    assert response.status_code == 202
    assert ExportJob.objects.get(pk=response.json()["id"]).source == {"ids": [str(approved_invoices[0].pk)]}
    assert api_as("associate").post("/api/v1/evidence-packs/", {"target": "invoices.invoice"}).status_code == 403

    client.force_login(auditor)
    page = client.post(
        "/admin/invoices/invoice/",
        {"action": "build_evidence_pack", "_selected_action": [approved_invoices[1].pk]},
    )
    job = ExportJob.objects.latest("id")
    assert page.status_code == 302 and page.url.endswith(f"/core/exportjob/{job.pk}/change/")
    assert job.source == {"ids": [str(approved_invoices[1].pk)]}
    client.force_login(make_user("approver"))
    changelist = client.get("/admin/invoices/invoice/")
    assert b"build_evidence_pack" not in changelist.content


# --- verify_evidence_pack -----------------------------------------------------------------------------


@pytest.fixture
def pack_file(approved_invoices, make_user, tmp_path):
    job = build(make_user("auditor"), "invoices.invoice", ids=[invoice.pk for invoice in approved_invoices[:2]])
    path = tmp_path / "pack.zip"
    path.write_bytes(job.file.read())
    return path


def rewrite(source, target, *, change=None, drop=None, add=None):
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(target, "w") as copy:
        for info in original.infolist():
            if info.filename == drop:
                continue
            data = original.read(info.filename)
            copy.writestr(info.filename, data + b"x" if info.filename == change else data)
        if add:
            copy.writestr(add, b"smuggled")
    return target


def test_an_intact_pack_verifies(pack_file):
    out = io.StringIO()
    call_command("verify_evidence_pack", str(pack_file), stdout=out)
    assert "is intact" in out.getvalue()


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"change": "records/invoices.csv"}, "SHA-256 mismatch: records/invoices.csv"),
        ({"drop": "audit/changes.csv"}, "missing file: audit/changes.csv"),
        ({"add": "records/extra.csv"}, "extra file not in the manifest: records/extra.csv"),
        ({"drop": "manifest.json"}, "manifest.json is missing"),
    ],
)
def test_a_tampered_pack_fails_with_a_clear_message(pack_file, tmp_path, change, expected):
    tampered = rewrite(pack_file, tmp_path / "tampered.zip", **change)
    err = io.StringIO()
    with pytest.raises(CommandError, match="does not match its manifest"):
        call_command("verify_evidence_pack", str(tampered), stderr=err)
    assert expected in err.getvalue()


def test_the_command_exits_non_zero_on_a_tampered_pack(pack_file, tmp_path, settings):
    import subprocess
    import sys

    tampered = rewrite(pack_file, tmp_path / "tampered.zip", change="records/invoices.csv")
    result = subprocess.run(
        [sys.executable, "manage.py", "verify_evidence_pack", str(tampered)],
        capture_output=True,
        text=True,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode != 0
    assert "SHA-256 mismatch: records/invoices.csv" in result.stderr
