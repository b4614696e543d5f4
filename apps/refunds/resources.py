"""
Import and export of customer orders and refund cases (CSV, XLSX).

Exports mask customer details for people without ``refunds.view_customer_pii``. Imports save every
row through the refunds services, as the importing user, so the same rules hold as in the admin:
the order's refundable amount caps a case, an existing case changes only through its transitions.
"""

from django.core.exceptions import ValidationError
from import_export import fields, resources

from apps.core.import_resources import (
    CheckedImportResource,
    LookupWidget,
    choice_parser,
    column,
    currency_parser,
    date_parser,
    email_parser,
    money_parser,
    text_parser,
)
from apps.refunds import services
from apps.refunds.models import Channel, Order, RefundCase
from apps.refunds.pii import can_see_pii, mask_email, mask_name

# --- Exports ------------------------------------------------------------------------------------


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


# --- Imports ------------------------------------------------------------------------------------


class OrderImportResource(CheckedImportResource):
    """Customer orders by reference: new ones through ``order_create``, corrections through ``order_update``."""

    reference = column("reference", text_parser("reference", max_length=40), required=True)
    customer_name = column("customer_name", text_parser("customer_name", max_length=200), required=True)
    customer_email = column("customer_email", email_parser("customer_email"), required=True)
    order_date = column("order_date", date_parser("order_date"), required=True)
    channel = column("channel", widget=LookupWidget(Channel, "code", column="channel", label="sales channel with code"))
    currency = column("currency", currency_parser("currency"), required=True)
    total = column("total", money_parser("total"), required=True)
    amount_paid = column("amount_paid", money_parser("amount_paid"))

    header_aliases = {
        "reference": ("Order ID", "Order Number", "Order No", "Order #", "order_ref", "Order reference", "Order"),
        "customer_name": ("Customer", "Customer name", "Name", "Billing name"),
        "customer_email": ("Email", "E-mail", "Customer email", "Email address"),
        "order_date": ("Date", "Order date", "Created at", "Placed on"),
        "channel": ("Sales channel", "Channel code", "Source"),
        "currency": ("Currency code", "Curr"),
        "total": ("Order total", "Total amount", "Grand total"),
        "amount_paid": ("Paid", "Amount paid", "Total paid", "Payment amount"),
    }
    required_columns = ("reference", "customer_name", "customer_email", "order_date", "channel", "currency", "total")

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
        ]
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self):
        return super().get_queryset().select_related("channel")

    def save_through_service(self, instance, is_create, *, actor):
        if is_create:
            return services.order_create(
                actor=actor,
                reference=instance.reference,
                customer_name=instance.customer_name,
                customer_email=instance.customer_email,
                order_date=instance.order_date,
                channel_id=instance.channel_id,
                currency=instance.currency,
                total=instance.total,
                amount_paid=instance.total if instance.amount_paid is None else instance.amount_paid,
            )
        stored = Order.objects.values("currency").get(pk=instance.pk)
        changes = {name: getattr(instance, name) for name in services.orders.EDITABLE_ORDER_FIELDS}
        if instance.currency != stored["currency"]:
            changes["currency"] = instance.currency  # refused by the service, with its message
        return services.order_update(order_id=instance.pk, actor=actor, **changes)


class RefundCaseImportResource(CheckedImportResource):
    """Refund, store-credit and chargeback requests, found again by (order, external reference).

    A new row is a request through ``case_request`` (the refundable amount of the order caps it); a row
    of a case already imported must match it: a case changes through its transitions, never a file.
    Returns need their lines and are requested in the admin or the API.
    """

    order = column("order", widget=LookupWidget(Order, "reference", column="order", label="order with reference"))
    external_reference = column("external_reference", text_parser("external_reference", max_length=64), required=True)
    type = column(
        "type",
        choice_parser(
            "type",
            RefundCase.Type.choices,
            refused={RefundCase.Type.RETURN: "Returns are requested with their lines in the admin or the API."},
        ),
        required=True,
    )
    amount = column("amount", money_parser("amount", allow_zero=False), required=True)
    reason = column("reason", attribute="reason_code", required=True)
    notes = column("notes")
    override_reason = column("override_reason")
    network = column("network", choice_parser("network", RefundCase.Network.choices))
    network_reason_code = column("network_reason_code", text_parser("network_reason_code", max_length=20))
    evidence_due_date = column("evidence_due_date", date_parser("evidence_due_date"))
    fee = column("fee", money_parser("fee"))

    header_aliases = {
        "order": ("Order ID", "Order Number", "Order No", "Order #", "order_ref", "Order reference"),
        "external_reference": ("External reference", "External ID", "Ticket", "Ticket ID", "Case ID", "Claim ID"),
        "type": ("Case type", "Kind"),
        "amount": ("Refund amount", "Amount requested", "Credit amount"),
        "reason": ("Reason code", "Reason"),
        "notes": ("Note", "Comment", "Comments", "Description"),
        "override_reason": ("Override", "Window override reason"),
        "network": ("Card network", "Scheme"),
        "network_reason_code": ("Network reason", "Dispute reason code", "Chargeback reason code"),
        "evidence_due_date": ("Evidence due", "Respond by", "Response due date"),
        "fee": ("Chargeback fee", "Dispute fee"),
    }
    required_columns = ("order", "external_reference", "type", "amount", "reason")

    class Meta:
        model = RefundCase
        import_id_fields = ["order", "external_reference"]
        fields = [
            "order",
            "external_reference",
            "type",
            "amount",
            "reason",
            "notes",
            "override_reason",
            "network",
            "network_reason_code",
            "evidence_due_date",
            "fee",
        ]
        skip_unchanged = True
        report_skipped = True

    def get_queryset(self):
        return super().get_queryset().select_related("order", "reason")

    def after_init_instance(self, instance, new, row, **kwargs):
        super().after_init_instance(instance, new, row, **kwargs)
        instance.reason_code = "" if new else instance.reason.code

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors or original is None or original.pk is None:
            return super().skip_row(instance, original, row, import_validation_errors)
        changed = [
            field.column_name
            for field in self.get_import_fields()
            if field.column_name in row and field.get_value(instance) != field.get_value(original)
        ]
        if changed:
            raise ValidationError(
                {
                    name: f"Case {original.reference} was already imported with another {name}: a case changes "
                    "through its transitions (cancel it and request again), not through a file."
                    for name in changed
                }
            )
        return True

    def save_through_service(self, instance, is_create, *, actor):
        return services.case_request(
            actor=actor,
            order_id=instance.order_id,
            type=instance.type,
            amount=instance.amount,
            reason_code=instance.reason_code,
            external_reference=instance.external_reference,
            notes=instance.notes,
            override_reason=instance.override_reason,
            network=instance.network,
            network_reason_code=instance.network_reason_code,
            evidence_due_date=instance.evidence_due_date,
            fee=instance.fee,
        )
