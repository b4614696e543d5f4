"""
The operations dashboard: the admin index shows "My work" and KPI panels.

Each domain app may provide ``apps/<app>/dashboard.py`` with ``QUEUES`` (what waits for the signed-in
person, counted per person) and ``PANELS`` (KPI figures for a period, the same for everyone who may
see them); they are found like every other per-app module (see ``plugins.app_modules``).

Whether a queue or panel is shown depends only on permissions: each one names the permissions it
needs (a panel at least the view permission of the model behind it). Panel figures are cached in
Django's cache per period and day and refreshed by the ``refresh_dashboard`` task on a default beat
schedule, so the page answers with a bounded number of queries.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlencode

from django.core.cache import cache
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

PERIODS = (30, 90, 365)
DEFAULT_PERIOD = 30
CACHE_SECONDS = 60 * 60
CACHE_PREFIX = "dashboard:panel"


def changelist_url(url_name: str, **query) -> str:
    """The admin changelist ``url_name`` with the querystring filters its list supports."""
    url = reverse(url_name)
    return f"{url}?{urlencode(query)}" if query else url


@dataclass(frozen=True)
class Period:
    """The last ``days`` days up to and including ``today``."""

    days: int
    today: date

    @property
    def date_from(self) -> date:
        return self.today - timedelta(days=self.days - 1)

    @property
    def date_to(self) -> date:
        return self.today


def parse_period(value) -> int:
    """``?period=`` as one of 30, 90 or 365 days; anything else is the default (no error)."""
    try:
        days = int(value)
    except (TypeError, ValueError):
        return DEFAULT_PERIOD
    return days if days in PERIODS else DEFAULT_PERIOD


@dataclass(frozen=True)
class WorkQueue:
    """Something waiting for the signed-in person: counted for them, linked to the list that shows it.

    ``count(user=..., today=...)`` returns how many rows the list at ``url(user=...)`` shows.
    """

    key: str
    label: str
    permissions: tuple[str, ...]
    count: Callable[..., int]
    url: Callable[..., str]


@dataclass(frozen=True)
class Panel:
    """A KPI panel: ``compute(period=...)`` returns JSON-ready figures (see ``figures``)."""

    key: str
    title: str
    permissions: tuple[str, ...]
    compute: Callable[..., dict]
    order: int = 100


def figures(*, summary=(), chart=None, table=None, note: str = "") -> dict:
    """The shape every panel returns.

    ``summary``: ``[{"label", "value", "url"?}]`` headline figures, each a link into its list;
    ``chart``: ``{"type", "labels", "datasets": [{"label", "data"}], "y_title"?}`` (numbers as strings);
    ``table``: ``{"columns": [...], "rows": [[cell, ...]]}`` — the chart's data in words, cells are text
    or ``{"text", "url"}``.
    """
    return {"summary": list(summary), "chart": chart, "table": table, "note": note}


def money(amount: Decimal | None, currency: str) -> str:
    return f"{(amount or Decimal('0')):,.2f} {currency}"


def number(value) -> str:
    """A chart value as a string (Decimals stay exact in JSON)."""
    return "0" if value is None else str(value)


# --- Registry -----------------------------------------------------------------------------------


@dataclass
class _Registry:
    queues: list[WorkQueue] = field(default_factory=list)
    panels: list[Panel] = field(default_factory=list)
    loaded: bool = False


_registry = _Registry()


def _load() -> _Registry:
    if not _registry.loaded:
        from apps.core.plugins import app_modules

        queues = list(CORE_QUEUES)
        panels = []
        for module in app_modules("dashboard"):
            queues.extend(getattr(module, "QUEUES", []))
            panels.extend(getattr(module, "PANELS", []))
        _registry.queues = queues
        _registry.panels = sorted(panels, key=lambda panel: panel.order)
        _registry.loaded = True
    return _registry


def queues() -> list[WorkQueue]:
    return list(_load().queues)


def panels() -> list[Panel]:
    return list(_load().panels)


def _allowed(user, permissions) -> bool:
    return all(user.has_perm(perm) for perm in permissions)


def queues_for(user) -> list[WorkQueue]:
    """The work queues ``user`` may work. Someone who may work none (an auditor) gets none at all."""
    allowed = [queue for queue in queues() if _allowed(user, queue.permissions)]
    if not any(queue.permissions for queue in allowed):
        return []
    return allowed


def panels_for(user) -> list[Panel]:
    return [panel for panel in panels() if _allowed(user, panel.permissions)]


# --- Figures, cached ----------------------------------------------------------------------------


def _cache_key(panel: Panel, period: Period) -> str:
    return f"{CACHE_PREFIX}:{panel.key}:{period.days}:{period.today.isoformat()}"


def _serialisable(value):
    """Figures through JSON: Decimals and dates as strings, as the cache and the charts see them."""
    return json.loads(json.dumps(value, default=str))


def compute_panel(panel: Panel, period: Period) -> dict:
    return _serialisable(panel.compute(period=period))


def panel_figures(panel: Panel, period: Period) -> dict:
    """The panel's figures from the cache, computed (and cached) when missing."""
    key = _cache_key(panel, period)
    cached = cache.get(key)
    if cached is None:
        cached = compute_panel(panel, period)
        cache.set(key, cached, CACHE_SECONDS)
    return cached


def refresh(*, today: date | None = None) -> int:
    """Recompute every panel for every period and store it in the cache; return how many were stored."""
    today = today or timezone.localdate()
    stored = 0
    for panel in panels():
        for days in PERIODS:
            period = Period(days=days, today=today)
            cache.set(_cache_key(panel, period), compute_panel(panel, period), CACHE_SECONDS)
            stored += 1
    return stored


# --- The admin index ----------------------------------------------------------------------------


def _reports_url() -> str:
    try:
        return reverse("admin:reports_center")
    except NoReverseMatch:
        return ""


def dashboard_context(request) -> dict:
    """What ``templates/admin/index.html`` shows for the signed-in person."""
    user = request.user
    period = Period(days=parse_period(request.GET.get("period")), today=timezone.localdate())
    work = [
        {
            "key": queue.key,
            "label": queue.label,
            "count": queue.count(user=user, today=period.today),
            "url": queue.url(user=user),
        }
        for queue in queues_for(user)
    ]
    shown = []
    for panel in panels_for(user):
        data = panel_figures(panel, period)
        shown.append({"key": panel.key, "title": panel.title, **data})
    return {
        "dashboard": {
            "period": period.days,
            "periods": PERIODS,
            "date_from": period.date_from,
            "date_to": period.date_to,
            "work": work,
            "panels": shown,
            "charts": {panel["key"]: panel["chart"] for panel in shown if panel["chart"]},
        }
    }


def install(site) -> None:
    """Make ``site``'s index the dashboard: the index view gets the dashboard context."""
    if getattr(site, "_dashboard_installed", False):
        return
    index = site.index

    def dashboard_index(request, extra_context=None):
        return index(request, extra_context={**dashboard_context(request), **(extra_context or {})})

    site.index = dashboard_index
    site._dashboard_installed = True


# --- Queues every person has --------------------------------------------------------------------


def _unread_notifications(*, user, today) -> int:
    from apps.core.selectors import unread_notification_count

    return unread_notification_count(user=user)


CORE_QUEUES = [
    WorkQueue(
        key="core.unread_notifications",
        label="Unread notifications",
        permissions=(),
        count=_unread_notifications,
        url=lambda user: changelist_url("admin:core_notification_changelist", read_at__isempty="1"),
    ),
]


def connect() -> None:
    """At start-up: the admin index becomes the dashboard and the cache refresh gets its default schedule."""
    from django.contrib import admin

    from apps.core import schedules

    install(admin.site)
    schedules.register(
        schedules.DefaultSchedule(
            name="Dashboard figures refresh",
            task="apps.core.tasks.refresh_dashboard",
            crontab={"minute": "*/15"},
            description="Recomputes the dashboard's KPI panels into the cache every 15 minutes.",
        )
    )
