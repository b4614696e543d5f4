"""Errors that services raise; the API answers them as 409 / 403 / 400, the admin as messages."""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["PermissionDenied", "TransitionNotAllowed", "ValidationError"]


class TransitionNotAllowed(Exception):
    """The record's current state does not allow this transition (answered as 409 Conflict)."""
