"""
Measured KPIs for performance reviews.

An app that holds the data behind a KPI registers a provider for it, e.g. the invoices app for
on-time delivery (receipts against promised dates), invoice accuracy (invoices without match
exceptions) and dispute rate. When a review is drafted, each criterion whose measure has a
provider gets a proposed score and the figures it came from; the reviewer may override it with
a reason. A provider returns ``None`` when it has no data for the vendor and period.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Measurement:
    score: Decimal  # 0-100, higher is better
    basis: str  # the figures used, e.g. "47 of 50 receipts on or before the promised date"


Provider = Callable[..., Measurement | None]  # (*, vendor_id: int, start: date, end: date)

_providers: dict[str, Provider] = {}


def register(kpi: str, provider: Provider) -> Provider:
    _providers[kpi] = provider
    return provider


def unregister(kpi: str) -> None:
    _providers.pop(kpi, None)


def measure(kpi: str, *, vendor_id: int, start: date, end: date) -> Measurement | None:
    provider = _providers.get(kpi)
    return provider(vendor_id=vendor_id, start=start, end=end) if provider else None
