"""
``GovernedBySOPAdminMixin``: a ModelAdmin's list and form pages show the SOP in force for its area.

Usage, in another app's admin.py::

    from apps.sops.admin_mixins import GovernedBySOPAdminMixin

    @admin.register(Invoice)
    class InvoiceAdmin(GovernedBySOPAdminMixin, admin.ModelAdmin):
        sop_area = "invoices"

Put the mixin first among the bases. The page gets a line above its content: the governing SOP's
code, title and version with a link to its reading view (or a note that none is in force). It
costs one query per page, never one per row, and works with any template the admin already uses
(its own, django-import-export's, the default): the SOP line is wrapped around that template.
"""

from django.template.loader import select_template
from django.template.response import TemplateResponse

from apps.sops.models import Area

SOP_BANNER_TEMPLATE = "admin/sops/governed_page.html"


class GovernedBySOPAdminMixin:
    sop_area: str = ""

    def sop_in_force(self, request):
        from apps.sops.selectors import sop_version_in_force

        return sop_version_in_force(area=self.sop_area)

    def _with_sop_banner(self, request, response):
        if not isinstance(response, TemplateResponse) or response.is_rendered:
            return response
        if self.sop_area not in Area.values:
            raise ValueError(f"{type(self).__name__}.sop_area must be one of {', '.join(Area.values)}.")
        original = response.template_name
        parent = select_template([original] if isinstance(original, str) else list(original))
        response.template_name = SOP_BANNER_TEMPLATE
        response.context_data["sop_parent_template"] = parent
        response.context_data["sop_in_force"] = self.sop_in_force(request)
        response.context_data["sop_area_label"] = Area(self.sop_area).label
        return response

    def changelist_view(self, request, extra_context=None):
        return self._with_sop_banner(request, super().changelist_view(request, extra_context))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return self._with_sop_banner(request, super().changeform_view(request, object_id, form_url, extra_context))
