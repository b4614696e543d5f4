"""Cycle count rules: blind snapshot, variances and thresholds, recounts, approval posting once, stock moves."""

from datetime import timedelta
from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.core.exceptions import TransitionNotAllowed
from apps.core.models import AuditEvent
from apps.inventory import selectors
from apps.inventory.models import CycleCount, CycleCountLine, Item, LedgerEntry, StockLevel
from apps.inventory.policies import Policies, Tolerance
from apps.inventory.services import (
    cycle_count_approve,
    cycle_count_assign,
    cycle_count_cancel,
    cycle_count_create,
    cycle_count_enter,
    cycle_count_reject,
    cycle_count_request_recount,
    cycle_count_start,
    cycle_count_submit,
    cycle_counts_schedule_due,
    stock_move,
)
from tests.inventory.conftest import entries
from tests.inventory.factories import CountPolicyFactory, ItemFactory, LocationFactory, stock

pytestmark = pytest.mark.django_db
Status = CycleCount.Status


def level_of(item, location):
    return StockLevel.objects.get(item=item, location=location).quantity


def count_all(count, people, quantities):
    cycle_count_start(count_id=count.pk, actor=people["counter"])
    cycle_count_enter(count_id=count.pk, actor=people["counter"], entries=entries(count, quantities))
    return cycle_count_submit(count_id=count.pk, actor=people["counter"])


# --- Starting and entering --------------------------------------------------------------------


def test_starting_snapshots_the_system_quantity_of_every_line(open_count, people, shelf):
    count = cycle_count_start(count_id=open_count.pk, actor=people["counter"])

    assert count.status == Status.COUNTING
    expected = dict(count.lines.values_list("item__sku", "expected_quantity"))
    assert expected == {"SKU-1": Decimal("100"), "SKU-2": Decimal("20"), "SKU-3": Decimal("0")}
    assert not count.lines.filter(snapshot_at__isnull=True).exists()


def test_only_the_assigned_counter_starts_and_enters(open_count, people):
    with pytest.raises(PermissionDenied, match="assigned to"):
        cycle_count_start(count_id=open_count.pk, actor=people["recounter"])
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    with pytest.raises(PermissionDenied, match="Only the counter"):
        cycle_count_enter(count_id=open_count.pk, actor=people["recounter"], entries=[{"sku": "SKU-1", "quantity": 1}])


def test_an_unassigned_count_belongs_to_whoever_starts_it(people, shelf):
    (count,) = cycle_count_create(actor=people["controller"], kind="item", item_ids=[shelf["items"][0].pk])
    cycle_count_start(count_id=count.pk, actor=people["recounter"])
    count.refresh_from_db()
    assert count.counter == people["recounter"]


def test_lines_are_entered_in_any_order_and_saved_partially(open_count, people):
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    cycle_count_enter(count_id=open_count.pk, actor=people["counter"], entries=[{"sku": "SKU-3", "quantity": "0"}])
    cycle_count_enter(count_id=open_count.pk, actor=people["counter"], entries=[{"sku": "sku-1", "quantity": 99}])
    cycle_count_enter(count_id=open_count.pk, actor=people["counter"], entries=[{"sku": "SKU-1", "quantity": 100}])

    counted = dict(open_count.lines.values_list("item__sku", "counted_quantity"))
    assert counted == {"SKU-1": Decimal("100"), "SKU-2": None, "SKU-3": Decimal("0")}
    with pytest.raises(ValidationError) as error:
        cycle_count_submit(count_id=open_count.pk, actor=people["counter"])
    assert "1 line(s) not counted yet: SKU-2 @ WH1-A-02" in error.value.message_dict["lines"][0]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"sku": "SKU-1", "quantity": "-1"}, "cannot be negative"),
        ({"sku": "NOPE", "quantity": "1"}, "item NOPE is not on count"),
        ({"line_id": 999999, "quantity": "1"}, "line 999999 is not on count"),
        ({"sku": "SKU-1", "quantity": "abc"}, "is not a quantity"),
        ({"sku": "SKU-1", "quantity": "1.0001"}, "At most 3 decimal places"),
        ({"quantity": "1"}, "name a line or an item"),
    ],
)
def test_bad_entries_are_refused_with_a_clear_error_and_nothing_saved(open_count, people, entry, message):
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    good = {"sku": "SKU-2", "quantity": "20"}
    with pytest.raises(ValidationError) as error:
        cycle_count_enter(count_id=open_count.pk, actor=people["counter"], entries=[good, entry])
    assert message in " ".join(error.value.message_dict["lines"])
    assert not open_count.lines.filter(counted_quantity__isnull=False).exists()


def test_an_item_of_another_count_is_not_on_this_one(open_count, people, warehouse):
    other_bin = LocationFactory(warehouse=warehouse, zone="B", bin="01")
    other = ItemFactory(sku="SKU-OTHER")
    stock(other, other_bin, 5)
    (other_count,) = cycle_count_create(actor=people["controller"], kind="item", item_ids=[other.pk])
    foreign_line = other_count.lines.get()
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    with pytest.raises(ValidationError, match="is not on count"):
        cycle_count_enter(
            count_id=open_count.pk, actor=people["counter"], entries=[{"line_id": foreign_line.pk, "quantity": 5}]
        )


def test_entering_before_start_or_after_submit_is_a_conflict(open_count, people):
    with pytest.raises(TransitionNotAllowed, match="scheduled"):
        cycle_count_enter(count_id=open_count.pk, actor=people["counter"], entries=[{"sku": "SKU-1", "quantity": 1}])
    count_all(open_count, people, {"SKU-1": 100, "SKU-2": 20, "SKU-3": 0})
    with pytest.raises(TransitionNotAllowed, match="awaiting approval"):
        cycle_count_enter(count_id=open_count.pk, actor=people["counter"], entries=[{"sku": "SKU-1", "quantity": 1}])


def test_a_bin_is_on_one_open_count_at_a_time(open_count, people, shelf):
    with pytest.raises(ValidationError, match="already on open counts"):
        cycle_count_create(actor=people["controller"], kind="item", item_ids=[shelf["items"][0].pk])


def test_associates_cannot_schedule_and_approvers_cannot_count(people, shelf, open_count):
    with pytest.raises(PermissionDenied):
        cycle_count_create(actor=people["counter"], kind="item", item_ids=[shelf["items"][0].pk])
    with pytest.raises(ValidationError, match="may not count"):
        cycle_count_assign(count_id=open_count.pk, actor=people["controller"], counter_id=people["approver"].pk)


# --- Variances and recounts -------------------------------------------------------------------


def test_within_tolerance_goes_straight_to_approval(open_count, people):
    count = count_all(open_count, people, {"SKU-1": 98, "SKU-2": 20, "SKU-3": 0})  # -2 units, -2%, -20.00
    assert count.status == Status.SUBMITTED
    line = count.lines.get(item__sku="SKU-1")
    assert line.first_count_within_tolerance is True
    assert line.variance_quantity == Decimal("-2") and line.variance_value == Decimal("-20.00")


@pytest.mark.parametrize(
    ("counted", "recount"),
    [
        (95, False),  # 5 units = threshold 5, 5% = threshold 5%: within
        (94, True),  # 6 units > 5
        (105, False),
        (106, True),
    ],
)
def test_threshold_boundaries_in_units_and_percent(open_count, people, counted, recount):
    CountPolicyFactory(abc_class="", tolerance_units=Decimal("5"), tolerance_percent=Decimal("5"), tolerance_value=None)
    count = count_all(open_count, people, {"SKU-1": counted, "SKU-2": 20, "SKU-3": 0})
    assert count.lines.get(item__sku="SKU-1").recount_required is recount
    assert count.status == (Status.RECOUNT if recount else Status.SUBMITTED)


def test_value_threshold_and_class_and_item_overrides(open_count, people, shelf):
    CountPolicyFactory(abc_class="", tolerance_units=Decimal("1000"), tolerance_percent=None, tolerance_value=None)
    CountPolicyFactory(abc_class="B", tolerance_value=Decimal("30.00"))
    Item.objects.filter(sku="SKU-2").update(tolerance_value=Decimal("1000.00"), tolerance_percent=Decimal("100"))
    count = count_all(open_count, people, {"SKU-1": 96, "SKU-2": 30, "SKU-3": 0})
    # SKU-1: -4 x 10.00 = 40.00 > 30.00 (class B) → recount; SKU-2: +100.00 within the item's 1000.00.
    assert set(count.lines.filter(recount_required=True).values_list("item__sku", flat=True)) == {"SKU-1"}


def test_policies_fall_back_from_item_to_class_to_global_to_defaults(db):
    item = ItemFactory(abc_class="A")
    assert Policies().frequency_days(item) == 30
    CountPolicyFactory(abc_class="", frequency_days=45)
    assert Policies().frequency_days(item) == 45
    CountPolicyFactory(abc_class="A", frequency_days=14)
    assert Policies().frequency_days(item) == 14
    item.count_frequency_days = 7
    assert Policies().frequency_days(item) == 7


def test_any_count_of_an_item_expected_at_zero_is_a_percent_variance():
    tolerance = Tolerance(units=None, percent=Decimal("5"), value=None)
    assert tolerance.exceeded_by(expected=Decimal("0"), counted=Decimal("1"), unit_cost=Decimal("1")) is True
    assert tolerance.exceeded_by(expected=Decimal("0"), counted=Decimal("0"), unit_cost=Decimal("1")) is False


def test_recount_by_a_different_person_then_approval(open_count, people, shelf):
    count = count_all(open_count, people, {"SKU-1": 80, "SKU-2": 20, "SKU-3": 0})
    assert count.status == Status.RECOUNT

    with pytest.raises(PermissionDenied, match="someone other than the counter"):
        cycle_count_enter(count_id=count.pk, actor=people["counter"], entries=[{"sku": "SKU-1", "quantity": 80}])
    with pytest.raises(ValidationError, match="Not awaiting a recount: SKU-2"):
        cycle_count_enter(count_id=count.pk, actor=people["recounter"], entries=[{"sku": "SKU-2", "quantity": 20}])
    with pytest.raises(TransitionNotAllowed, match="1 line\\(s\\) still awaiting a recount"):
        cycle_count_approve(count_id=count.pk, actor=people["approver"])

    cycle_count_enter(count_id=count.pk, actor=people["recounter"], entries=[{"sku": "SKU-1", "quantity": 90}])
    count = cycle_count_submit(count_id=count.pk, actor=people["recounter"])
    assert count.status == Status.SUBMITTED and count.recounter == people["recounter"]

    with pytest.raises(PermissionDenied, match="You recounted"):
        cycle_count_approve(count_id=count.pk, actor=people["recounter"])
    count = cycle_count_approve(count_id=count.pk, actor=people["approver"])

    assert count.status == Status.APPROVED
    assert level_of(shelf["items"][0], shelf["bins"][0]) == Decimal("90")  # the recount wins
    line = count.lines.get(item__sku="SKU-1")
    assert line.first_count_within_tolerance is False and line.first_variance_quantity == Decimal("-20")


def test_recounter_assigned_in_advance_is_the_only_one_to_recount(open_count, people, make_user):
    other = make_user("associate")
    cycle_count_assign(count_id=open_count.pk, actor=people["controller"], recounter_id=people["recounter"].pk)
    count = count_all(open_count, people, {"SKU-1": 50, "SKU-2": 20, "SKU-3": 0})
    with pytest.raises(PermissionDenied, match="assigned to"):
        cycle_count_enter(count_id=count.pk, actor=other, entries=[{"sku": "SKU-1", "quantity": 50}])
    with pytest.raises(ValidationError, match="someone other than the counter"):
        cycle_count_assign(count_id=count.pk, actor=people["controller"], recounter_id=people["counter"].pk)


# --- Stock moved since the snapshot -----------------------------------------------------------


def test_stock_moved_since_the_snapshot_is_flagged_and_refreshed_for_the_recount(open_count, people, shelf):
    cycle_count_start(count_id=open_count.pk, actor=people["counter"])
    stock_move(
        item_id=shelf["items"][1].pk,
        location_id=shelf["bins"][1].pk,
        kind="shipment",
        quantity=5,
        actor=people["controller"],
        reference="SO-1",
    )
    line = open_count.lines.get(item__sku="SKU-2")
    assert line.stock_moved is True

    cycle_count_enter(
        count_id=open_count.pk,
        actor=people["counter"],
        entries=entries(open_count, {"SKU-1": 100, "SKU-2": 15, "SKU-3": 0}),
    )
    count = cycle_count_submit(count_id=open_count.pk, actor=people["counter"])

    line.refresh_from_db()
    assert count.status == Status.RECOUNT
    assert line.recount_required and line.recount_reason == "stock_moved"
    assert line.expected_quantity == Decimal("15") and not line.stock_moved


def test_approval_refuses_when_stock_moved_after_submission(open_count, people, shelf):
    count = count_all(open_count, people, {"SKU-1": 100, "SKU-2": 20, "SKU-3": 0})
    stock_move(
        item_id=shelf["items"][0].pk,
        location_id=shelf["bins"][0].pk,
        kind="receipt",
        quantity=3,
        actor=people["controller"],
    )
    with pytest.raises(TransitionNotAllowed, match="Stock moved since counting started at SKU-1 @ WH1-A-01"):
        cycle_count_approve(count_id=count.pk, actor=people["approver"])
    assert not LedgerEntry.objects.filter(count_line__count=count).exists()

    line = count.lines.get(item__sku="SKU-1")
    cycle_count_request_recount(count_id=count.pk, actor=people["approver"], line_ids=[line.pk], reason="moved")
    line.refresh_from_db()
    assert line.expected_quantity == Decimal("103") and line.recount_reason == "requested"
    cycle_count_enter(count_id=count.pk, actor=people["recounter"], entries=[{"line_id": line.pk, "quantity": 103}])
    cycle_count_submit(count_id=count.pk, actor=people["recounter"])
    cycle_count_approve(count_id=count.pk, actor=people["approver"])
    assert level_of(shelf["items"][0], shelf["bins"][0]) == Decimal("103")


# --- Approval ---------------------------------------------------------------------------------


def test_approval_posts_adjustments_and_confirmations_once(open_count, people, shelf):
    count = count_all(open_count, people, {"SKU-1": 97, "SKU-2": 20, "SKU-3": 0})
    count = cycle_count_approve(count_id=count.pk, actor=people["approver"], comment="ok")

    posted = {e.item.sku: (e.kind, e.quantity, e.value) for e in LedgerEntry.objects.filter(count_line__count=count)}
    assert posted == {
        "SKU-1": ("count_adjustment", Decimal("-3"), Decimal("-30.00")),
        "SKU-2": ("count_confirmation", Decimal("0"), Decimal("0.00")),
        "SKU-3": ("count_confirmation", Decimal("0"), Decimal("0.00")),
    }
    assert level_of(shelf["items"][0], shelf["bins"][0]) == Decimal("97")
    assert set(count.lines.values_list("status", flat=True)) == {"adjusted", "confirmed"}
    assert Item.objects.get(sku="SKU-1").last_counted_on == timezone.localdate()
    event = AuditEvent.objects.get(action="cycle_count.approved")
    assert event.data["adjusted_lines"] == 1 and event.data["net_value"] == "-30.00"
    assert count.approved_sop_version_id is None  # the hook the SOP app fills

    with pytest.raises(TransitionNotAllowed, match="approved"):
        cycle_count_approve(count_id=count.pk, actor=people["controller"])
    assert LedgerEntry.objects.filter(count_line__count=count).count() == 3
    assert selectors.ledger_matches_stock_levels() == []


def test_the_counter_cannot_approve_even_as_superuser(open_count, people, make_user):
    boss = make_user(None, is_superuser=True)
    cycle_count_assign(count_id=open_count.pk, actor=people["controller"], counter_id=boss.pk)
    cycle_count_start(count_id=open_count.pk, actor=boss)
    cycle_count_enter(
        count_id=open_count.pk, actor=boss, entries=entries(open_count, {"SKU-1": 100, "SKU-2": 20, "SKU-3": 0})
    )
    cycle_count_submit(count_id=open_count.pk, actor=boss)
    with pytest.raises(PermissionDenied, match="You counted"):
        cycle_count_approve(count_id=open_count.pk, actor=boss)
    with pytest.raises(PermissionDenied, match="You counted"):
        cycle_count_reject(count_id=open_count.pk, actor=boss, reason="x")


def test_approval_needs_the_permission(open_count, people, make_user):
    count_all(open_count, people, {"SKU-1": 100, "SKU-2": 20, "SKU-3": 0})
    for person in (people["recounter"], people["auditor"]):
        with pytest.raises(PermissionDenied, match="may not approve"):
            cycle_count_approve(count_id=open_count.pk, actor=person)
    cycle_count_approve(count_id=open_count.pk, actor=people["controller"])


def test_rejection_sends_lines_back_to_counting_with_a_fresh_snapshot(open_count, people, shelf):
    count = count_all(open_count, people, {"SKU-1": 80, "SKU-2": 20, "SKU-3": 0})
    with pytest.raises(ValidationError, match="Say why"):
        cycle_count_reject(count_id=count.pk, actor=people["approver"], reason=" ")
    count = cycle_count_reject(count_id=count.pk, actor=people["approver"], reason="Wrong zone counted")

    assert count.status == Status.COUNTING and count.round == 2 and count.status_reason == "Wrong zone counted"
    assert not count.lines.filter(counted_quantity__isnull=False).exists()
    assert set(count.lines.values_list("status", flat=True)) == {"pending"}
    line = count.lines.get(item__sku="SKU-1")
    assert line.first_count_within_tolerance is False  # the first count still counts for accuracy
    assert not LedgerEntry.objects.filter(count_line__count=count).exists()


def test_cancel_needs_a_reason_and_posts_nothing(open_count, people):
    with pytest.raises(ValidationError):
        cycle_count_cancel(count_id=open_count.pk, actor=people["controller"], reason="")
    count = cycle_count_cancel(count_id=open_count.pk, actor=people["controller"], reason="Warehouse closed")
    assert count.status == Status.CANCELLED
    with pytest.raises(TransitionNotAllowed):
        cycle_count_start(count_id=count.pk, actor=people["counter"])


# --- Stock movements --------------------------------------------------------------------------


def test_movements_keep_the_ledger_and_refuse_bad_input(people, shelf):
    item, location = shelf["items"][1], shelf["bins"][1]
    actor = people["controller"]
    stock_move(item_id=item.pk, location_id=location.pk, kind="receipt", quantity="5", actor=actor)
    stock_move(item_id=item.pk, location_id=location.pk, kind="shipment", quantity="3", actor=actor)
    stock_move(
        item_id=item.pk, location_id=location.pk, kind="manual_correction", quantity="-2", actor=actor, reason="damaged"
    )
    assert level_of(item, location) == Decimal("20")
    with pytest.raises(ValidationError, match="below zero"):
        stock_move(item_id=item.pk, location_id=location.pk, kind="shipment", quantity="21", actor=actor)
    with pytest.raises(ValidationError, match="needs a reason"):
        stock_move(item_id=item.pk, location_id=location.pk, kind="manual_correction", quantity="1", actor=actor)
    with pytest.raises(ValidationError, match="positive"):
        stock_move(item_id=item.pk, location_id=location.pk, kind="receipt", quantity="-1", actor=actor)
    with pytest.raises(ValidationError, match="Choose a receipt"):
        stock_move(item_id=item.pk, location_id=location.pk, kind="count_adjustment", quantity="1", actor=actor)
    with pytest.raises(PermissionDenied):
        stock_move(item_id=item.pk, location_id=location.pk, kind="receipt", quantity="1", actor=people["approver"])
    assert level_of(item, location) == Decimal("20")
    assert selectors.ledger_matches_stock_levels() == []


def test_count_lines_and_movements_leave_their_values_before_and_after_in_the_change_log(open_count, people, shelf):
    item, location = shelf["items"][0], shelf["bins"][0]
    stock_move(item_id=item.pk, location_id=location.pk, kind="receipt", quantity="5", actor=people["controller"])
    count_all(open_count, people, {"SKU-1": 97, "SKU-2": 20, "SKU-3": 0})

    level = StockLevel.objects.get(item=item, location=location)
    updates = LogEntry.objects.get_for_object(level).filter(action=LogEntry.Action.UPDATE).order_by("id")
    moved = [entry.changes["quantity"] for entry in updates if "quantity" in entry.changes]
    assert moved == [["0.000", "100.000"], ["100.000", "105.000"]]  # the shelf's stock, then the receipt
    line = open_count.lines.get(item=item)
    created = LogEntry.objects.get_for_object(line).get(action=LogEntry.Action.CREATE)
    assert created.changes["item"] == [None, item.pk] and created.changes["count"] == [None, open_count.pk]
    counted = [entry.changes for entry in LogEntry.objects.get_for_object(line).filter(action=LogEntry.Action.UPDATE)]
    assert any(changes.get("counted_quantity") == [None, "97.000"] for changes in counted)


# --- Scheduling -------------------------------------------------------------------------------


def test_scheduling_by_abc_frequency_one_count_per_zone_spread_over_counters(people, warehouse, make_user):
    today = timezone.localdate()
    zone_a, zone_b = LocationFactory(warehouse=warehouse, zone="A"), LocationFactory(warehouse=warehouse, zone="B")
    never = ItemFactory(abc_class="C")
    a_due = ItemFactory(abc_class="A", last_counted_on=today - timedelta(days=30))
    a_not_due = ItemFactory(abc_class="A", last_counted_on=today - timedelta(days=29))
    c_not_due = ItemFactory(abc_class="C", last_counted_on=today - timedelta(days=364))
    for item in (never, a_due, a_not_due, c_not_due):
        stock(item, zone_a, 1)
    stock(a_due, zone_b, 1)

    created = cycle_counts_schedule_due(today=today)

    assert len(created) == 2
    pairs = set(CycleCountLine.objects.values_list("item_id", "location__zone"))
    assert pairs == {(never.pk, "A"), (a_due.pk, "A"), (a_due.pk, "B")}
    assert {c.counter_id for c in created} == {people["counter"].pk, people["recounter"].pk}
    assert all(c.kind == "scheduled" and c.due_date > today for c in created)
    assert cycle_counts_schedule_due(today=today) == []  # nothing twice


def test_ad_hoc_count_of_items_with_recent_variances(open_count, people, shelf):
    count_all(open_count, people, {"SKU-1": 97, "SKU-2": 20, "SKU-3": 0})
    cycle_count_approve(count_id=open_count.pk, actor=people["approver"])
    (count,) = cycle_count_create(actor=people["controller"], kind="recent_variances", counter_id=people["counter"].pk)
    assert list(count.lines.values_list("item__sku", flat=True)) == ["SKU-1"]
    assert count.kind == "recent_variances" and count.number.startswith("CC-")
