from apps.core.api.permissions import ModelPermissions


class SOPPermissions(ModelPermissions):
    """Model permissions, except that an action may name its own (``view.action_permissions``).

    Transitions need only read access here: the service decides who may (author, reviewer,
    ``publish_sop``) and answers 403 with the reason.
    """

    def has_permission(self, request, view):
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is None:
            return super().has_permission(request, view)
        user = request.user
        return bool(user and user.is_authenticated and user.has_perms(required))
