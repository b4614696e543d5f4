"""What vendor managers and action-item owners are reminded of."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.core import roles
from apps.core.reminders import Reminder
from apps.vendors import selectors
from apps.vendors.models import ReviewActionItem, VendorContract


def _vendor_managers() -> list[int]:
    return list(
        get_user_model().objects.filter(is_active=True, groups__name=roles.VENDOR_MANAGER).values_list("pk", flat=True)
    )


class ReviewsDue:
    """Active vendors not reviewed within the review interval: their manager (or every vendor manager)."""

    key = "vendors.reviews_due"
    label = "Vendor reviews due"

    def collect(self, *, today):
        due = selectors.vendors_review_due(today=today)
        fallback = None
        for vendor in due.only("pk", "code", "legal_name", "manager_id", "latest_review_end").iterator():
            if vendor.manager_id:
                recipients = [vendor.manager_id]
            else:
                fallback = _vendor_managers() if fallback is None else fallback
                recipients = fallback
            last = (
                f"last review ended {vendor.latest_review_end:%d %b %Y}"
                if vendor.latest_review_end
                else "never reviewed"
            )
            for recipient in recipients:
                yield Reminder(
                    recipient_id=recipient,
                    object_key=f"vendors.vendor:{vendor.pk}",
                    title=f"Review due for {vendor.code} {vendor.legal_name} ({last})",
                    url=reverse("admin:vendors_vendor_change", args=[vendor.pk]),
                )


class ContractRenewals:
    """Contracts inside their renewal notice window: the vendor's manager decides on renewal."""

    key = "vendors.contract_renewals"
    label = "Contract renewals"

    def collect(self, *, today):
        horizon = today + timedelta(days=730)
        contracts = VendorContract.objects.filter(end_date__gte=today, end_date__lte=horizon).select_related("vendor")
        fallback = None
        for contract in contracts.iterator():
            if contract.end_date - timedelta(days=contract.renewal_notice_days) > today:
                continue
            if contract.vendor.manager_id:
                recipients = [contract.vendor.manager_id]
            else:
                fallback = _vendor_managers() if fallback is None else fallback
                recipients = fallback
            for recipient in recipients:
                yield Reminder(
                    recipient_id=recipient,
                    object_key=f"vendors.vendorcontract:{contract.pk}",
                    title=(
                        f"Contract {contract.reference} with {contract.vendor.code} ends {contract.end_date:%d %b %Y}"
                    ),
                    url=reverse("admin:vendors_vendorcontract_change", args=[contract.pk]),
                )


class OverdueActionItems:
    """Review action items past their due date: their owner."""

    key = "vendors.overdue_action_items"
    label = "Overdue review action items"

    def collect(self, *, today):
        items = ReviewActionItem.objects.filter(done=False, due_date__lt=today).select_related("review__vendor")
        for item in items.iterator():
            yield Reminder(
                recipient_id=item.owner_id,
                object_key=f"vendors.reviewactionitem:{item.pk}",
                title=f"Overdue since {item.due_date:%d %b %Y}: {item.description} ({item.review.vendor.code})",
                url=reverse("admin:vendors_performancereview_change", args=[item.review_id]),
            )
