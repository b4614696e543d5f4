"""On PostgreSQL: concurrent approvals of one count post once; a movement racing an approval is caught."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.inventory import selectors
from apps.inventory.models import CycleCount, LedgerEntry, StockLevel
from apps.inventory.services import cycle_count_approve, cycle_count_enter, cycle_count_start, cycle_count_submit
from tests.inventory.conftest import entries

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(workers, target):
    barrier = threading.Barrier(len(workers))
    outcomes, errors = [], []

    def run(person):
        try:
            barrier.wait()
            target(person)
            outcomes.append("ok")
        except Exception as exc:  # collected below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(person,)) for person in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes, errors


def test_fifty_concurrent_approvals_of_one_count_post_once(people, open_count, shelf, make_user):
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    cycle_count_enter(
        count_id=open_count.pk,
        actor=people["counter"],
        entries=entries(open_count, {"SKU-1": 97, "SKU-2": 21, "SKU-3": 0}),
    )
    cycle_count_submit(count_id=open_count.pk, actor=people["counter"])
    approvers = [people["approver"], people["controller"]]
    approvers += [make_user("approver" if n % 2 else "inventory_controller") for n in range(48)]  # 50 in all

    outcomes, errors = _race(approvers, lambda person: cycle_count_approve(count_id=open_count.pk, actor=person))

    assert outcomes == ["ok"]
    assert len(errors) == 49 and all("cannot be approved" in str(e) for e in errors), errors
    assert LedgerEntry.objects.filter(count_line__count=open_count).count() == 3
    assert StockLevel.objects.get(item=shelf["items"][0]).quantity == Decimal("97")
    assert StockLevel.objects.get(item=shelf["items"][1]).quantity == Decimal("21")
    assert CycleCount.objects.get(pk=open_count.pk).status == "approved"
    assert selectors.ledger_matches_stock_levels() == []


def test_a_shipment_racing_an_approval_never_slips_between_check_and_post(people, open_count, shelf):
    from apps.inventory.services import stock_move

    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    cycle_count_enter(
        count_id=open_count.pk,
        actor=people["counter"],
        entries=entries(open_count, {"SKU-1": 100, "SKU-2": 20, "SKU-3": 0}),
    )
    cycle_count_submit(count_id=open_count.pk, actor=people["counter"])

    def act(person):
        if person == people["approver"]:
            cycle_count_approve(count_id=open_count.pk, actor=person)
        else:
            stock_move(
                item_id=shelf["items"][0].pk, location_id=shelf["bins"][0].pk, kind="shipment", quantity=4, actor=person
            )

    outcomes, errors = _race([people["approver"], people["controller"]], act)

    count = CycleCount.objects.get(pk=open_count.pk)
    level = StockLevel.objects.get(item=shelf["items"][0])
    assert level.quantity == Decimal("96")  # the shipment always lands
    if count.status == "approved":
        assert outcomes == ["ok", "ok"]  # approval first, shipment after it
    else:
        assert len(errors) == 1 and "Stock moved since counting started" in str(errors[0])
    assert selectors.ledger_matches_stock_levels() == []
