"""Reads shared by the admin, the API and the tasks."""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Q

from apps.core.models import Notification


def unread_notification_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


# --- Conflicting duties ---------------------------------------------------------------------------

# Who may keep a vendor's bank details (adding a vendor sets them, changing one changes them) ...
BANK_DETAIL_PERMISSIONS = ("vendors.add_vendor", "vendors.change_vendor")
# ... must not also be able to let money out: approve or schedule invoices, record payments,
# approve or process refunds.
PAYMENT_PERMISSIONS = (
    "invoices.approve_invoice",
    "invoices.schedule_invoice",
    "invoices.add_payment",
    "refunds.approve_refund",
    "refunds.process_refund",
)


@dataclass(frozen=True)
class ConflictingDuty:
    """One active user who could both change a vendor's bank details and let money out to it."""

    user_id: int
    username: str
    full_name: str
    email: str
    is_superuser: bool
    bank_details: tuple[str, ...]  # "vendors.change_vendor (group Vendor manager)", ...
    payments: tuple[str, ...]


def conflicting_duties() -> list[ConflictingDuty]:
    """Active users holding a bank-detail permission and a payment permission, from their groups and
    their own permissions; superusers hold everything. Five queries, whatever the number of users."""
    from django.contrib.auth.models import Group, Permission, User

    watched = BANK_DETAIL_PERMISSIONS + PAYMENT_PERMISSIONS
    conditions = Q()
    for code in watched:
        app_label, codename = code.split(".")
        conditions |= Q(content_type__app_label=app_label, codename=codename)
    permission_codes = {
        pk: f"{app_label}.{codename}"
        for pk, app_label, codename in Permission.objects.filter(conditions).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }

    held: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))  # user -> code -> sources
    direct = User.user_permissions.through.objects.filter(permission_id__in=permission_codes)
    for user_id, permission_id in direct.values_list("user_id", "permission_id"):
        held[user_id][permission_codes[permission_id]].append("own permission")
    group_codes: dict[int, list[str]] = defaultdict(list)
    group_names = {}
    granted = Group.permissions.through.objects.filter(permission_id__in=permission_codes)
    for group_id, group_name, permission_id in granted.values_list("group_id", "group__name", "permission_id"):
        group_codes[group_id].append(permission_codes[permission_id])
        group_names[group_id] = group_name
    memberships = User.groups.through.objects.filter(group_id__in=group_codes)
    for user_id, group_id in memberships.values_list("user_id", "group_id"):
        for code in group_codes[group_id]:
            held[user_id][code].append(f"group {group_names[group_id]}")

    users = User.objects.filter(is_active=True).filter(Q(pk__in=list(held)) | Q(is_superuser=True)).order_by("username")
    conflicts = []
    for user in users:
        sources = {code: ["superuser"] for code in watched} if user.is_superuser else held[user.pk]
        bank = tuple(f"{code} ({', '.join(sources[code])})" for code in BANK_DETAIL_PERMISSIONS if sources.get(code))
        pay = tuple(f"{code} ({', '.join(sources[code])})" for code in PAYMENT_PERMISSIONS if sources.get(code))
        if bank and pay:
            conflicts.append(
                ConflictingDuty(
                    user_id=user.pk,
                    username=user.get_username(),
                    full_name=user.get_full_name(),
                    email=user.email,
                    is_superuser=user.is_superuser,
                    bank_details=bank,
                    payments=pay,
                )
            )
    return conflicts


CONFLICTING_DUTIES_HEADERS = ["username", "name", "email", "superuser", "bank details", "payments"]


def conflicting_duties_table(conflicts: list[ConflictingDuty]) -> list[list]:
    """The report's rows for a CSV / XLSX file or the console."""
    return [
        [
            row.username,
            row.full_name,
            row.email,
            "yes" if row.is_superuser else "no",
            "; ".join(row.bank_details),
            "; ".join(row.payments),
        ]
        for row in conflicts
    ]
