from apps.core import roles

READ = {"view"}
KEEP = {"view", "add", "change"}

PERMISSIONS = {
    roles.ASSOCIATE: {
        "invoices.purchaseorder": KEEP,
        "invoices.purchaseorderline": KEEP,
        "invoices.goodsreceipt": KEEP,
        "invoices.invoice": KEEP,
        "invoices.invoiceline": KEEP,
        "invoices.invoiceexception": READ | {"change"},
        "invoices.creditmemo": {"view", "add"},
        "invoices.payment": {"view", "add"},
        "invoices.disputecontact": {"view", "add"},
        "invoices.vendormatchingpolicy": READ,
        "invoices.agingreportrun": {"view", "add"},
    },
    roles.APPROVER: {
        "invoices.purchaseorder": READ,
        "invoices.purchaseorderline": READ,
        "invoices.goodsreceipt": READ,
        "invoices.invoice": READ | {"change", "approve_invoice", "schedule_invoice"},
        "invoices.invoiceline": READ,
        "invoices.invoiceexception": READ | {"change"},
        "invoices.creditmemo": READ,
        "invoices.payment": READ,
        "invoices.disputecontact": {"view", "add"},
        "invoices.vendormatchingpolicy": KEEP,
        "invoices.agingreportrun": {"view", "add"},
    },
    roles.VENDOR_MANAGER: {
        "invoices.purchaseorder": READ,
        "invoices.invoice": READ,
        "invoices.disputecontact": {"view", "add"},
        "invoices.vendormatchingpolicy": KEEP,
    },
    roles.ADMINISTRATOR: {"invoices.vendormatchingpolicy": READ},
}
