"""``{% portal_result_list cl %}``: Django's ``result_list`` with the faster rows of ``apps.core.admin_list``
for admins that ask for them (``fast_result_rows = True``, as every ``LargeTableAdminMixin`` list does)."""

from django import template
from django.contrib.admin.templatetags.admin_list import result_list
from django.contrib.admin.templatetags.base import InclusionAdminNode

from apps.core.admin_list import fast_result_list

register = template.Library()


def portal_result_list(cl):
    if getattr(cl.model_admin, "fast_result_rows", False):
        return fast_result_list(cl)
    return result_list(cl)


@register.tag(name="portal_result_list")
def portal_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser, token, func=portal_result_list, template_name="change_list_results.html", takes_context=False
    )
