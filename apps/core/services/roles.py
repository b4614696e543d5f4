from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from apps.core import roles


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create every role group and give it exactly the permissions of the role table. Idempotent."""
    ContentType.objects.clear_cache()
    result = {}
    for role in roles.ALL_ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for label, perms in sorted(roles.permissions_for(role).items()):
            app_label, model = label.split(".")
            for perm in sorted(perms):
                codename = roles.codename(perm, model)
                try:
                    wanted.append(
                        Permission.objects.get(
                            content_type__app_label=app_label, content_type__model=model, codename=codename
                        )
                    )
                except Permission.DoesNotExist as exc:
                    raise LookupError(f"Role {role!r}: permission {app_label}.{codename} does not exist.") from exc
        group.permissions.set(wanted)
        result[role] = len(wanted)
    return result
