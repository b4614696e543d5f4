"""Bulk writing: instances built without the model constructor, COPY, and the change log written in bulk."""

import gc
import json
import sys
from datetime import UTC, date
from decimal import Decimal

import pytest
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DEFAULT_DB_ALIAS, connections

from apps.core import bulk
from apps.invoices.models import Invoice, InvoiceLine
from apps.vendors.models import Vendor
from tests.vendors.factories import VendorFactory


def field_values(instance) -> dict:
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_new_instance_holds_what_the_constructor_gives():
    vendor = Vendor(pk=3, code="V-3")
    built = bulk.new_instance(Invoice, number="X-1", vendor=vendor, tax=Decimal("1.50"), purchase_order=None)
    constructed = Invoice(number="X-1", vendor=vendor, tax=Decimal("1.50"), purchase_order=None)
    assert field_values(built) == field_values(constructed)
    assert built.vendor is vendor and built.vendor_id == 3 and built.purchase_order is None
    assert built._state.adding and built._state.db is None
    entry = bulk.new_instance(LogEntry)
    assert entry.timestamp is not None  # a callable default is called for the instance
    with pytest.raises(TypeError, match="no field named 'nonsense'"):
        bulk.new_instance(Invoice, nonsense=1)


def creation_changes(instance) -> dict:
    """The changes django-auditlog itself records when ``instance`` is created (its JSON form), as read back.

    Only the model's own fields: for a reverse relation django-auditlog writes its manager's name ("None").
    """
    changes = model_instance_diff(None, instance, use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES)
    own = {field.name for field in type(instance)._meta.concrete_fields}
    return {name: pair for name, pair in json.loads(json.dumps(changes, cls=DjangoJSONEncoder)).items() if name in own}


def _invoice_and_line(associate, vendor):
    invoice = bulk.new_instance(
        Invoice,
        number="B-1",
        vendor=vendor,
        invoice_date=date(2026, 10, 1),
        due_date=date(2026, 10, 31),
        currency="EUR",
        subtotal=Decimal("2.50"),
        tax=Decimal("0.50"),
        total=Decimal("3.00"),
        created_by=associate,
        updated_by=associate,
    )
    line = bulk.new_instance(
        InvoiceLine,
        invoice=invoice,
        line_number=1,
        description="Bolts, 'hex' \\ \"M8\" \u00e9\u4e2d\t\n",
        quantity=Decimal("2.000"),
        unit_price=Decimal("1.25"),
        amount=Decimal("2.50"),
    )
    return invoice, line


def test_creation_entries_written_in_bulk_hold_every_value_written(make_user):
    associate = make_user("associate")
    vendor = VendorFactory(code="BULK-1")
    invoice, line = _invoice_and_line(associate, vendor)
    bulk.bulk_insert(Invoice, [invoice])
    line.invoice_id = invoice.pk
    bulk.bulk_insert(InvoiceLine, [line])
    log = bulk.ChangeLog(actor=associate, additional_data={"path": "import", "import_job": 7})
    log.created(invoice)
    log.created(line)
    log.write()

    for instance in (invoice, line):
        saved = type(instance).objects.get(pk=instance.pk)
        entry = LogEntry.objects.get_for_object(saved).get()
        assert entry.action == LogEntry.Action.CREATE
        assert entry.changes == creation_changes(instance)
        assert entry.object_repr == str(saved) and entry.object_id == saved.pk
        assert entry.actor == associate and entry.additional_data == {"path": "import", "import_job": 7}
    invoice_entry = LogEntry.objects.get_for_object(invoice).get()
    assert invoice_entry.changes["total"] == [None, "3.00"]
    assert invoice_entry.changes["was_disputed"] == [None, False]
    assert invoice_entry.changes["vendor"] == [None, vendor.pk]
    assert invoice_entry.changes["notes"] == [None, ""] and "purchase_order" not in invoice_entry.changes
    in_utc = invoice.created_at.astimezone(UTC).replace(tzinfo=None)
    assert invoice_entry.changes["created_at"] == [None, str(in_utc)]
    line_entry = LogEntry.objects.get_for_object(line).get()
    assert line_entry.changes["description"] == [None, "Bolts, 'hex' \\ \"M8\" \u00e9\u4e2d\t\n"]


@pytest.mark.postgres  # elsewhere the database gives the ids as the rows are written
def test_rows_made_ready_with_drawn_ids_have_their_entries_before_they_are_written(make_user):
    associate = make_user("associate")
    invoice, _ = _invoice_and_line(associate, VendorFactory(code="BULK-2"))
    pool = bulk.IdPool(Invoice)
    pool.reserve(3)
    bulk.make_ready(Invoice, [invoice], pool.take(1))
    assert invoice.pk is not None and invoice.created_at is not None and len(pool.ids) == 2
    log = bulk.ChangeLog(actor=associate, additional_data={})
    log.created(invoice)
    assert len(log.rows) == 1 and not log.awaiting_ids  # built now, not at the write
    with pytest.raises(RuntimeError, match="3 Invoice ids taken, 2 reserved"):
        pool.take(3)
    bulk.bulk_insert(Invoice, [invoice])
    log.write()
    saved = Invoice.objects.get(pk=invoice.pk)
    assert saved.created_at == invoice.created_at
    assert LogEntry.objects.get_for_object(saved).get().changes == creation_changes(invoice)


@pytest.mark.postgres  # elsewhere the writes run at once in the caller's thread
def test_a_change_log_written_by_the_writer_thread_uses_only_the_callers_connection(make_user):
    associate = make_user("associate")
    invoice, _ = _invoice_and_line(associate, VendorFactory(code="BULK-3"))
    bulk.bulk_insert(Invoice, [invoice])
    log = bulk.ChangeLog(actor=associate, additional_data={})
    log.created(invoice)  # gathered and not sealed: the writer formats it
    opened = []

    def write(raw):
        log.write(raw)
        opened.append(connections[DEFAULT_DB_ALIAS].connection)

    with bulk.BackgroundWriter() as writer:
        writer.submit(write)
        writer.wait()
    assert opened == [None]  # the writer thread opened no connection of its own
    assert LogEntry.objects.get_for_object(invoice).get().changes == creation_changes(invoice)


@pytest.mark.postgres  # elsewhere the writes run at once in the caller's thread
def test_background_writes_are_in_the_callers_transaction_and_a_failure_reaches_the_caller(db):
    vendor = VendorFactory(legal_name="Before Ltd")

    def rename(raw, name):
        with raw.cursor() as cursor:
            cursor.execute("UPDATE vendors_vendor SET legal_name = %s WHERE id = %s", [name, vendor.pk])

    interval = sys.getswitchinterval()
    with bulk.BackgroundWriter() as writer:
        assert writer.threaded
        assert sys.getswitchinterval() == min(interval, bulk.BackgroundWriter.SWITCH_SECONDS)
        writer.submit(rename, "After Ltd")
        writer.wait()
        vendor.refresh_from_db()
        assert vendor.legal_name == "After Ltd"  # written on this connection, inside this test's transaction

    assert sys.getswitchinterval() == interval  # the interpreter's own again

    def broken(raw):
        raise ValueError("The disk is full.")

    later = []
    with pytest.raises(ValueError, match="The disk is full"), bulk.BackgroundWriter() as writer:
        writer.submit(broken)
        writer.submit(lambda raw: later.append(raw))
        writer.wait()
    assert later == []  # nothing after a failed write is written


def test_a_model_that_masks_fields_has_them_masked_in_entries_written_in_bulk(make_user):
    vendor = VendorFactory(code="BULK-M", bank_account_number="DE89370400440532013000")
    log = bulk.ChangeLog(actor=make_user("vendor_manager"), additional_data={})
    log.created(vendor)
    log.write()
    changes = LogEntry.objects.get_for_object(vendor).get(additional_data={}).changes
    assert changes == creation_changes(vendor)
    assert "DE89370400440532013000" not in json.dumps(changes)
    assert changes["bank_account_number"][1].endswith("3000") and changes["code"] == [None, "BULK-M"]


def test_fewer_collections_raises_the_youngest_threshold_inside_the_block_and_only_there():
    before = gc.get_threshold()
    with bulk.fewer_collections(young=50_000):
        assert gc.get_threshold() == (50_000, *before[1:])
    assert gc.get_threshold() == before

    with pytest.raises(ValueError, match="row 3"), bulk.fewer_collections(young=50_000):
        raise ValueError("row 3")
    assert gc.get_threshold() == before  # back when the import fails too

    gc.set_threshold(90_000, *before[1:])
    try:
        with bulk.fewer_collections(young=50_000):
            assert gc.get_threshold()[0] == 90_000  # a higher threshold is never lowered
        assert gc.get_threshold()[0] == 90_000
        gc.set_threshold(0)
        with bulk.fewer_collections(young=50_000):
            assert gc.get_threshold()[0] == 0  # collection turned off stays off
    finally:
        gc.set_threshold(*before)
