"""
Every operation of the OpenAPI schema (``/api/schema/``) called with generated requests, as every role.

Schemathesis reads the schema from the WSGI application itself and generates requests from it;
each example is sent with the token of one role (drawn per example) on demo-like data. No answer
may be a server error and every documented answer must match its schema. A slice runs with every
test run (``SCHEMA_EXAMPLES`` per operation), at least 100 per operation with ``FUZZ_FULL=1``
(``make test-full``).
"""

import contextlib
import os
from datetime import date
from decimal import Decimal

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

SCHEMA_EXAMPLES = 100 if os.environ.get("FUZZ_FULL") else 10
ROLES = [
    "staff",
    "associate",
    "approver",
    "vendor_manager",
    "inventory_controller",
    "sop_owner",
    "auditor",
    "administrator",
]
CHECKS = [not_a_server_error, response_schema_conformance]


@contextlib.contextmanager
def requests_inside_the_test_transaction():
    """Like Django's test client: a request's end does not close the connection the test's transaction is on."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def tokens(make_user):
    return {role: Token.objects.create(user=make_user(None if role == "staff" else role)).key for role in ROLES}


@pytest.fixture
def demo_records(make_user, settings, tmp_path):
    """A little of everything the API serves: vendors, invoices, refund cases, counts, SOPs, an import."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.core.services.imports import import_job_create
    from apps.inventory.models import CycleCount
    from apps.inventory.services import cycle_count_create
    from apps.invoices import services as invoices
    from apps.refunds import services as refunds
    from tests.inventory.factories import ItemFactory, LocationFactory, WarehouseFactory, stock
    from tests.invoices.factories import PurchaseOrderLineFactory, ReceiptFactory
    from tests.refunds.factories import ChannelFactory, OrderLineFactory, PolicyFactory, ReasonCodeFactory
    from tests.sops.factories import SOPVersionFactory
    from tests.vendors.factories import ContractFactory, ReviewFactory

    settings.MEDIA_ROOT = str(tmp_path)
    clerk, controller, manager = make_user("associate"), make_user("inventory_controller"), make_user("vendor_manager")
    for number in range(3):
        line = PurchaseOrderLineFactory()
        ReceiptFactory(po_line=line)
        ContractFactory(vendor=line.purchase_order.vendor)
        ReviewFactory(vendor=line.purchase_order.vendor)
        invoice = invoices.invoice_create(
            actor=clerk,
            vendor_id=line.purchase_order.vendor_id,
            number=f"INV-S{number}",
            invoice_date=date(2026, 10, 1),
            purchase_order=line.purchase_order,
            tax=Decimal("0"),
            lines=[{"po_line": line, "description": "Brackets", "quantity": "100", "unit_price": "10.00"}],
        )
        if number:
            invoices.invoice_submit(invoice_id=invoice.pk, actor=clerk)
    ChannelFactory()
    ReasonCodeFactory()
    PolicyFactory()
    order_line = OrderLineFactory()
    refunds.case_request(
        actor=clerk, order_id=order_line.order_id, type="refund", amount="20.00", reason_code="damaged"
    )
    location = LocationFactory(warehouse=WarehouseFactory())
    stock(ItemFactory(), location, 7)
    cycle_count_create(actor=controller, kind=CycleCount.Kind.LOCATION, location_ids=[location.pk])
    SOPVersionFactory()
    import_job_create(
        actor=manager,
        target="vendors.vendor",
        uploaded_file=SimpleUploadedFile("v.csv", b"code,legal_name,category\nS-1,Schema Ltd,goods\n"),
    )


@pytest.mark.fuzz
@pytest.mark.django_db
def test_every_operation_answers_without_server_errors_and_as_documented(tokens, demo_records):
    application = WSGIHandler()
    with requests_inside_the_test_transaction():
        schema = schemathesis.openapi.from_wsgi(
            "/api/schema/", application, headers={"Authorization": f"Token {tokens['administrator']}"}
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) > 50  # the whole API, not an empty or partial schema
        failures = []
        for operation in operations:
            failures += _exercise(operation, tokens)
    assert failures == [], "\n\n".join(failures[:20])


def _exercise(operation, tokens) -> list[str]:
    failures: list[str] = []

    @given(case=operation.as_strategy(), role=st.sampled_from(ROLES))
    @settings(
        max_examples=SCHEMA_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case, role):
        try:
            with transaction.atomic():  # each request leaves the data as it found it
                response = case.call(headers={"Authorization": f"Token {tokens[role]}"})
                transaction.set_rollback(True)
            case.validate_response(response, checks=CHECKS)
        except Exception as exc:  # the first failure of an operation is enough to act on
            failures.append(f"{operation.label} as {role}: {type(exc).__name__}: {exc}"[:3000])
            raise

    with contextlib.suppress(Exception, BaseExceptionGroup):  # recorded above
        run()
    return failures[:1]
