"""
Roles are Django groups. This table says which permissions each one holds.

Each entry maps ``app_label.model`` to the codenames (without the model suffix for the four
standard ones: ``view``, ``add``, ``change``, ``delete``; custom codenames in full). Each domain
app adds its own in ``apps/<app>/roles.py`` (``PERMISSIONS``, same shape, keyed by role).
``setup_roles`` makes every group hold exactly these permissions.

The auditor role is computed: view on every model plus ``export_records``, nothing else.
"""

ASSOCIATE = "Associate"
APPROVER = "Approver"
VENDOR_MANAGER = "Vendor manager"
INVENTORY_CONTROLLER = "Inventory controller"
SOP_OWNER = "SOP owner"
AUDITOR = "Auditor"
ADMINISTRATOR = "Administrator"

ALL_ROLES = [ASSOCIATE, APPROVER, VENDOR_MANAGER, INVENTORY_CONTROLLER, SOP_OWNER, AUDITOR, ADMINISTRATOR]

STANDARD = {"view", "add", "change", "delete"}

ROLE_PERMISSIONS: dict[str, dict[str, set[str]]] = {
    ASSOCIATE: {},
    APPROVER: {},
    VENDOR_MANAGER: {},
    INVENTORY_CONTROLLER: {},
    SOP_OWNER: {},
    AUDITOR: {
        "core.auditevent": {"view", "export_records"},
    },
    ADMINISTRATOR: {
        "auth.user": {"view", "add", "change"},
        "auth.group": {"view"},
        "authtoken.tokenproxy": {"view", "add", "delete"},
        "django_celery_beat.periodictask": {"view", "add", "change", "delete"},
        "django_celery_beat.crontabschedule": {"view", "add", "change", "delete"},
        "django_celery_beat.intervalschedule": {"view", "add", "change", "delete"},
        "django_celery_beat.clockedschedule": {"view", "add", "change", "delete"},
        "django_celery_beat.solarschedule": {"view", "add", "change", "delete"},
        "django_celery_results.taskresult": {"view"},
        "django_celery_results.groupresult": {"view"},
        "axes.accessattempt": {"view", "delete"},
        "axes.accessfailurelog": {"view"},
        "axes.accesslog": {"view"},
        "core.auditevent": {"view"},
        "auditlog.logentry": {"view"},
    },
}

# Models whose rows nobody reads through a role: secrets and framework internals.
NOT_READABLE = {
    "authtoken.token",
    "authtoken.tokenproxy",
    "sessions.session",
    "contenttypes.contenttype",
    "auth.permission",
    "admin.logentry",
    "core.notification",  # personal: each person reads their own
    "core.reminderdigest",
    "core.reminderitem",
}


def codename(perm: str, model: str) -> str:
    return f"{perm}_{model}" if perm in STANDARD else perm


def readable_models():
    """Every installed model an auditor may read (``app_label.model``)."""
    from django.apps import apps

    labels = []
    for model in apps.get_models():
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        if label not in NOT_READABLE:
            labels.append(label)
    return labels


def permissions_for(role: str) -> dict[str, set[str]]:
    """The core table's permissions for ``role`` plus those each domain app's ``roles.py`` adds."""
    from apps.core.plugins import app_modules

    table = {label: set(perms) for label, perms in ROLE_PERMISSIONS[role].items()}
    for module in app_modules("roles"):
        for label, perms in module.PERMISSIONS.get(role, {}).items():
            table.setdefault(label, set()).update(perms)
    if role == AUDITOR:
        for label in readable_models():
            table.setdefault(label, set()).add("view")
    return table
