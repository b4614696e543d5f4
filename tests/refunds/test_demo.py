"""Demo data: realistic volumes, the rules hold, and a second run changes nothing."""

from django.db.models import Count, F

from apps.refunds import demo
from apps.refunds.models import CaseApproval, Order, Payout, RefundCase


def test_seed_is_realistic_keeps_the_rules_and_is_idempotent(make_user):
    users = {
        name: make_user(role)
        for name, role in [
            ("associate", "associate"),
            ("associate2", "associate"),
            ("approver", "approver"),
            ("approver2", "approver"),
        ]
    }

    demo.seed(users=users)
    counts = (Order.objects.count(), RefundCase.objects.count(), Payout.objects.count())
    demo.seed(users=users)

    assert (Order.objects.count(), RefundCase.objects.count(), Payout.objects.count()) == counts
    assert counts[0] == 3000
    assert 350 <= counts[1] <= 400
    assert set(RefundCase.objects.values_list("type", flat=True)) == set(RefundCase.Type.values)
    assert set(RefundCase.objects.values_list("status", flat=True)) == set(RefundCase.Status.values)
    assert not Order.objects.filter(committed_amount__gt=F("amount_paid")).exists()
    assert not CaseApproval.objects.filter(approver=F("case__requested_by")).exists()
    assert not RefundCase.objects.filter(status__in=["processed", "closed"], payout__isnull=True).exists()
    fully_approved = RefundCase.objects.filter(status__in=["approved", "processed", "closed"])
    assert not fully_approved.annotate(n=Count("approvals")).exclude(n=F("approvals_required")).exists()
    open_chargebacks = RefundCase.objects.filter(type="chargeback", status__in=["requested", "approved"])
    assert open_chargebacks.filter(evidence_submitted_at__isnull=True).count() >= 5
