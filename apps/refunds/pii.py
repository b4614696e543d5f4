"""Customer names and e-mails are personal data: shown in full only to those who need them.

Who does is configured by the ``refunds.view_customer_pii`` permission (see ``roles.py``).
"""


def can_see_pii(user) -> bool:
    return bool(user is not None and user.is_active and user.has_perm("refunds.view_customer_pii"))


def mask_name(name: str) -> str:
    """``"Jane Doe"`` → ``"J*** D***"``."""
    return " ".join(f"{part[0]}***" for part in (name or "").split() if part)


def mask_email(email: str) -> str:
    """``"jane.doe@example.com"`` → ``"j***@example.com"``."""
    local, at, domain = (email or "").partition("@")
    return f"{local[:1]}***{at}{domain}" if local else ""
