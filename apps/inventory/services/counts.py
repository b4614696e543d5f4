"""
Cycle counts: create and schedule, start (snapshot), enter counts, submit, recount, approve, reject.

Rules: the counter never sees expected quantities (see ``selectors``); a line whose variance
exceeds its tolerance, or whose bin's stock moved since the snapshot, needs a recount by someone
other than the counter; approval (``approve_count``, by someone who neither counted nor recounted,
superusers included) posts one ledger adjustment per line with a variance and a confirmation per
line without, exactly once.
"""

import uuid
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from apps.core import audit
from apps.core.exceptions import TransitionNotAllowed
from apps.inventory.models import CycleCount, CycleCountLine, Item, LedgerEntry, Location, StockLevel
from apps.inventory.policies import Policies
from apps.inventory.services.stock import lock_stock_level, post_ledger_entry, to_quantity
from apps.sops.selectors import sop_version_in_force

Status = CycleCount.Status
LineStatus = CycleCountLine.Status
COUNT_PERM = "inventory.change_cyclecount"
SCHEDULE_PERM = "inventory.add_cyclecount"
APPROVE_PERM = "inventory.approve_count"
DEFAULT_DUE_DAYS = 3


# --- Helpers ----------------------------------------------------------------------------------


def _lock(count_id: int) -> CycleCount:
    try:
        return CycleCount.objects.select_for_update().get(pk=count_id)
    except CycleCount.DoesNotExist as exc:
        raise ValidationError({"count": f"There is no cycle count {count_id}."}) from exc


def _require(actor, perm: str, message: str) -> None:
    if actor is None or not actor.is_active or not actor.has_perm(perm):
        raise PermissionDenied(message)


def _require_status(count: CycleCount, allowed, doing: str) -> None:
    if count.status not in allowed:
        raise TransitionNotAllowed(f"Count {count} is {count.get_status_display()}: it cannot be {doing}.")


def _pair_label(line) -> str:
    return f"{line.item.sku} @ {line.location.code}"


def _snapshot(line: CycleCountLine, *, at) -> None:
    level = lock_stock_level(item_id=line.item_id, location_id=line.location_id)
    line.expected_quantity = level.quantity
    line.unit_cost = level.item.unit_cost
    line.snapshot_at = at
    line.stock_moved_at = None


def _check_counter(user, *, field: str) -> None:
    if user is not None and (not user.is_active or not user.has_perm(COUNT_PERM)):
        raise ValidationError({field: f"{user} may not count stock."})


# --- Creating counts --------------------------------------------------------------------------


def _open_pairs(pairs) -> set[tuple[int, int]]:
    items = {item_id for item_id, _ in pairs}
    return set(
        CycleCountLine.objects.filter(count__status__in=CycleCount.OPEN, item_id__in=items).values_list(
            "item_id", "location_id"
        )
    )


def _create_count(*, actor, warehouse_id, zone, kind, pairs, counter, due_date, notes="") -> CycleCount:
    count = CycleCount.objects.create(
        number=f"tmp-{uuid.uuid4().hex[:16]}",  # replaced by CC-<id> below
        warehouse_id=warehouse_id,
        zone=zone,
        kind=kind,
        due_date=due_date,
        counter=counter,
        notes=notes,
        created_by=actor,
    )
    count.number = f"CC-{count.pk:06d}"
    count.save(update_fields=["number"])
    audit.logged_bulk_create(
        CycleCountLine(count=count, item_id=item_id, location_id=location_id, created_by=actor, updated_by=actor)
        for item_id, location_id in sorted(pairs)
    )
    return count


@transaction.atomic
def cycle_count_create(
    *,
    actor,
    kind: str,
    item_ids=None,
    location_ids=None,
    variance_days: int = 90,
    counter_id: int | None = None,
    due_date: date | None = None,
    notes: str = "",
) -> list[CycleCount]:
    """Create ad-hoc counts by items, by locations or of items with recent variances: one per warehouse.

    Every stock level of the chosen items (or at the chosen bins) becomes a line, except those
    already on an open count.
    """
    _require(actor, SCHEDULE_PERM, "You may not schedule cycle counts.")
    from apps.inventory import selectors

    levels = StockLevel.objects.filter(item__is_active=True, location__is_active=True)
    if kind == CycleCount.Kind.ITEM:
        if not item_ids:
            raise ValidationError({"item_ids": "Choose at least one item."})
        levels = levels.filter(item_id__in=item_ids)
    elif kind == CycleCount.Kind.LOCATION:
        if not location_ids:
            raise ValidationError({"location_ids": "Choose at least one location."})
        levels = levels.filter(location_id__in=location_ids)
    elif kind == CycleCount.Kind.RECENT_VARIANCES:
        levels = levels.filter(item_id__in=selectors.recent_variance_item_ids(days=variance_days))
    else:
        raise ValidationError({"kind": "Choose items, locations or items with recent variances."})
    counter = None
    if counter_id is not None:
        counter = get_user_model().objects.filter(pk=counter_id).first()
        if counter is None:
            raise ValidationError({"counter": "No such user."})
        _check_counter(counter, field="counter")
    pairs = set(levels.values_list("item_id", "location_id"))
    busy = _open_pairs(pairs)
    pairs -= busy
    if not pairs:
        detail = " (all of them are already on open counts)" if busy else ""
        raise ValidationError({"kind": f"Nothing to count: no stock levels match{detail}."})
    warehouse_of = dict(Location.objects.filter(pk__in={loc for _, loc in pairs}).values_list("pk", "warehouse_id"))
    by_warehouse = defaultdict(set)
    for item_id, location_id in pairs:
        by_warehouse[warehouse_of[location_id]].add((item_id, location_id))
    due_date = due_date or timezone.localdate() + timedelta(days=DEFAULT_DUE_DAYS)
    counts = [
        _create_count(
            actor=actor,
            warehouse_id=warehouse_id,
            zone="",
            kind=kind,
            pairs=warehouse_pairs,
            counter=counter,
            due_date=due_date,
            notes=notes,
        )
        for warehouse_id, warehouse_pairs in sorted(by_warehouse.items())
    ]
    for count in counts:
        audit.record(action="cycle_count.created", target=count, actor=actor, data={"kind": kind})
    return counts


def _least_busy_counter(candidates, load):
    if not candidates:
        return None
    chosen = min(candidates, key=lambda user: (load[user.pk], user.pk))
    load[chosen.pk] += 1
    return chosen


@transaction.atomic
def cycle_counts_schedule_due(*, today: date | None = None, actor=None) -> list[CycleCount]:
    """Create the counts that ABC frequencies make due: one per warehouse zone, to the least busy counter.

    An item is due when it was never counted or its frequency has passed since its last count.
    Safe to run twice: stock levels already on an open count are left out.
    """
    from apps.core import roles
    from apps.inventory.selectors import users_with_perm

    today = today or timezone.localdate()
    policies = Policies()
    due_items = [
        item.pk
        for item in Item.objects.filter(is_active=True).only(
            "pk", "abc_class", "count_frequency_days", "last_counted_on"
        )
        if item.last_counted_on is None or item.last_counted_on + timedelta(days=policies.frequency_days(item)) <= today
    ]
    rows = StockLevel.objects.filter(item_id__in=due_items, location__is_active=True).values_list(
        "item_id", "location_id", "location__warehouse_id", "location__zone"
    )
    pairs_by_zone = defaultdict(set)
    all_pairs = {(item_id, location_id) for item_id, location_id, _, _ in rows}
    busy = _open_pairs(all_pairs)
    for item_id, location_id, warehouse_id, zone in rows:
        if (item_id, location_id) not in busy:
            pairs_by_zone[(warehouse_id, zone)].add((item_id, location_id))
    counters = list(users_with_perm(COUNT_PERM).filter(groups__name=roles.ASSOCIATE).distinct().order_by("pk")) or list(
        users_with_perm(COUNT_PERM).order_by("pk")
    )
    open_load = dict(
        CycleCount.objects.filter(status__in=CycleCount.OPEN, counter__isnull=False)
        .values_list("counter_id")
        .annotate(n=Count("id"))
    )
    load = defaultdict(int, open_load)
    created = []
    for (warehouse_id, zone), pairs in sorted(pairs_by_zone.items()):
        count = _create_count(
            actor=actor,
            warehouse_id=warehouse_id,
            zone=zone,
            kind=CycleCount.Kind.SCHEDULED,
            pairs=pairs,
            counter=_least_busy_counter(counters, load),
            due_date=today + timedelta(days=DEFAULT_DUE_DAYS),
        )
        created.append(count)
    if created:
        audit.record(
            action="cycle_count.scheduled",
            actor=actor,
            data={"counts": [count.number for count in created], "day": today.isoformat()},
        )
    return created


@transaction.atomic
def cycle_count_assign(*, count_id: int, actor, counter_id=None, recounter_id=None, due_date=None) -> CycleCount:
    """Assign the counter (before counting starts), the recounter, or move the due date."""
    count = _lock(count_id)
    _require(actor, SCHEDULE_PERM, "You may not assign cycle counts.")
    _require_status(count, (Status.SCHEDULED, Status.COUNTING, Status.RECOUNT), "reassigned")
    User = get_user_model()
    fields = []
    if counter_id is not None and counter_id != count.counter_id:
        if count.status != Status.SCHEDULED:
            raise TransitionNotAllowed(f"Count {count} has started: its counter can no longer change.")
        counter = User.objects.filter(pk=counter_id).first()
        if counter is None:
            raise ValidationError({"counter": "No such user."})
        _check_counter(counter, field="counter")
        count.counter = counter
        fields.append("counter")
    if recounter_id is not None and recounter_id != count.recounter_id:
        recounter = User.objects.filter(pk=recounter_id).first()
        if recounter is None:
            raise ValidationError({"recounter": "No such user."})
        _check_counter(recounter, field="recounter")
        if recounter.pk == count.counter_id:
            raise ValidationError({"recounter": "The recount must be done by someone other than the counter."})
        if count.lines.filter(recounted_by__isnull=False).exclude(recounted_by=recounter).exists():
            raise ValidationError({"recounter": "Another person has already entered recounts on this count."})
        count.recounter = recounter
        fields.append("recounter")
    if due_date is not None and due_date != count.due_date:
        count.due_date = due_date
        fields.append("due_date")
    if fields:
        count.updated_by = actor
        count.save(update_fields=[*fields, "updated_by", "updated_at"])
    return count


# --- Counting ---------------------------------------------------------------------------------


@transaction.atomic
def cycle_count_start(*, count_id: int, actor) -> CycleCount:
    """Start counting: the expected quantity of every line is the system quantity now."""
    count = _lock(count_id)
    _require(actor, COUNT_PERM, "You may not count stock.")
    _require_status(count, (Status.SCHEDULED,), "started")
    if count.counter_id is None:
        count.counter = actor
    elif count.counter_id != actor.pk:
        raise PermissionDenied(f"Count {count} is assigned to {count.counter}; only they can start it.")
    if count.recounter_id == actor.pk:
        raise PermissionDenied("The recounter of a count cannot also count it.")
    now = timezone.now()
    lines = list(count.lines.select_related("item").order_by("item_id", "location_id"))
    for line in lines:  # locks stock levels in a stable order
        _snapshot(line, at=now)
    audit.logged_bulk_update(lines, ["expected_quantity", "unit_cost", "snapshot_at", "stock_moved_at"])
    count.status = Status.COUNTING
    count.started_at = now
    count.updated_by = actor
    count.save(update_fields=["status", "counter", "started_at", "updated_by", "updated_at"])
    audit.record(action="cycle_count.started", target=count, actor=actor, data={"lines": len(lines)})
    return count


def _resolve_lines(count: CycleCount, entries) -> list[tuple[CycleCountLine, Decimal]]:
    """Each entry names a line (``line_id``) or an item (``sku``, with ``location`` code if needed)."""
    lines = {line.pk: line for line in count.lines.select_related("item", "location")}
    by_sku = defaultdict(list)
    for line in lines.values():
        by_sku[line.item.sku.lower()].append(line)
    resolved, errors = [], []
    for position, entry in enumerate(entries, start=1):
        line = None
        if entry.get("line_id") is not None:
            line = lines.get(int(entry["line_id"]))
            if line is None:
                errors.append(f"Entry {position}: line {entry['line_id']} is not on count {count}.")
                continue
        elif entry.get("sku"):
            candidates = by_sku.get(str(entry["sku"]).lower(), [])
            if entry.get("location"):
                candidates = [c for c in candidates if c.location.code.lower() == str(entry["location"]).lower()]
            if not candidates:
                where = f" at {entry['location']}" if entry.get("location") else ""
                errors.append(f"Entry {position}: item {entry['sku']}{where} is not on count {count}.")
                continue
            if len(candidates) > 1:
                errors.append(f"Entry {position}: item {entry['sku']} is in several bins; give the location.")
                continue
            line = candidates[0]
        else:
            errors.append(f"Entry {position}: name a line or an item.")
            continue
        try:
            quantity = to_quantity(entry.get("quantity"), field="quantity")
        except ValidationError as exc:
            errors.append(f"Entry {position} ({_pair_label(line)}): {'; '.join(exc.messages)}")
            continue
        if quantity < 0:
            errors.append(f"Entry {position} ({_pair_label(line)}): a counted quantity cannot be negative.")
            continue
        resolved.append((line, quantity))
    if errors:
        raise ValidationError({"lines": errors})
    if not resolved:
        raise ValidationError({"lines": ["Enter at least one quantity."]})
    return resolved


@transaction.atomic
def cycle_count_enter(*, count_id: int, actor, entries: list[dict]) -> CycleCount:
    """Save counted quantities for some lines, in any order; lines may be entered again until submitted.

    While counting, only the counter enters; while awaiting recount, only the recounter (anyone
    but the counter; the first to enter becomes the recounter) enters, on lines awaiting recount.
    """
    count = _lock(count_id)
    _require(actor, COUNT_PERM, "You may not count stock.")
    _require_status(count, (Status.COUNTING, Status.RECOUNT), "counted")
    resolved = _resolve_lines(count, entries)
    now = timezone.now()
    if count.status == Status.COUNTING:
        if actor.pk != count.counter_id:
            raise PermissionDenied(f"Only the counter of {count} ({count.counter}) enters its counts.")
        for line, quantity in resolved:
            line.counted_quantity, line.counted_by, line.counted_at = quantity, actor, now
            line.status = LineStatus.COUNTED
            line.updated_by = actor
        fields = ["counted_quantity", "counted_by", "counted_at", "status", "updated_by", "updated_at"]
    else:
        if actor.pk == count.counter_id:
            raise PermissionDenied("A recount must be done by someone other than the counter.")
        if count.recounter_id not in (None, actor.pk):
            raise PermissionDenied(f"The recount of {count} is assigned to {count.recounter}.")
        not_recount = [_pair_label(line) for line, _ in resolved if not line.recount_required]
        if not_recount:
            raise ValidationError({"lines": [f"Not awaiting a recount: {', '.join(not_recount)}."]})
        for line, quantity in resolved:
            line.recount_quantity, line.recounted_by, line.recounted_at = quantity, actor, now
            line.status = LineStatus.RECOUNTED
            line.updated_by = actor
        fields = ["recount_quantity", "recounted_by", "recounted_at", "status", "updated_by", "updated_at"]
        if count.recounter_id is None:
            count.recounter = actor
            count.save(update_fields=["recounter", "updated_at"])
    for line, _ in resolved:
        line.updated_at = now
    audit.logged_bulk_update([line for line, _ in resolved], fields)
    return count


def _refresh_moved(line: CycleCountLine, *, at) -> bool:
    """A line whose bin's stock moved since its snapshot gets a fresh snapshot and needs a recount."""
    if not line.stock_moved:
        return False
    _snapshot(line, at=at)
    line.recount_required = True
    line.recount_reason = CycleCountLine.RecountReason.STOCK_MOVED
    line.recount_quantity = None
    line.recounted_by = None
    line.recounted_at = None
    line.status = LineStatus.RECOUNT
    return True


LINE_FIELDS = [
    "expected_quantity",
    "unit_cost",
    "snapshot_at",
    "stock_moved_at",
    "recount_required",
    "recount_reason",
    "recount_quantity",
    "recounted_by",
    "recounted_at",
    "status",
    "first_count_within_tolerance",
    "first_variance_quantity",
    "updated_at",
]


@transaction.atomic
def cycle_count_submit(*, count_id: int, actor) -> CycleCount:
    """Hand the count in: every line counted (or recounted). Lines above tolerance, or whose stock
    moved since the snapshot, go to recount; otherwise the count awaits approval."""
    count = _lock(count_id)
    _require(actor, COUNT_PERM, "You may not count stock.")
    _require_status(count, (Status.COUNTING, Status.RECOUNT), "submitted")
    lines = list(count.lines.select_related("item", "location").order_by("item_id", "location_id"))
    now = timezone.now()
    if count.status == Status.COUNTING:
        if actor.pk != count.counter_id:
            raise PermissionDenied(f"Only the counter of {count} ({count.counter}) submits it.")
        missing = [_pair_label(line) for line in lines if line.counted_quantity is None]
        if missing:
            raise ValidationError({"lines": [f"{len(missing)} line(s) not counted yet: {', '.join(missing[:20])}."]})
        policies = Policies()
        for line in lines:
            if _refresh_moved(line, at=now):
                continue
            exceeded = policies.tolerance(line.item).exceeded_by(
                expected=line.expected_quantity, counted=line.counted_quantity, unit_cost=line.unit_cost
            )
            if line.first_count_within_tolerance is None:
                line.first_count_within_tolerance = not exceeded
                line.first_variance_quantity = line.counted_quantity - line.expected_quantity
            if exceeded:
                line.recount_required = True
                line.recount_reason = CycleCountLine.RecountReason.VARIANCE
                line.status = LineStatus.RECOUNT
    else:
        if actor.pk == count.counter_id:
            raise PermissionDenied("A recount must be done by someone other than the counter.")
        if count.recounter_id not in (None, actor.pk):
            raise PermissionDenied(f"The recount of {count} is assigned to {count.recounter}.")
        missing = [_pair_label(line) for line in lines if line.recount_required and line.recount_quantity is None]
        if missing:
            raise ValidationError({"lines": [f"{len(missing)} line(s) not recounted yet: {', '.join(missing[:20])}."]})
        for line in lines:
            if line.recount_required:
                _refresh_moved(line, at=now)
    for line in lines:
        line.updated_at = now
    audit.logged_bulk_update(lines, LINE_FIELDS)
    awaiting = [line for line in lines if line.recount_required and line.recount_quantity is None]
    count.status = Status.RECOUNT if awaiting else Status.SUBMITTED
    count.submitted_at = now
    count.updated_by = actor
    count.save(update_fields=["status", "submitted_at", "updated_by", "updated_at"])
    audit.record(
        action="cycle_count.submitted",
        target=count,
        actor=actor,
        data={"lines": len(lines), "awaiting_recount": len(awaiting), "round": count.round},
    )
    return count


# --- Review -----------------------------------------------------------------------------------


def _ensure_reviewer(count: CycleCount, actor, *, doing: str) -> None:
    if actor is not None and actor.pk == count.counter_id:
        raise PermissionDenied(f"You counted {count}: someone else must {doing} it.")
    if actor is not None and actor.pk == count.recounter_id:
        raise PermissionDenied(f"You recounted {count}: someone else must {doing} it.")
    _require(actor, APPROVE_PERM, f"You may not {doing} cycle counts.")


@transaction.atomic
def cycle_count_request_recount(*, count_id: int, actor, line_ids, reason: str = "") -> CycleCount:
    """A reviewer sends chosen lines of a submitted count to recount (by someone other than the counter)."""
    count = _lock(count_id)
    _ensure_reviewer(count, actor, doing="review")
    _require_status(count, (Status.SUBMITTED, Status.RECOUNT), "sent to recount")
    wanted = {int(pk) for pk in line_ids or []}
    if not wanted:
        raise ValidationError({"lines": ["Choose the lines to recount."]})
    lines = list(count.lines.select_related("item").filter(pk__in=wanted).order_by("item_id", "location_id"))
    unknown = wanted - {line.pk for line in lines}
    if unknown:
        raise ValidationError({"lines": [f"Not on count {count}: line(s) {', '.join(map(str, sorted(unknown)))}."]})
    now = timezone.now()
    for line in lines:
        if line.stock_moved:
            _snapshot(line, at=now)
        line.recount_required = True
        line.recount_reason = CycleCountLine.RecountReason.REQUESTED
        line.recount_quantity = line.recounted_by = line.recounted_at = None
        line.status = LineStatus.RECOUNT
        line.updated_at = now
    audit.logged_bulk_update(lines, LINE_FIELDS)
    count.status = Status.RECOUNT
    count.updated_by = actor
    count.save(update_fields=["status", "updated_by", "updated_at"])
    audit.record(
        action="cycle_count.recount_requested",
        target=count,
        actor=actor,
        message=reason,
        data={"lines": sorted(wanted)},
    )
    return count


@transaction.atomic
def cycle_count_approve(*, count_id: int, actor, comment: str = "") -> CycleCount:
    """Approve the count: one ledger adjustment per line with a variance, a confirmation per line
    without, stock levels moved to the counted quantities — all at once and exactly once."""
    count = _lock(count_id)
    _ensure_reviewer(count, actor, doing="approve")
    if count.status == Status.RECOUNT:
        waiting = count.lines.filter(recount_required=True, recount_quantity__isnull=True).count()
        raise TransitionNotAllowed(f"Count {count} has {waiting} line(s) still awaiting a recount.")
    _require_status(count, (Status.SUBMITTED,), "approved")
    lines = list(count.lines.select_related("item", "location").order_by("item_id", "location_id"))
    levels = {
        (line.item_id, line.location_id): lock_stock_level(item_id=line.item_id, location_id=line.location_id)
        for line in lines
    }
    # Re-read the flags now that the stock levels are locked: no movement can slip in between.
    moved_at = dict(CycleCountLine.objects.filter(count=count).values_list("pk", "stock_moved_at"))
    for line in lines:
        line.stock_moved_at = moved_at[line.pk]
    moved = [_pair_label(line) for line in lines if line.stock_moved]
    if moved:
        raise TransitionNotAllowed(
            f"Stock moved since counting started at {', '.join(moved[:20])}: send those lines to recount first."
        )
    now = timezone.now()
    adjusted = confirmed = 0
    net_quantity, net_value = Decimal("0"), Decimal("0.00")
    for line in lines:
        variance = line.variance_quantity
        level = levels[(line.item_id, line.location_id)]
        kind = LedgerEntry.Kind.COUNT_ADJUSTMENT if variance else LedgerEntry.Kind.COUNT_CONFIRMATION
        entry = post_ledger_entry(
            level=level,
            kind=kind,
            quantity=variance,
            actor=actor,
            unit_cost=line.unit_cost,
            reason=f"Cycle count {count}" + (f": {comment}" if comment else ""),
            reference=count.number,
            count_line=line,
            at=now,
        )
        if variance:
            adjusted += 1
            net_quantity += variance
            net_value += entry.value
        else:
            confirmed += 1
        line.status = LineStatus.ADJUSTED if variance else LineStatus.CONFIRMED
        line.updated_at = now
    audit.logged_bulk_update(lines, ["status", "updated_at"])
    audit.logged_update(StockLevel.objects.filter(pk__in=[level.pk for level in levels.values()]), last_counted_at=now)
    counted_items = Item.objects.filter(pk__in={line.item_id for line in lines})
    audit.logged_update(counted_items, last_counted_on=timezone.localdate(now))
    count.status = Status.APPROVED
    count.approved_by = actor
    count.approved_at = now
    count.approved_sop_version = sop_version_in_force(area="inventory")
    count.updated_by = actor
    count.save(
        update_fields=["status", "approved_by", "approved_at", "approved_sop_version", "updated_by", "updated_at"]
    )
    audit.record(
        action="cycle_count.approved",
        target=count,
        actor=actor,
        message=comment,
        data={
            "adjusted_lines": adjusted,
            "confirmed_lines": confirmed,
            "net_quantity": str(net_quantity),
            "net_value": str(net_value),
            "sop_version_id": count.approved_sop_version_id,
        },
    )
    from apps.inventory.services.alerts import reorder_alerts_check_on_commit

    reorder_alerts_check_on_commit(item_ids=sorted({line.item_id for line in lines}))
    return count


@transaction.atomic
def cycle_count_reject(*, count_id: int, actor, reason: str) -> CycleCount:
    """Send the whole count back to counting: a new round with fresh snapshots and empty counts."""
    count = _lock(count_id)
    _ensure_reviewer(count, actor, doing="reject")
    _require_status(count, (Status.SUBMITTED, Status.RECOUNT), "rejected")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the count is rejected."})
    now = timezone.now()
    lines = list(count.lines.select_related("item").order_by("item_id", "location_id"))
    for line in lines:
        _snapshot(line, at=now)
        line.counted_quantity = line.counted_by = line.counted_at = None
        line.recount_quantity = line.recounted_by = line.recounted_at = None
        line.recount_required = False
        line.recount_reason = ""
        line.status = LineStatus.PENDING
        line.updated_at = now
    audit.logged_bulk_update(lines, [*LINE_FIELDS, "counted_quantity", "counted_by", "counted_at"])
    count.status = Status.COUNTING
    count.round += 1
    count.recounter = None
    count.status_reason = reason
    count.updated_by = actor
    count.save(update_fields=["status", "round", "recounter", "status_reason", "updated_by", "updated_at"])
    audit.record(action="cycle_count.rejected", target=count, actor=actor, message=reason, data={"round": count.round})
    return count


@transaction.atomic
def cycle_count_cancel(*, count_id: int, actor, reason: str) -> CycleCount:
    """Call off an open count; nothing is posted."""
    count = _lock(count_id)
    _require(actor, SCHEDULE_PERM, "You may not cancel cycle counts.")
    _require_status(count, CycleCount.OPEN, "cancelled")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the count is cancelled."})
    count.status = Status.CANCELLED
    count.status_reason = reason
    count.updated_by = actor
    count.save(update_fields=["status", "status_reason", "updated_by", "updated_at"])
    audit.record(action="cycle_count.cancelled", target=count, actor=actor, message=reason)
    return count
