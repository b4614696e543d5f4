"""Vendors on the dashboard: reviews due, my overdue action items, scorecard leaders and laggards."""

from django.urls import reverse
from django.utils import timezone

from apps.core.dashboard import Panel, WorkQueue, changelist_url, figures, number
from apps.vendors import selectors
from apps.vendors.models import ReviewActionItem

LEADERS = 3


def _reviews_due(*, user, today) -> int:
    return selectors.vendors_review_due(today=today, for_user=user).count()


def _overdue_action_items(*, user, today) -> int:
    return ReviewActionItem.objects.filter(owner=user, done=False, due_date__lt=today).count()


QUEUES = [
    WorkQueue(
        key="vendors.reviews_due",
        label="Vendor reviews due",
        permissions=("vendors.view_vendor", "vendors.add_performancereview"),
        count=_reviews_due,
        url=lambda user: changelist_url("admin:vendors_vendor_changelist", review="mine"),
    ),
    WorkQueue(
        key="vendors.overdue_action_items",
        label="My overdue action items",
        permissions=("vendors.view_reviewactionitem", "vendors.change_reviewactionitem"),
        count=_overdue_action_items,
        url=lambda user: changelist_url(
            "admin:vendors_reviewactionitem_changelist",
            done__exact="0",
            due_date__lt=timezone.localdate().isoformat(),
            owner=user.pk,
        ),
    ),
]


def scorecard_panel(*, period) -> dict:
    """The best and the worst vendors by their latest finalized review score."""
    reviewed = selectors.vendor_ranking().filter(latest_score__isnull=False)
    leaders = list(reviewed[:LEADERS])
    laggards = [v for v in reversed(list(reviewed.reverse()[:LEADERS])) if v.pk not in {x.pk for x in leaders}]
    shown = leaders + laggards
    rows = [
        [
            {
                "text": f"{vendor.code} {vendor.legal_name}",
                "url": reverse("admin:vendors_vendor_change", args=[vendor.pk]),
            },
            "leader" if vendor in leaders else "laggard",
            number(vendor.latest_score),
            vendor.latest_standing or "—",
        ]
        for vendor in shown
    ]
    return figures(
        summary=[
            {
                "label": "Vendors reviewed",
                "value": str(reviewed.count()),
                "url": changelist_url("admin:vendors_vendor_scorecards"),
            }
        ],
        chart={
            "type": "bar",
            "horizontal": True,
            "labels": [f"{vendor.code} ({'leader' if vendor in leaders else 'laggard'})" for vendor in shown],
            "y_title": "latest score",
            "y_max": 100,
            "datasets": [{"label": "latest score", "data": [number(vendor.latest_score) for vendor in shown]}],
        }
        if shown
        else None,
        table={"columns": ["vendor", "", "latest score", "standing"], "rows": rows},
    )


PANELS = [
    Panel(
        key="vendors.scorecards",
        title="Vendor scorecards: leaders and laggards",
        permissions=("vendors.view_vendor",),
        compute=scorecard_panel,
        order=50,
    ),
]
