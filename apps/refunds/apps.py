from django.apps import AppConfig


class RefundsConfig(AppConfig):
    """Customer orders and refund cases: refunds, store credits, chargebacks and returns."""

    name = "apps.refunds"
    label = "refunds"
    verbose_name = "Refunds"
