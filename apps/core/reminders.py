"""
The reminders engine's registry: each app registers the sources of what is due for whom.

A source is an object with a ``key`` (stable, e.g. ``"invoices.due_soon"``), a ``label`` and a
``collect(*, today)`` method yielding :class:`Reminder` values. The daily digest task gathers
every source into at most one digest per person per day (see ``services.reminders``).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Protocol


@dataclass(frozen=True)
class Reminder:
    recipient_id: int
    object_key: str  # identifies the object reminded of, e.g. "invoices.invoice:42"
    title: str
    url: str = ""  # a path inside the portal, e.g. "/admin/invoices/invoice/42/change/"


class ReminderSource(Protocol):
    key: str
    label: str

    def collect(self, *, today: date) -> Iterable[Reminder]: ...


_sources: dict[str, ReminderSource] = {}


def register(source: ReminderSource) -> ReminderSource:
    if len(source.key) > 64:
        raise ValueError(f"Reminder source key {source.key!r} is longer than 64 characters.")
    _sources[source.key] = source
    return source


def unregister(key: str) -> None:
    _sources.pop(key, None)


def sources() -> list[ReminderSource]:
    return list(_sources.values())
