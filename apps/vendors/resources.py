"""Import and export of vendors and contacts (CSV, XLSX). Imports go through the same services as the admin."""

from import_export import fields
from import_export.widgets import ForeignKeyWidget

from apps.core.import_resources import ServiceSavedResource
from apps.vendors import services
from apps.vendors.models import Vendor, VendorContact


class VendorResource(ServiceSavedResource):
    class Meta:
        model = Vendor
        import_id_fields = ["code"]
        fields = [
            "code",
            "legal_name",
            "tax_id",
            "category",
            "status",
            "payment_terms_days",
            "default_currency",
            "remit_to",
            "bank_account_holder",
            "bank_name",
            "bank_account_number",
            "bank_routing_code",
            "latest_score",
            "latest_standing",
        ]
        export_order = fields
        skip_unchanged = True
        report_skipped = True

    def get_import_fields(self):
        # Status and standing change through their own transitions, never through a file.
        return [f for f in super().get_import_fields() if f.column_name in services.VENDOR_FIELDS]

    def save_through_service(self, instance, is_create, *, actor):
        values = {name: getattr(instance, name) for name in services.VENDOR_FIELDS if name != "manager"}
        return services.vendor_save(actor=actor, vendor_id=None if is_create else instance.pk, **values)


class VendorContactResource(ServiceSavedResource):
    vendor = fields.Field(attribute="vendor", column_name="vendor", widget=ForeignKeyWidget(Vendor, field="code"))

    class Meta:
        model = VendorContact
        import_id_fields = ["vendor", "name", "email"]
        fields = ["vendor", "name", "role", "email", "phone", "is_primary"]
        export_order = fields
        skip_unchanged = True
        report_skipped = True

    def save_through_service(self, instance, is_create, *, actor):
        values = {name: getattr(instance, name) for name in ["vendor", "name", "role", "email", "phone", "is_primary"]}
        return services.contact_save(actor=actor, contact_id=None if is_create else instance.pk, **values)
