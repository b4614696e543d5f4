from apps.core.auth_backends import unread_notification_count_loaded
from apps.core.selectors import unread_notification_count


def notifications(request):
    """The unread notification count for the admin header (only for staff pages).

    Loaded with the signed-in user (``PortalModelBackend``): no query of its own on a page load.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/admin/"):
        return {}
    count = unread_notification_count_loaded(user)
    return {"unread_notifications": unread_notification_count(user=user) if count is None else count}
