"""Accounts payable imports: invoices with lines on the bulk path, Xero and QuickBooks headers, bad files."""

import re
from datetime import date
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from apps.core.models import ImportJob
from apps.core.services.imports import import_job_confirm, import_job_create, import_job_run
from apps.invoices import imports as invoice_imports
from apps.invoices import services
from apps.invoices.models import Invoice, InvoiceLine
from tests.invoices.factories import PurchaseOrderFactory
from tests.vendors.factories import VendorFactory

HEADER = "vendor,invoice_number,invoice_date,due_date,description,quantity,unit_price,tax\n"


def upload(actor, content, *, name="invoices.csv", dry_run=False, target="invoices.invoice"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    job = import_job_create(actor=actor, target=target, uploaded_file=SimpleUploadedFile(name, data), dry_run=dry_run)
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def report(job) -> list[str]:
    return job.error_report.open("rb").read().decode().splitlines()


def problems(job) -> list[tuple[str, str, str, str]]:
    import csv
    import io

    return [tuple(row) for row in csv.reader(io.StringIO(job.error_report.open("rb").read().decode()))][1:]


@pytest.fixture
def acme(db):
    return VendorFactory(code="ACME-01", legal_name="Acme Ltd", payment_terms_days=30, default_currency="EUR")


@pytest.fixture
def beta(db):
    return VendorFactory(code="BETA-02", legal_name="Beta GmbH", default_currency="USD")


GOOD = (
    HEADER
    + "ACME-01,INV-1,2026-10-01,2026-10-31,Brackets,10,2.50,1.00\n"
    + "ACME-01,INV-1,2026-10-01,2026-10-31,Bolts,4,1.25,0.50\n"
    + "Beta GmbH,B-77,2026-10-02,,Consulting,1,500.00,\n"
)


def test_dry_run_then_confirm_writes_invoices_with_lines_as_drafts(associate, acme, beta):
    job = upload(associate, GOOD, dry_run=True)
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert job.summary == {"new": 2, "updated": 0, "unchanged": 0, "errors": 0}
    assert job.rows_processed == 3
    assert job.preview["new"] == ["INV-1 (ACME-01)", "B-77 (BETA-02)"]
    assert "2 new, 0 updated and 0 unchanged invoices would be imported" in job.message
    assert not Invoice.objects.exists()

    import_job_confirm(job_id=job.pk, actor=associate)
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.SUCCEEDED, job.message

    invoice = Invoice.objects.get(vendor=acme, number="INV-1")
    assert invoice.status == Invoice.Status.DRAFT
    assert (invoice.subtotal, invoice.tax, invoice.total) == (Decimal("30.00"), Decimal("1.50"), Decimal("31.50"))
    assert invoice.currency == "EUR" and invoice.created_by == associate
    assert [(line.line_number, line.description, line.amount) for line in invoice.lines.all()] == [
        (1, "Brackets", Decimal("25.00")),
        (2, "Bolts", Decimal("5.00")),
    ]
    consulting = Invoice.objects.get(vendor=beta)
    assert consulting.due_date == services.invoice_default_due_date(beta, date(2026, 10, 2))
    assert consulting.currency == "USD"


def test_every_created_row_is_on_the_audit_trail_with_the_user_and_the_job(associate, acme, beta):
    job = upload(associate, GOOD)
    invoice = Invoice.objects.get(number="INV-1")
    entry = LogEntry.objects.get_for_object(invoice).get(action=LogEntry.Action.CREATE)
    assert entry.actor == associate
    assert entry.additional_data == {"path": "import", "import_job": job.pk}
    assert entry.changes["number"] == [None, "INV-1"]
    line = invoice.lines.get(line_number=2)
    line_entry = LogEntry.objects.get_for_object(line).get()
    assert line_entry.action == LogEntry.Action.CREATE and line_entry.additional_data["import_job"] == job.pk
    assert LogEntry.objects.filter(additional_data__import_job=job.pk).count() == 2 + 3  # invoices + lines


def test_the_same_file_twice_changes_nothing_and_a_changed_row_updates(associate, acme, beta):
    upload(associate, GOOD)
    again = upload(associate, GOOD)
    assert again.summary == {"new": 0, "updated": 0, "unchanged": 2, "errors": 0}
    assert not LogEntry.objects.filter(additional_data__import_job=again.pk).exists()

    changed = upload(associate, GOOD.replace("Bolts,4,1.25", "Bolts,8,1.25"))
    assert changed.summary == {"new": 0, "updated": 1, "unchanged": 1, "errors": 0}
    invoice = Invoice.objects.get(number="INV-1")
    assert invoice.total == Decimal("36.50") and invoice.lines.count() == 2
    update = LogEntry.objects.get(additional_data__import_job=changed.pk, action=LogEntry.Action.UPDATE)
    assert update.object_id == invoice.pk and update.changes["total"] == ["31.50", "36.50"]
    assert Invoice.objects.count() == 2 and InvoiceLine.objects.count() == 3


def test_an_invoice_past_draft_is_never_changed_by_an_import(associate, acme, beta):
    upload(associate, GOOD)
    invoice = Invoice.objects.get(number="INV-1")
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.SUBMITTED)
    job = upload(associate, GOOD.replace("Bolts,4,1.25", "Bolts,8,1.25"))
    assert job.status == ImportJob.Status.FAILED
    assert "2,invoice_number,INV-1,Invoice INV-1 is submitted: only draft invoices can be changed by an import." in (
        report(job)
    )
    assert Invoice.objects.get(pk=invoice.pk).total == Decimal("31.50")
    # Unchanged rows of a submitted invoice are not an error: re-importing the same file changes nothing.
    assert upload(associate, GOOD).summary["unchanged"] == 2


XERO = (
    "*ContactName,EmailAddress,POAddressLine1,*InvoiceNumber,Reference,*InvoiceDate,*DueDate,Total,"
    "InventoryItemCode,*Description,*Quantity,*UnitAmount,*AccountCode,*TaxType,TaxAmount,TrackingName1,"
    "TrackingOption1,Currency\n"
    "Acme Ltd,ap@acme.example,1 Road,X-100,PO ref 9,2026-10-05,2026-11-04,33.00,,Paper,2,15.00,400,"
    "Tax on Purchases,3.00,,,EUR\n"
)
QUICKBOOKS = (
    "Vendor,Bill No.,Bill Date,Due Date,Terms,Memo,Account,Line Description,Line Amount,Currency\n"
    "BETA-02,QB-7,2026-10-06,2026-11-05,Net 30,October,Office,Toner,120.00,USD\n"
    "BETA-02,QB-7,2026-10-06,2026-11-05,Net 30,October,Office,Delivery,15.50,USD\n"
)


def test_xero_and_quickbooks_bill_exports_import_as_they_are(associate, acme, beta):
    xero = upload(associate, XERO)
    assert xero.status == ImportJob.Status.SUCCEEDED, xero.message
    paper = Invoice.objects.get(number="X-100")
    assert (paper.vendor, paper.total, paper.tax, paper.notes) == (acme, Decimal("33.00"), Decimal("3.00"), "PO ref 9")

    quickbooks = upload(associate, QUICKBOOKS)
    assert quickbooks.status == ImportJob.Status.SUCCEEDED, quickbooks.message
    bill = Invoice.objects.get(number="QB-7")
    assert (bill.vendor, bill.total, bill.notes) == (beta, Decimal("135.50"), "October")
    assert list(bill.lines.values_list("quantity", "unit_price")) == [
        (Decimal("1.000"), Decimal("120.00")),
        (Decimal("1.000"), Decimal("15.50")),
    ]


def test_a_purchase_order_is_found_by_number_and_must_be_the_vendors(associate, acme, beta):
    order = PurchaseOrderFactory(vendor=acme, number="PO-55", currency="EUR")
    content = "vendor,invoice_number,invoice_date,purchase_order,description,quantity,unit_price\n"
    job = upload(associate, content + "ACME-01,P-1,2026-10-01,PO-55,Parts,1,9.00\n")
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    assert Invoice.objects.get(number="P-1").purchase_order == order
    wrong = upload(associate, content + "BETA-02,P-2,2026-10-01,PO-55,Parts,1,9.00\n")
    assert any(line.startswith("2,purchase_order,") and "belongs to another vendor" in line for line in report(wrong))
    unknown = upload(associate, content + "ACME-01,P-3,2026-10-01,PO-404,Parts,1,9.00\n")
    assert "2,purchase_order,PO-404,Unknown purchase order PO-404." in report(unknown)


@pytest.mark.parametrize(
    "content, message",
    [
        ("", "The file is empty."),
        (HEADER, "The file has column names but no rows."),
        (
            HEADER.replace("tax", "colour") + "ACME-01,I-1,2026-10-01,,Item,1,1.00,red\n",
            "Unknown column(s): colour.",
        ),
        ("vendor,invoice_number,description,unit_price\nACME-01,I-1,Item,1.00\n", "Missing column(s): invoice_date."),
        (
            "vendor,invoice_number,invoice_date,description\nACME-01,I-1,2026-10-01,Item\n",
            "unit_price (or line_amount)",
        ),
    ],
)
def test_unusable_files_get_a_clear_message_and_nothing_is_written(associate, acme, content, message):
    job = upload(associate, content)
    assert job.status == ImportJob.Status.FAILED
    assert message in job.message
    assert not Invoice.objects.exists()


@pytest.mark.parametrize(
    "row, expected",
    [
        ("ACME-01,I-1,31/10/2026,,Item,1,1.00,0", "2,invoice_date,31/10/2026,'31/10/2026' is not a date"),
        ("ACME-01,I-1,2026-10-01,someday,Item,1,1.00,0", "2,due_date,someday,'someday' is not a date"),
        ("ACME-01,I-1,2026-10-01,,Item,many,1.00,0", "2,quantity,many,'many' is not a quantity."),
        ("ACME-01,I-1,2026-10-01,,Item,0,1.00,0", "2,quantity,0,Quantity must be more than zero."),
        ("ACME-01,I-1,2026-10-01,,Item,1,cheap,0", "2,unit_price,cheap,'cheap' is not an amount."),
        ("ACME-01,I-1,2026-10-01,,Item,1,-5,0", "2,unit_price,'-5,Cannot be negative."),
        ("ACME-01,I-1,2026-10-01,,Item,1,1.00,lots", "2,tax,lots,'lots' is not an amount."),
        ("ACME-01,I-1,2026-10-01,2026-09-01,Item,1,1.00,0", "2,due_date,2026-09-01,The due date cannot be before"),
        ("ACME-01,I-1,2026-10-01,,,1,1.00,0", "2,description,,Line 1: give a description."),
        ("NOBODY,I-1,2026-10-01,,Item,1,1.00,0", "2,vendor,NOBODY,Unknown vendor 'NOBODY'"),
        (",I-1,2026-10-01,,Item,1,1.00,0", "2,vendor,,Give the vendor's code or legal name."),
        ("ACME-01,,2026-10-01,,Item,1,1.00,0", "2,invoice_number,,Give the vendor's invoice number."),
    ],
)
def test_a_bad_value_in_any_column_is_reported_with_row_column_and_value(associate, acme, row, expected):
    good = "ACME-01,OK-1,2026-10-01,,Fine,1,1.00,0\n"
    job = upload(associate, HEADER + row + "\n" + good)
    assert job.status == ImportJob.Status.FAILED
    assert "nothing was written" in job.message
    lines = report(job)
    assert any(line.startswith(expected) for line in lines), lines
    assert not Invoice.objects.exists()  # the good row was not written either


def test_duplicate_keys_inside_one_file_are_reported(associate, acme):
    content = (
        HEADER
        + "ACME-01,D-1,2026-10-01,,One,1,1.00,0\n"
        + "ACME-01,D-2,2026-10-01,,Two,1,1.00,0\n"
        + "ACME-01,D-1,2026-10-01,,One again,1,1.00,0\n"
        + "Acme Ltd,D-2,2026-10-01,,Two by name,1,1.00,0\n"
        + "ACME-01,D-3,2026-10-01,,Three,1,1.00,0\n"
        + "ACME-01,D-3,2026-10-09,,Three b,1,1.00,0\n"
    )
    job = upload(associate, content)
    found = {(row, column, value): message for row, column, value, message in problems(job)}
    assert found[("4", "invoice_number", "D-1")].startswith("Invoice D-1 of ACME-01 already appeared in row 2")
    assert found[("5", "invoice_number", "D-2")].startswith("Invoice D-2 of ACME-01 is also in row 3")
    assert found[("7", "invoice_date", "2026-10-09")].startswith("Differs from row 6")
    assert job.summary["errors"] == 3
    assert not Invoice.objects.exists()


def test_every_invalid_row_of_a_long_file_is_reported_and_nothing_is_written(associate, acme, settings):
    rows = [f"ACME-01,L-{n},2026-10-01,,Item,1,1.00,0" for n in range(2500)]
    rows[10] = rows[10].replace("Item,1,", "Item,x,")
    rows[2400] = rows[2400].replace("ACME-01", "NOBODY")
    job = upload(associate, HEADER + "\n".join(rows) + "\n")
    assert job.summary["errors"] == 2 and job.rows_processed == 2500
    assert {line.split(",")[0] for line in report(job)[1:]} == {"12", "2402"}
    assert not Invoice.objects.exists() and not InvoiceLine.objects.exists()


@pytest.mark.postgres  # rows are written with COPY there; bulk_create elsewhere splits by the parameter limit
def test_queries_per_batch_do_not_grow_with_the_batch(associate, acme, beta, django_assert_max_num_queries):
    def file_of(count, prefix):
        return HEADER + "".join(
            f"{'ACME-01' if n % 2 else 'Beta GmbH'},{prefix}-{n},2026-10-01,,Item,1,1.00,0\n"
            f"{'ACME-01' if n % 2 else 'Beta GmbH'},{prefix}-{n},2026-10-01,,Other,2,1.00,0\n"
            for n in range(count)
        )

    small, large = file_of(10, "S"), file_of(450, "L")  # 20 and 900 rows: one batch each
    with django_assert_max_num_queries(40) as small_run:
        upload(associate, small)
    with django_assert_max_num_queries(len(small_run.captured_queries)):
        upload(associate, large)
    assert Invoice.objects.count() == 460
    changed = large.replace(",Other,2,", ",Other,3,")
    with django_assert_max_num_queries(len(small_run.captured_queries) + 4):  # + update, delete of old lines
        job = upload(associate, changed)
    assert job.summary["updated"] == 450


@pytest.mark.postgres  # the plan is PostgreSQL's
def test_a_batchs_invoices_are_looked_up_key_by_key_not_by_scanning_the_table(associate, acme, beta):
    """Joined to the table as a whole, a batch's thousand keys were matched by hashing every invoice in it,
    the planner's choice until the table is large: each batch of an import took longer than the last. Key by
    key, whether the planner's statistics have caught up with the rows an import just wrote or not."""
    rows = "".join(f"{'ACME-01' if n % 2 else 'BETA-02'},T-{n},2026-10-01,,Item,1,1.00,0\n" for n in range(3000))
    assert upload(associate, HEADER + rows).summary["new"] == 3000
    keys = [(vendor.pk, f"{prefix}-{n}") for n in range(500) for vendor in (acme, beta) for prefix in ("T", "U")]
    found = invoice_imports.entered_invoices(keys)
    assert {(invoice.vendor_id, invoice.number) for invoice in found} == {
        (acme.pk if n % 2 else beta.pk, f"T-{n}") for n in range(500)
    }
    sql, params = found.query.sql_with_params()
    for analyzed in (False, True):
        with connection.cursor() as cursor:
            if analyzed:
                cursor.execute("ANALYZE invoices_invoice")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        assert "Seq Scan on invoices_invoice" not in plan and "Hash Join" not in plan, plan
        assert re.search(r"Index Scan using \w+ on invoices_invoice i\b", plan), plan  # the per-key subquery


def test_auditors_and_vendor_managers_cannot_import_invoices(make_user):
    from django.core.exceptions import PermissionDenied

    for role in ("auditor", "vendor_manager"):
        with pytest.raises(PermissionDenied):
            upload(make_user(role), GOOD)
    assert not ImportJob.objects.exists()


def test_xlsx_invoices_with_dates_and_numbers_as_cells(associate, acme):
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["ContactName", "InvoiceNumber", "InvoiceDate", "Description", "Quantity", "UnitAmount"])
    sheet.append(["ACME-01", "XL-1", date(2026, 10, 3), "Cable", 3, 0.1])
    buffer = io.BytesIO()
    workbook.save(buffer)
    job = upload(associate, buffer.getvalue(), name="bills.xlsx")
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    invoice = Invoice.objects.get(number="XL-1")
    assert (invoice.invoice_date, invoice.total) == (date(2026, 10, 3), Decimal("0.30"))


# --- Purchase orders, receipts and payments -------------------------------------------------------

PURCHASE_ORDERS = (
    "Supplier,PO Number,Order Date,Currency,Item,Description,Qty,Unit Price,Delivery Date\n"
    "ACME-01,PO-900,2026-09-01,EUR,BR-1,Brackets,100,10.00,2026-09-15\n"
    "ACME-01,PO-900,2026-09-01,EUR,BO-2,Bolts,500,0.20,2026-09-20\n"
)


def test_purchase_orders_with_lines_are_created_through_the_service_once(associate, acme):
    job = upload(associate, PURCHASE_ORDERS, target="invoices.purchaseorder")
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    from apps.invoices.models import PurchaseOrder

    order = PurchaseOrder.objects.get(number="PO-900")
    assert (order.vendor, order.currency, order.created_by) == (acme, "EUR", associate)
    assert list(order.lines.values_list("line_number", "item_code", "quantity")) == [
        (1, "BR-1", Decimal("100.000")),
        (2, "BO-2", Decimal("500.000")),
    ]
    assert upload(associate, PURCHASE_ORDERS, target="invoices.purchaseorder").summary["unchanged"] == 1
    changed = upload(associate, PURCHASE_ORDERS.replace("500,0.20", "600,0.20"), target="invoices.purchaseorder")
    assert changed.status == ImportJob.Status.FAILED
    assert "already exists with other values" in problems(changed)[0][3]


def test_receipts_are_recorded_against_order_lines_and_not_twice(associate, acme):
    upload(associate, PURCHASE_ORDERS, target="invoices.purchaseorder")
    content = "PO Number,Line,Date Received,Qty Received,Damaged,Delivery Note\nPO-900,1,2026-09-14,60,2,DN-1\n"
    job = upload(associate, content, target="invoices.goodsreceipt")
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    from apps.invoices.models import GoodsReceipt

    receipt = GoodsReceipt.objects.get()
    assert (receipt.po_line.line_number, receipt.quantity_accepted, receipt.reference) == (1, Decimal("58"), "DN-1")
    assert upload(associate, content, target="invoices.goodsreceipt").summary["unchanged"] == 1
    unknown = upload(associate, content.replace("PO-900,1,", "PO-900,7,"), target="invoices.goodsreceipt")
    assert ("2", "line_number", "7", "Purchase order PO-900 has no line 7.") in problems(unknown)
    future = upload(associate, content.replace("2026-09-14", "2999-01-01"), target="invoices.goodsreceipt")
    assert problems(future)[0][1:] == ("received_date", "2999-01-01", "Goods cannot be received in the future.")
    assert GoodsReceipt.objects.count() == 1


def test_payments_go_through_the_payment_service_and_settle_the_invoice(associate, acme, beta):
    upload(associate, GOOD)
    invoice = Invoice.objects.get(number="INV-1")
    Invoice.objects.filter(pk=invoice.pk).update(status=Invoice.Status.SCHEDULED)
    payments = "ContactName,InvoiceNumber,Amount Paid,Payment Date,Payment Reference,Method\n"
    too_much = upload(associate, payments + "ACME-01,INV-1,99.00,2026-10-20,TX-1,ACH\n", target="invoices.payment")
    assert too_much.status == ImportJob.Status.FAILED
    assert problems(too_much)[0][1] == "amount" and "more than the open balance" in problems(too_much)[0][3]

    content = payments + "ACME-01,INV-1,30.00,2026-10-20,TX-1,ACH\nAcme Ltd,INV-1,1.50,2026-10-21,CHK-9,Check\n"
    job = upload(associate, content, target="invoices.payment")
    assert job.status == ImportJob.Status.SUCCEEDED, job.message
    invoice.refresh_from_db()
    assert (invoice.paid_amount, invoice.status) == (Decimal("31.50"), Invoice.Status.PAID)
    assert upload(associate, content, target="invoices.payment").summary == {
        "new": 0,
        "updated": 0,
        "unchanged": 2,
        "errors": 0,
    }
    unpaid = upload(associate, payments + "BETA-02,B-77,5.00,2026-10-20,TX-2,wire\n", target="invoices.payment")
    assert "only scheduled for payment invoices can be paid" in problems(unpaid)[0][3]


def test_an_export_of_invoice_lines_imports_back_unchanged(associate, acme, beta):
    from apps.invoices.resources import InvoiceLineResource

    upload(associate, GOOD)
    exported = InvoiceLineResource().export().csv
    assert exported.splitlines()[0] == (
        "vendor,invoice_number,invoice_date,due_date,currency,purchase_order,notes,description,quantity,"
        "unit_price,line_amount,tax"
    )
    again = upload(associate, exported)
    assert again.status == ImportJob.Status.SUCCEEDED, again.message
    assert again.summary == {"new": 0, "updated": 0, "unchanged": 2, "errors": 0}


def test_the_invoice_order_receipt_and_payment_lists_link_to_their_import(client, associate):
    from django.urls import reverse

    client.force_login(associate)
    for model, target in (
        ("invoice", "invoices.invoice"),
        ("purchaseorder", "invoices.purchaseorder"),
        ("goodsreceipt", "invoices.goodsreceipt"),
        ("payment", "invoices.payment"),
    ):
        page = client.get(reverse(f"admin:invoices_{model}_changelist")).content.decode()
        assert f"?target={target}" in page
    invoice_list = client.get(reverse("admin:invoices_invoice_changelist")).content.decode()
    assert "AP aging" in invoice_list and "Exception queue" in invoice_list  # its own links stay
