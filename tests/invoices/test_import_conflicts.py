"""Someone else saves or deletes what an invoice import writes while it runs: the job fails, nothing is written."""

import threading
from datetime import date

import pytest
from auditlog.models import LogEntry
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from apps.core.models import ImportJob
from apps.core.services.imports import _refused_message, import_job_create, import_job_run, progress_key
from apps.invoices import imports as invoice_imports
from apps.invoices import services
from apps.invoices.models import Invoice, InvoiceLine, PurchaseOrder
from tests.invoices.factories import PurchaseOrderFactory
from tests.vendors.factories import VendorFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

HEADER = "vendor,invoice_number,invoice_date,due_date,purchase_order,description,quantity,unit_price,tax\n"
FILE = (
    HEADER
    + "ACME-01,INV-1,2026-10-01,2026-10-31,,Brackets,10,2.50,1.00\n"
    + "ACME-01,INV-2,2026-10-02,2026-11-01,,Bolts,4,1.25,0.50\n"
)


def upload(actor, content: str) -> ImportJob:
    file = SimpleUploadedFile("bills.csv", content.encode())
    job = import_job_create(actor=actor, target="invoices.invoice", uploaded_file=file, dry_run=False)
    import_job_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def in_another_thread(action):
    """``action()`` in a thread of its own, so on a connection of its own, committed before this returns."""
    outcome = []

    def run():
        try:
            outcome.append(action())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    [result] = outcome
    return result


def right_after_the_look_up(monkeypatch, action) -> list:
    """Run ``action()`` on another connection once, just after the import looked up the invoices of its file."""
    looked_up, done = invoice_imports.InvoiceBatch._existing, []

    def existing(batch, ready):
        found = looked_up(batch, ready)
        if not done:
            done.append(in_another_thread(action))
        return found

    monkeypatch.setattr(invoice_imports.InvoiceBatch, "_existing", existing)
    return done


def test_an_invoice_saved_by_someone_else_mid_import_fails_the_job_with_a_clear_message(
    associate, make_user, monkeypatch, caplog
):
    acme = VendorFactory(code="ACME-01", legal_name="Acme Ltd")
    colleague = make_user("associate")
    entered = right_after_the_look_up(
        monkeypatch,
        lambda: services.invoice_create(
            actor=colleague,
            vendor_id=acme.pk,
            number="INV-1",
            invoice_date=date(2026, 10, 1),
            lines=[{"description": "Entered by hand", "quantity": "1", "unit_price": "9.00"}],
        ),
    )

    job = upload(associate, FILE)

    assert job.status == ImportJob.Status.FAILED and job.finished_at is not None
    assert job.message == (
        "While this import ran, invoice INV-1 of vendor ACME-01 was saved by someone else, so nothing was written. "
        "Import the file again: rows already entered show as unchanged or updated."
    )
    [invoice] = Invoice.objects.all()  # only the one entered by hand: neither invoice of the file
    assert invoice.pk == entered[0].pk and invoice.created_by == colleague
    assert list(InvoiceLine.objects.values_list("description", flat=True)) == ["Entered by hand"]
    assert not LogEntry.objects.filter(additional_data__import_job=job.pk).exists()
    assert cache.get(progress_key(job.pk)) is None
    [warning] = [r for r in caplog.records if r.levelname == "WARNING" and f"Import job {job.pk}" in r.getMessage()]
    assert "invoice_number_unique_per_vendor" in warning.getMessage()

    monkeypatch.undo()
    again = upload(associate, FILE)  # as the message says: the invoice entered meanwhile is updated
    assert again.status == ImportJob.Status.SUCCEEDED, again.message
    assert again.summary == {"new": 1, "updated": 1, "unchanged": 0, "errors": 0}


def test_an_order_deleted_by_someone_else_mid_import_fails_the_job_with_the_database_reason(associate, monkeypatch):
    acme = VendorFactory(code="ACME-01", legal_name="Acme Ltd")
    order = PurchaseOrderFactory(vendor=acme, number="PO-9")
    right_after_the_look_up(monkeypatch, lambda: PurchaseOrder.objects.filter(pk=order.pk).delete())

    job = upload(associate, HEADER + "ACME-01,INV-1,2026-10-01,2026-10-31,PO-9,Brackets,10,2.50,1.00\n")

    assert job.status == ImportJob.Status.FAILED
    assert job.message.startswith(
        "While this import ran, a record its rows refer to was deleted by someone else, so nothing was written ("
    )
    assert f"Key (purchase_order_id)=({order.pk}) is not present" in job.message
    assert not Invoice.objects.exists()
    assert not LogEntry.objects.filter(additional_data__import_job=job.pk).exists()


def test_a_rule_the_checks_missed_fails_the_job_with_the_database_reason_for_an_administrator(associate):
    acme = VendorFactory(code="ACME-01", legal_name="Acme Ltd")
    upload(associate, FILE)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        Invoice.objects.filter(vendor=acme, number="INV-1").update(due_date=date(2026, 9, 1))  # before its date

    message = _refused_message(refused.value)

    assert message.startswith("The database refused the file's rows, so nothing was written (")
    assert "invoice_due_after_date" in message and "Tell an administrator" in message
    assert "While this import ran" not in message
