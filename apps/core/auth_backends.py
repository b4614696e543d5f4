"""
Signed-in people loaded with what every page asks of them, in one query.

``PortalModelBackend`` is Django's ``ModelBackend`` with the same rules (inactive people have no
permissions, superusers have all, object permissions are not used). It loads a signed-in person for a
request together with their own permissions, their groups' permissions and their unread notification
count, so a page does not spend three more queries on them. Nothing is kept between requests: a change
of groups, permissions or active status takes effect on the very next request.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connections
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

# How each database joins a column's values into one string (None: loaded the usual way, two queries).
_STRING_AGG = {
    "postgresql": "string_agg({expr}, chr(31))",
    "sqlite": "group_concat({expr}, char(31))",
}
_SEPARATOR = chr(31)  # the unit separator: in no permission's name
UNREAD_NOTIFICATIONS_ATTR = "_unread_notification_count"


def _permission_names_sql(vendor: str, user_model, *, through: str) -> str | None:
    """A correlated subquery naming the permissions (``app_label.codename``, separated by ``_SEPARATOR``) of the user
    row of the outer query that come ``through`` their own permissions ("user") or their groups ("group")."""
    aggregate = _STRING_AGG.get(vendor)
    if aggregate is None:
        return None
    qn = connections["default"].ops.quote_name
    user_table = qn(user_model._meta.db_table)
    user_pk = qn(user_model._meta.pk.column)
    permission, content_type = Permission._meta, Permission._meta.get_field("content_type").related_model._meta
    if through == "user":
        m2m = user_model.user_permissions.through._meta
        source = (
            f"SELECT m.{qn(m2m.get_field('permission').column)} FROM {qn(m2m.db_table)} m"  # noqa: S608
            f" WHERE m.{qn(m2m.get_field('user').column)} = {user_table}.{user_pk}"
        )
    else:
        groups = user_model.groups.through._meta
        group_perms = Group.permissions.through._meta
        source = (
            f"SELECT gp.{qn(group_perms.get_field('permission').column)} FROM {qn(groups.db_table)} ug"  # noqa: S608
            f" JOIN {qn(group_perms.db_table)} gp"
            f" ON gp.{qn(group_perms.get_field('group').column)} = ug.{qn(groups.get_field('group').column)}"
            f" WHERE ug.{qn(groups.get_field('user').column)} = {user_table}.{user_pk}"
        )
    name = f"ct.{qn('app_label')} || '.' || p.{qn('codename')}"
    # Only the auth tables' own quoted names are interpolated; nothing comes from the request.
    return (
        f"SELECT {aggregate.format(expr=name)} FROM {qn(permission.db_table)} p"  # noqa: S608
        f" JOIN {qn(content_type.db_table)} ct ON ct.{qn('id')} = p.{qn('content_type_id')}"
        f" WHERE p.{qn('id')} IN ({source})"
    )


def own_user_field(through) -> str:
    """The user's foreign key on the user-permission table (``user`` for Django's own user model)."""
    return next(f.name for f in through._meta.fields if f.is_relation and f.related_model is get_user_model())


def _names(joined: str | None) -> set[str]:
    return set(joined.split(_SEPARATOR)) if joined else set()


class PortalModelBackend(ModelBackend):
    """``ModelBackend`` that loads a request's user, their permissions and their unread count in one query."""

    def get_user(self, user_id):
        from apps.core.models import Notification

        user_model = get_user_model()
        vendor = connections["default"].vendor
        annotations = {
            "_unread_notifications": Coalesce(
                Subquery(
                    Notification.objects.filter(recipient=OuterRef("pk"), read_at__isnull=True)
                    .order_by()
                    .values("recipient")
                    .annotate(n=Count("pk"))
                    .values("n")[:1]
                ),
                Value(0),
                output_field=IntegerField(),
            )
        }
        with_permissions = vendor in _STRING_AGG
        if with_permissions:
            for through in ("user", "group"):
                sql = _permission_names_sql(vendor, user_model, through=through)
                annotations[f"_{through}_permission_names"] = RawSQL(sql, [], output_field=TextField())  # noqa: S611
        try:
            user = user_model._default_manager.annotate(**annotations).get(pk=user_id)
        except user_model.DoesNotExist:
            return None
        if not self.user_can_authenticate(user):
            return None
        setattr(user, UNREAD_NOTIFICATIONS_ATTR, user.__dict__.pop("_unread_notifications"))
        if with_permissions:
            user_names = _names(user.__dict__.pop("_user_permission_names"))
            group_names = _names(user.__dict__.pop("_group_permission_names"))
            if not user.is_superuser:  # a superuser's are every permission: loaded when first asked
                user._user_perm_cache = user_names
                user._group_perm_cache = group_names
        return user

    def has_module_perms(self, user_obj, app_label):
        """ModelBackend's answer, from the apps of the user's permissions worked out once (the admin asks this
        for every model on every page)."""
        if not user_obj.is_active:
            return False
        permissions = self.get_all_permissions(user_obj)
        known = getattr(user_obj, "_perm_app_labels", None)
        if known is None or known[0] is not permissions:
            known = user_obj._perm_app_labels = (permissions, {perm[: perm.index(".")] for perm in permissions})
        return app_label in known[1]

    def _get_permissions(self, user_obj, obj, from_name):
        """Both kinds of permissions in one query when neither is loaded yet (the same sets ModelBackend builds)."""
        if (
            user_obj.is_active
            and not user_obj.is_anonymous
            and obj is None
            and not user_obj.is_superuser
            and not hasattr(user_obj, "_user_perm_cache")
            and not hasattr(user_obj, "_group_perm_cache")
        ):
            own = get_user_model().user_permissions.through
            grouped = Group.permissions.through
            rows = (
                Permission.objects.annotate(
                    own=Exists(own.objects.filter(permission=OuterRef("pk"), **{own_user_field(own): user_obj.pk})),
                    grouped=Exists(grouped.objects.filter(permission=OuterRef("pk"), group__user=user_obj.pk)),
                )
                .filter(Q(own=True) | Q(grouped=True))
                .values_list("content_type__app_label", "codename", "own", "grouped")
                .order_by()
            )
            user_perms, group_perms = set(), set()
            for app_label, codename, is_own, is_grouped in rows:
                if is_own:
                    user_perms.add(f"{app_label}.{codename}")
                if is_grouped:
                    group_perms.add(f"{app_label}.{codename}")
            user_obj._user_perm_cache, user_obj._group_perm_cache = user_perms, group_perms
        return super()._get_permissions(user_obj, obj, from_name)


def unread_notification_count_loaded(user) -> int | None:
    """The unread count loaded with the request's user, or None when the user came another way (API token)."""
    return getattr(user, UNREAD_NOTIFICATIONS_ATTR, None)
