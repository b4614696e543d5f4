from django.core.exceptions import PermissionDenied


def require_perm(actor, perm: str, message: str) -> None:
    """Raise ``PermissionDenied(message)`` unless ``actor`` is active and holds ``perm`` (``app.codename``)."""
    if actor is None or not actor.is_active or not actor.has_perm(perm):
        raise PermissionDenied(message)
