"""Demo data: one user per role, and (as each domain app lands) realistic records."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from apps.core import roles
from apps.core.plugins import app_modules
from apps.core.services.roles import roles_sync

DEMO_USERS = [
    ("associate", roles.ASSOCIATE),
    ("associate2", roles.ASSOCIATE),
    ("approver", roles.APPROVER),
    ("approver2", roles.APPROVER),
    ("vendor_manager", roles.VENDOR_MANAGER),
    ("inventory_controller", roles.INVENTORY_CONTROLLER),
    ("sop_owner", roles.SOP_OWNER),
    ("auditor", roles.AUDITOR),
    ("admin", None),  # superuser
]


@transaction.atomic
def demo_seed(*, password: str, records: bool = True) -> list[str]:
    """Create the missing demo users (each in its role's group), then each app's demo records.

    Returns the usernames created. Safe to run again: nothing is created twice. ``records=False``
    creates the users only.
    """
    roles_sync()
    User = get_user_model()
    created = []
    for username, role in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            continue
        first, _, last = username.replace("_", " ").title().partition(" ")
        user = User(
            username=username,
            first_name=first.rstrip("0123456789") or username,
            last_name=last,
            email=f"{username}@example.com",
            is_staff=True,
            is_superuser=role is None,
        )
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=role if role else roles.ADMINISTRATOR)])
        created.append(username)
    if not records:
        return created
    users = {user.username: user for user in User.objects.filter(username__in=[u for u, _ in DEMO_USERS])}
    for module in app_modules("demo"):
        module.seed(users=users)
    return created
