"""
Extension points other apps plug into, so that this app depends on none of them.

* Restock: when a return with ``restock`` lines is processed, every registered restock handler is
  called inside the same transaction with the lines to put back on the shelf (the inventory app
  posts a stock receipt). ``register_restock_handler(fn)`` with ``fn(*, case, lines, actor)``.
* SOP in force: ``set_sop_version_provider(fn)`` with ``fn(*, area) -> str`` gives the SOP version
  an approval records; ``set_governing_sop_url_provider(fn)`` with ``fn(*, area) -> str`` the link
  the case page shows. Without providers approvals record an empty version and no link is shown.
"""

from collections.abc import Callable

SOP_AREA = "refunds"

_restock_handlers: list[Callable] = []
_sop_version_provider: Callable | None = None
_sop_url_provider: Callable | None = None


def register_restock_handler(handler: Callable) -> Callable:
    if handler not in _restock_handlers:
        _restock_handlers.append(handler)
    return handler


def unregister_restock_handler(handler: Callable) -> None:
    if handler in _restock_handlers:
        _restock_handlers.remove(handler)


def post_restock(*, case, lines, actor) -> int:
    """Hand the restocked lines to every handler; returns how many handlers took them."""
    for handler in list(_restock_handlers):
        handler(case=case, lines=lines, actor=actor)
    return len(_restock_handlers)


def set_sop_version_provider(provider: Callable | None) -> Callable | None:
    """Install ``provider``; returns the one it replaces (to put back)."""
    global _sop_version_provider
    previous, _sop_version_provider = _sop_version_provider, provider
    return previous


def set_governing_sop_url_provider(provider: Callable | None) -> Callable | None:
    """Install ``provider``; returns the one it replaces (to put back)."""
    global _sop_url_provider
    previous, _sop_url_provider = _sop_url_provider, provider
    return previous


def sop_version_in_force() -> str:
    return str(_sop_version_provider(area=SOP_AREA) or "")[:64] if _sop_version_provider else ""


def governing_sop_url() -> str:
    return str(_sop_url_provider(area=SOP_AREA) or "") if _sop_url_provider else ""
