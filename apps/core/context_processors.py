from apps.core.selectors import unread_notification_count


def notifications(request):
    """The unread notification count for the admin header (one query, only for staff pages)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/admin/"):
        return {}
    return {"unread_notifications": unread_notification_count(user=user)}
