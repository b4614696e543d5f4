"""A record saved by someone else while an import runs: named in the user's words, the file written not at all."""

import csv
import io
import threading
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction

from apps.core.imports import unique_conflict
from apps.core.models import ImportJob
from apps.core.services.imports import import_job_create, import_job_run
from apps.invoices.models import Invoice
from apps.vendors import services as vendor_services
from apps.vendors.models import Vendor
from tests.vendors.factories import VendorFactory

pytestmark = pytest.mark.postgres


def refusal(write) -> IntegrityError:
    """The error the database raises for ``write()``, its savepoint rolled back."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    return caught.value


@pytest.mark.django_db
def test_a_unique_field_is_named_by_its_value():
    VendorFactory(code="ACME-01")
    error = refusal(lambda: VendorFactory(code="ACME-01"))
    assert unique_conflict(error) == "vendor ACME-01"


@pytest.mark.django_db
def test_a_constraint_over_several_fields_names_each_and_the_related_record_by_its_code():
    acme = VendorFactory(code="ACME-01")
    acme.contacts.create(name="Jo Smith", email="jo@acme.example")
    error = refusal(lambda: acme.contacts.create(name="Jo Smith", email="jo@acme.example"))
    assert unique_conflict(error) == "vendor contact with name Jo Smith and email jo@acme.example of vendor ACME-01"


@pytest.mark.django_db
def test_a_value_holding_a_comma_is_kept_whole():
    acme = VendorFactory(code="ACME-01")
    values = {"vendor": acme, "number": "INV, 1", "invoice_date": date(2026, 10, 1), "due_date": date(2026, 10, 31)}
    Invoice.objects.create(**values)
    error = refusal(lambda: Invoice.objects.create(**values))
    assert unique_conflict(error) == "invoice INV, 1 of vendor ACME-01"


@pytest.mark.django_db
def test_a_constraint_it_cannot_read_is_named_by_the_model_and_the_database_detail():
    with connection.cursor() as cursor:
        cursor.execute("CREATE UNIQUE INDEX vendor_legal_name_upper ON vendors_vendor (upper(legal_name))")
    VendorFactory(legal_name="Acme Ltd")
    error = refusal(lambda: VendorFactory(legal_name="ACME LTD"))
    assert unique_conflict(error) == (
        "another vendor with the same key (Key (upper(legal_name::text))=(ACME LTD) already exists.)"
    )


@pytest.mark.django_db
def test_a_table_of_no_model_and_errors_other_than_unique_ones():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE scratch (name text UNIQUE, size integer CHECK (size > 0))")
        cursor.execute("INSERT INTO scratch VALUES ('a', 1)")

    def insert(name, size):
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO scratch VALUES (%s, %s)", [name, size])

    assert unique_conflict(refusal(lambda: insert("a", 2))) == (
        "another record with the same key (Key (name)=(a) already exists.)"
    )
    assert unique_conflict(refusal(lambda: insert("b", 0))) is None  # a check constraint: no conflict
    assert unique_conflict(ValueError("not a database error")) is None


@pytest.fixture
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.mark.django_db(transaction=True)
def test_a_vendor_saved_by_someone_else_mid_import_is_a_row_error_and_nothing_is_written(
    make_user, media_root, monkeypatch
):
    manager, colleague = make_user("vendor_manager"), make_user("vendor_manager")
    content = "code,legal_name,category,payment_terms_days\nACME-01,Acme Ltd,goods,30\nBETA-02,Beta GmbH,services,45\n"
    job = import_job_create(
        actor=manager,
        target="vendors.vendor",
        uploaded_file=SimpleUploadedFile("v.csv", content.encode()),
        dry_run=False,
    )
    checked, added = Vendor.full_clean, []

    def checked_then_someone_saves_it(vendor, *args, **kwargs):
        checked(vendor, *args, **kwargs)
        if vendor.code == "ACME-01" and not added:
            added.append(vendor.code)
            # Between the import's check of the code and its insert, a colleague adds the same vendor.
            thread = threading.Thread(target=add_acme)
            thread.start()
            thread.join()

    def add_acme():
        try:
            vendor_services.vendor_save(actor=colleague, code="ACME-01", legal_name="Acme (by hand)", category="goods")
        finally:
            connection.close()

    monkeypatch.setattr(Vendor, "full_clean", checked_then_someone_saves_it)

    import_job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "nothing was written" in job.message
    rows = list(csv.reader(io.StringIO(job.error_report.open("rb").read().decode())))
    assert rows[1] == [
        "2",
        "",
        "",
        "While this import ran, vendor ACME-01 was saved by someone else: import the file again.",
    ]
    assert list(Vendor.objects.values_list("code", "legal_name")) == [("ACME-01", "Acme (by hand)")]
