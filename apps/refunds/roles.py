"""Who may do what with orders and refund cases (see apps/core/roles.py for the format)."""

from apps.core import roles

REFERENCE_DATA = {
    "refunds.channel": {"view"},
    "refunds.reasoncode": {"view"},
    "refunds.refundpolicy": {"view"},
}

PERMISSIONS = {
    roles.ASSOCIATE: {
        **REFERENCE_DATA,
        "refunds.order": {"view", "add", "change", "view_customer_pii"},
        "refunds.orderline": {"view", "add", "change"},
        "refunds.refundcase": {"view", "add", "change", "process_refund"},
        "refunds.returnline": {"view", "add", "change"},
        "refunds.caseattachment": {"view", "add"},
        "refunds.caseapproval": {"view"},
        "refunds.payout": {"view"},
        "refunds.reportrun": {"view", "add"},
    },
    roles.APPROVER: {
        **REFERENCE_DATA,
        "refunds.approverlimit": {"view"},
        "refunds.order": {"view"},
        "refunds.orderline": {"view"},
        "refunds.refundcase": {"view", "approve_refund"},
        "refunds.returnline": {"view"},
        "refunds.caseattachment": {"view"},
        "refunds.caseapproval": {"view"},
        "refunds.payout": {"view"},
        "refunds.reportrun": {"view", "add"},
    },
    roles.AUDITOR: {
        # Auditors read everything, customer details included (view on every model comes with the role).
        "refunds.order": {"view_customer_pii"},
    },
    roles.ADMINISTRATOR: {
        "refunds.channel": {"view", "add", "change"},
        "refunds.reasoncode": {"view", "add", "change"},
        "refunds.refundpolicy": {"view", "add", "change"},  # add: only while none exists
        "refunds.approverlimit": {"view", "add", "change", "delete"},
    },
}
