"""Reads for vendors: scorecards and the ranking report."""

from collections import defaultdict

from apps.vendors.models import PerformanceReview, ReviewCriterion, Vendor


def vendor_scorecard(*, vendor_id: int) -> dict:
    """The trend of a vendor's overall score and of each measure across its finalized reviews (two queries)."""
    reviews = list(
        PerformanceReview.objects.filter(vendor_id=vendor_id, status=PerformanceReview.Status.FINALIZED)
        .order_by("period_end", "id")
        .only("id", "period_start", "period_end", "overall_score", "standing")
    )
    by_review: dict[int, dict[str, str]] = defaultdict(dict)
    labels: dict[str, str] = {}
    for criterion in ReviewCriterion.objects.filter(review__in=reviews).only("review_id", "kpi", "name", "score"):
        key = criterion.kpi if criterion.kpi != ReviewCriterion.Kpi.OTHER else criterion.name
        labels.setdefault(key, criterion.get_kpi_display() if criterion.kpi != "other" else criterion.name)
        by_review[criterion.review_id][key] = str(criterion.score) if criterion.score is not None else None
    return {
        "periods": [f"{r.period_start:%Y-%m-%d} to {r.period_end:%Y-%m-%d}" for r in reviews],
        "period_ends": [r.period_end.isoformat() for r in reviews],
        "overall": [str(r.overall_score) for r in reviews],
        "standing": [r.standing for r in reviews],
        "measures": [
            {"key": key, "label": label, "scores": [by_review[r.id].get(key) for r in reviews]}
            for key, label in labels.items()
        ],
    }


def vendor_ranking():
    """All vendors ranked by their latest finalized overall score (unreviewed vendors last)."""
    from django.db.models import F

    return Vendor.objects.select_related("manager").order_by(F("latest_score").desc(nulls_last=True), "code")


def vendors_review_due(*, today, for_user=None):
    """Active vendors whose latest review ended more than the review interval ago (or never reviewed since
    then). ``for_user``: those the person reviews, i.e. the vendors they manage and those with no manager
    (every vendor manager is reminded of those)."""
    from datetime import timedelta

    from django.conf import settings
    from django.db.models import Q

    cutoff = today - timedelta(days=settings.VENDOR_REVIEW_INTERVAL_DAYS)
    due = Vendor.objects.filter(status=Vendor.Status.ACTIVE).filter(
        Q(latest_review_end__lt=cutoff) | Q(latest_review_end__isnull=True, created_at__date__lt=cutoff)
    )
    if for_user is not None:
        due = due.filter(Q(manager=for_user) | Q(manager__isnull=True))
    return due
