"""How domain apps plug into the platform: by module name, found in every app under ``apps/``.

* ``apps.<app>.roles`` — ``PERMISSIONS = {role: {"app.model": {"view", "add", ...}}}``
* ``apps.<app>.demo`` — ``seed(*, users: dict[str, User]) -> None``, idempotent
* ``apps.<app>.api.urls`` — ``routes = [(prefix, viewset, basename)]`` and ``urlpatterns``

Apps are visited in ``INSTALLED_APPS`` order, so an app's demo data can use an earlier app's.
"""

import importlib
from types import ModuleType

from django.apps import apps


def domain_apps():
    return [config for config in apps.get_app_configs() if config.name.startswith("apps.") and config.label != "core"]


def app_modules(name: str) -> list[ModuleType]:
    """The ``name`` module of every domain app that has one (``"roles"``, ``"demo"``, ``"api.urls"``)."""
    found = []
    for config in domain_apps():
        dotted = f"{config.name}.{name}"
        try:
            found.append(importlib.import_module(dotted))
        except ModuleNotFoundError as exc:
            if exc.name is None or not dotted.startswith(exc.name):
                raise
    return found
