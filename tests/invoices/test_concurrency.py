"""Two people acting on the same invoice at the same moment: exactly one succeeds (PostgreSQL row locks)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.core.exceptions import TransitionNotAllowed
from apps.invoices import services
from apps.invoices.models import Invoice, Payment

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls):
    """Run the calls at the same moment in separate threads (separate connections); return outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            call()
            outcomes[index] = "ok"
        except Exception as exc:  # the refusal is the expected outcome of the loser
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_a_concurrent_double_approval_approves_once(submitted, po_line, approver, approver2):
    invoice = submitted(po_line)

    outcomes = race(
        lambda: services.invoice_approve(invoice_id=invoice.pk, actor=approver),
        lambda: services.invoice_approve(invoice_id=invoice.pk, actor=approver2),
    )

    assert outcomes.count("ok") == 1
    [refusal] = [o for o in outcomes if o != "ok"]
    assert isinstance(refusal, TransitionNotAllowed)
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.APPROVED
    assert invoice.second_approved_by is None


def test_a_concurrent_double_payment_pays_once(submitted, po_line, approver, associate, make_user):
    invoice = submitted(po_line)
    services.invoice_approve(invoice_id=invoice.pk, actor=approver)
    services.invoice_schedule(invoice_id=invoice.pk, actor=approver)
    clerk = make_user("associate")

    outcomes = race(
        lambda: services.payment_record(
            invoice_id=invoice.pk, actor=associate, amount="1000.00", payment_date=date(2026, 11, 1), reference="A"
        ),
        lambda: services.payment_record(
            invoice_id=invoice.pk, actor=clerk, amount="1000.00", payment_date=date(2026, 11, 1), reference="B"
        ),
    )

    assert outcomes.count("ok") == 1
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("1000.00")
    assert invoice.status == Invoice.Status.PAID
    assert Payment.objects.count() == 1


def test_concurrent_partial_payments_never_exceed_the_total(submitted, po_line, approver, associate):
    invoice = submitted(po_line)
    services.invoice_approve(invoice_id=invoice.pk, actor=approver)
    services.invoice_schedule(invoice_id=invoice.pk, actor=approver)

    outcomes = race(
        *[
            (
                lambda ref=ref: services.payment_record(
                    invoice_id=invoice.pk,
                    actor=associate,
                    amount="400.00",
                    payment_date=date(2026, 11, 1),
                    reference=ref,
                )
            )
            for ref in ("P1", "P2", "P3")
        ]
    )

    assert outcomes.count("ok") == 2
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("800.00")


def test_fifty_concurrent_approvals_approve_once(submitted, po_line, make_user):
    invoice = submitted(po_line)
    approvers = [make_user("approver") for _ in range(50)]

    outcomes = race(*[lambda a=a: services.invoice_approve(invoice_id=invoice.pk, actor=a) for a in approvers])

    assert outcomes.count("ok") == 1
    assert all(isinstance(o, TransitionNotAllowed) for o in outcomes if o != "ok")
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.APPROVED and invoice.second_approved_by is None


def test_fifty_concurrent_full_payments_pay_once(submitted, po_line, approver, make_user):
    invoice = submitted(po_line)
    services.invoice_approve(invoice_id=invoice.pk, actor=approver)
    services.invoice_schedule(invoice_id=invoice.pk, actor=approver)
    clerks = [make_user("associate") for _ in range(50)]

    outcomes = race(
        *[
            lambda n=n, clerk=clerk: services.payment_record(
                invoice_id=invoice.pk, actor=clerk, amount="1000.00", payment_date=date(2026, 11, 1), reference=f"R{n}"
            )
            for n, clerk in enumerate(clerks)
        ]
    )

    assert outcomes.count("ok") == 1
    assert all(o == "ok" or isinstance(o, TransitionNotAllowed | ValidationError) for o in outcomes), outcomes
    invoice.refresh_from_db()
    assert invoice.paid_amount == Decimal("1000.00") and Payment.objects.filter(invoice=invoice).count() == 1
