"""Exports: orders with customer details masked for people without ``refunds.view_customer_pii``."""

from import_export import fields, resources

from apps.refunds.models import Order
from apps.refunds.pii import can_see_pii, mask_email, mask_name


class OrderResource(resources.ModelResource):
    channel = fields.Field(attribute="channel__code", column_name="channel")

    def __init__(self, user=None, **kwargs):
        super().__init__(**kwargs)
        self.user = user

    class Meta:
        model = Order
        import_id_fields = ["reference"]
        fields = [
            "reference",
            "customer_name",
            "customer_email",
            "order_date",
            "channel",
            "currency",
            "total",
            "amount_paid",
            "committed_amount",
        ]
        export_order = fields

    def get_queryset(self):
        return super().get_queryset().select_related("channel")

    def dehydrate_customer_name(self, order):
        return order.customer_name if can_see_pii(self.user) else mask_name(order.customer_name)

    def dehydrate_customer_email(self, order):
        return order.customer_email if can_see_pii(self.user) else mask_email(order.customer_email)
