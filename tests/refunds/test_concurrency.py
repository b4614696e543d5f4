"""Row locks under real concurrency (PostgreSQL, threads with their own connections)."""

import threading
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.refunds import services
from apps.refunds.models import Order, Payout, RefundCase
from tests.refunds.factories import OrderFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_together(count, work):
    """Start ``count`` threads at once; return (results, errors) in no particular order."""
    barrier = threading.Barrier(count)
    results, errors = [], []

    def run(n):
        try:
            barrier.wait()
            results.append(work(n))
        except Exception as exc:  # collected for the assertions
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_twenty_concurrent_refunds_never_exceed_what_was_paid(setup, associate):
    order = OrderFactory(total=Decimal("1000.00"), amount_paid=Decimal("1000.00"))

    results, errors = run_together(
        20,
        lambda n: services.case_request(
            actor=associate, order_id=order.pk, type="refund", amount="150.00", reason_code="damaged"
        ),
    )

    order.refresh_from_db()
    assert len(results) == 6  # 6 x 150 = 900 fit; a seventh would make 1050
    assert len(errors) == 14
    assert all(isinstance(exc, ValidationError) and "amount" in exc.message_dict for exc in errors)
    total = sum(case.amount for case in RefundCase.objects.filter(order=order))
    assert total == order.committed_amount == Decimal("900.00") <= order.amount_paid


def test_concurrent_refunds_and_credits_of_mixed_amounts_stay_within_paid(setup, associate, associate2):
    order = OrderFactory(total=Decimal("500.00"), amount_paid=Decimal("500.00"))
    amounts = ["70.00", "45.50", "120.00", "33.33", "99.99"] * 4

    def request(n):
        kind = "store_credit" if n % 3 == 0 else "refund"
        return services.case_request(
            actor=associate if n % 2 else associate2,
            order_id=order.pk,
            type=kind,
            amount=amounts[n],
            reason_code="goodwill" if kind == "store_credit" else "damaged",
        )

    results, errors = run_together(20, request)

    order = Order.objects.get(pk=order.pk)
    total = sum(case.amount for case in RefundCase.objects.filter(order=order))
    assert results and errors
    assert total == order.committed_amount <= order.amount_paid
    assert order.amount_paid - total < Decimal("33.33")  # nothing that still fitted was refused


def test_fifty_concurrent_process_calls_move_money_once(approved_case, make_user):
    processors = [make_user("associate") for _ in range(50)]

    results, errors = run_together(50, lambda n: services.case_process(case_id=approved_case.pk, actor=processors[n]))

    assert errors == []
    assert len(results) == 50
    assert Payout.objects.filter(case=approved_case).count() == 1
    payout = Payout.objects.get(case=approved_case)
    assert {case.status for case in results} == {"processed"}
    assert {case.processed_by_id for case in results} == {payout.paid_by_id}  # everyone sees the same result
    assert payout.amount == approved_case.amount
