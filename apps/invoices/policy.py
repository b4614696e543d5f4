"""Accounts payable settings, read with their defaults, and the matching tolerances in force for a vendor."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from apps.invoices.models import MatchMode, VendorMatchingPolicy

DEFAULTS = {
    "INVOICE_MATCH_MODE": MatchMode.THREE_WAY,
    "INVOICE_QUANTITY_TOLERANCE_PERCENT": "0",
    "INVOICE_QUANTITY_TOLERANCE_ABSOLUTE": "0",
    "INVOICE_PRICE_TOLERANCE_PERCENT": "2",
    "INVOICE_PRICE_TOLERANCE_ABSOLUTE": "5.00",
    "INVOICE_SECOND_APPROVAL_THRESHOLD": "10000.00",
    "INVOICE_DUE_SOON_DAYS": 7,
    "INVOICE_APPROVAL_SLA_DAYS": 3,
    "INVOICE_EXCEPTION_SLA_DAYS": 5,
}


def setting(name: str):
    return getattr(settings, name, DEFAULTS[name])


def decimal_setting(name: str) -> Decimal:
    return Decimal(str(setting(name)))


def second_approval_threshold() -> Decimal:
    return decimal_setting("INVOICE_SECOND_APPROVAL_THRESHOLD")


@dataclass(frozen=True)
class Tolerances:
    """What a vendor's invoices are matched with. A difference passes when it is within both limits."""

    mode: str
    quantity_percent: Decimal
    quantity_absolute: Decimal
    price_percent: Decimal
    price_absolute: Decimal

    def quantity_allowance(self, reference: Decimal) -> Decimal:
        return min(reference * self.quantity_percent / 100, self.quantity_absolute) if reference > 0 else Decimal(0)

    def price_allowance(self, reference: Decimal) -> Decimal:
        return min(reference * self.price_percent / 100, self.price_absolute)


def _pick(value, name):
    return value if value is not None else decimal_setting(name)


def tolerances_for(vendor_id: int) -> Tolerances:
    policy = VendorMatchingPolicy.objects.filter(vendor_id=vendor_id).first()
    return Tolerances(
        mode=policy.match_mode if policy else setting("INVOICE_MATCH_MODE"),
        quantity_percent=_pick(policy and policy.quantity_tolerance_percent, "INVOICE_QUANTITY_TOLERANCE_PERCENT"),
        quantity_absolute=_pick(policy and policy.quantity_tolerance_absolute, "INVOICE_QUANTITY_TOLERANCE_ABSOLUTE"),
        price_percent=_pick(policy and policy.price_tolerance_percent, "INVOICE_PRICE_TOLERANCE_PERCENT"),
        price_absolute=_pick(policy and policy.price_tolerance_absolute, "INVOICE_PRICE_TOLERANCE_ABSOLUTE"),
    )
