"""Count frequency and variance tolerance: item override → ABC class policy → global policy → defaults."""

from dataclasses import dataclass
from decimal import Decimal

from apps.inventory.models import CountPolicy, Item

DEFAULT_FREQUENCY_DAYS = {"A": 30, "B": 90, "C": 365}
DEFAULT_TOLERANCE_UNITS = Decimal("5")
DEFAULT_TOLERANCE_PERCENT = Decimal("5.00")
DEFAULT_TOLERANCE_VALUE = Decimal("100.00")


@dataclass(frozen=True)
class Tolerance:
    units: Decimal | None
    percent: Decimal | None
    value: Decimal | None

    def exceeded_by(self, *, expected: Decimal, counted: Decimal, unit_cost: Decimal) -> bool:
        """True when the variance exceeds any applied threshold (a threshold equal to it is within)."""
        variance = abs(counted - expected)
        if variance == 0:
            return False
        if self.units is not None and variance > self.units:
            return True
        if self.value is not None and variance * unit_cost > self.value:
            return True
        if self.percent is not None:
            if expected == 0:
                return True
            if variance * 100 / expected > self.percent:
                return True
        return False


class Policies:
    """The count policies loaded once for a batch of decisions."""

    def __init__(self):
        self.by_class = {policy.abc_class: policy for policy in CountPolicy.objects.all()}

    def _first(self, item: Item, attr: str, default):
        own = getattr(item, attr)
        if own is not None:
            return own
        for key in (item.abc_class, ""):
            policy = self.by_class.get(key)
            if policy is not None and getattr(policy, attr) is not None:
                return getattr(policy, attr)
        return default

    def frequency_days(self, item: Item) -> int:
        if item.count_frequency_days:
            return item.count_frequency_days
        for key in (item.abc_class, ""):
            policy = self.by_class.get(key)
            if policy is not None and policy.frequency_days:
                return policy.frequency_days
        return DEFAULT_FREQUENCY_DAYS[item.abc_class]

    def tolerance(self, item: Item) -> Tolerance:
        return Tolerance(
            units=self._first(item, "tolerance_units", DEFAULT_TOLERANCE_UNITS),
            percent=self._first(item, "tolerance_percent", DEFAULT_TOLERANCE_PERCENT),
            value=self._first(item, "tolerance_value", DEFAULT_TOLERANCE_VALUE),
        )
