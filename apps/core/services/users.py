from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

User = get_user_model()

USER_FIELDS = ("first_name", "last_name", "email", "is_active")


@transaction.atomic
def user_create(*, username: str, groups: list[Group] | None = None, **fields) -> User:
    """Provision a staff user. The password is set by the person (or an administrator) later."""
    user = User(username=username, is_staff=True, **{k: v for k, v in fields.items() if k in USER_FIELDS})
    user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    if groups is not None:
        user.groups.set(groups)
    return user


@transaction.atomic
def user_update(*, user_id: int, groups: list[Group] | None = None, **fields) -> User:
    user = User.objects.select_for_update().get(pk=user_id)
    for name, value in fields.items():
        if name in USER_FIELDS:
            setattr(user, name, value)
    user.full_clean(exclude=["password"])
    user.save()
    if groups is not None:
        user.groups.set(groups)
    return user
