"""Inventory on the dashboard: counts assigned to me or awaiting approval, count accuracy and shrinkage by month."""

from apps.core.dashboard import Panel, WorkQueue, changelist_url, figures, money, number
from apps.inventory import selectors
from apps.inventory.models import CycleCount, LedgerEntry

COUNTS = "admin:inventory_cyclecount_changelist"
S = CycleCount.Status


def _assigned(*, user, today) -> int:
    return selectors.counts_to_work_by(user=user).count()


def _awaiting_approval(*, user, today) -> int:
    return CycleCount.objects.filter(status=S.SUBMITTED).count()


QUEUES = [
    WorkQueue(
        key="inventory.assigned",
        label="Counts to count or recount",
        permissions=("inventory.view_cyclecount", "inventory.change_cyclecount"),
        count=_assigned,
        url=lambda user: changelist_url(COUNTS, mine="to_count"),
    ),
    WorkQueue(
        key="inventory.to_approve",
        label="Counts awaiting approval",
        permissions=("inventory.view_cyclecount", "inventory.approve_count"),
        count=_awaiting_approval,
        url=lambda user: changelist_url(COUNTS, status__exact=S.SUBMITTED),
    ),
]


def accuracy_and_shrinkage_panel(*, period) -> dict:
    """Share of first counts within tolerance and the value lost to count adjustments, by month."""
    accuracy = selectors.count_accuracy(date_from=period.date_from, date_to=period.date_to)
    shrinkage = selectors.shrinkage(date_from=period.date_from, date_to=period.date_to)
    months = sorted(
        {row["month"].date() for row in accuracy["by_month"]} | {row["month"].date() for row in shrinkage["by_month"]}
    )
    accuracy_by_month = {row["month"].date(): row["accuracy_percent"] for row in accuracy["by_month"]}
    lost: dict = {}
    for row in shrinkage["by_month"]:
        lost.setdefault(row["month"].date(), []).append(money(row["shrinkage_value"], row["currency"]))
    total_percent = accuracy["accuracy_percent"]
    summary = [
        {
            "label": f"Count accuracy ({accuracy['within']} of {accuracy['total']} lines right first time)",
            "value": "—" if total_percent is None else f"{total_percent} %",
            "url": changelist_url(COUNTS, status__exact=S.APPROVED),
        }
    ]
    summary += [
        {
            "label": f"Shrinkage ({row['adjustments']} count adjustments)",
            "value": money(row["shrinkage_value"], row["currency"]),
            "url": changelist_url(
                "admin:inventory_ledgerentry_changelist", kind__exact=LedgerEntry.Kind.COUNT_ADJUSTMENT
            ),
        }
        for row in shrinkage["total"]
    ]
    labels = [f"{month:%b %Y}" for month in months]
    return figures(
        summary=summary,
        chart={
            "type": "bar",
            "labels": labels,
            "y_title": "count accuracy %",
            "y_max": 100,
            "datasets": [{"label": "count accuracy %", "data": [number(accuracy_by_month.get(m)) for m in months]}],
        }
        if months
        else None,
        table={
            "columns": ["month", "count accuracy %", "shrinkage value"],
            "rows": [
                [
                    label,
                    number(accuracy_by_month.get(month)) if month in accuracy_by_month else "—",
                    ", ".join(lost.get(month, [])) or "—",
                ]
                for label, month in zip(labels, months, strict=True)
            ],
        },
    )


PANELS = [
    Panel(
        key="inventory.accuracy_shrinkage",
        title="Count accuracy and shrinkage",
        permissions=("inventory.view_cyclecount", "inventory.view_ledgerentry"),
        compute=accuracy_and_shrinkage_panel,
        order=40,
    ),
]
