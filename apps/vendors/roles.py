from apps.core import roles

READ = {"view"}
KEEP = {"view", "add", "change"}

PERMISSIONS = {
    roles.ASSOCIATE: {
        "vendors.vendor": READ,
        "vendors.vendorcontact": READ,
        "vendors.vendorcontract": READ,
        # Associates own review action items: they open the review to follow up.
        "vendors.performancereview": READ,
        "vendors.reviewactionitem": READ,
    },
    roles.APPROVER: {
        "vendors.vendor": READ | {"confirm_bank_details"},
        "vendors.vendorcontact": READ,
        "vendors.vendorcontract": READ,
        "vendors.performancereview": READ,
    },
    roles.VENDOR_MANAGER: {
        "vendors.vendor": KEEP | {"confirm_bank_details"},
        "vendors.vendorcontact": KEEP | {"delete"},
        "vendors.vendorcontract": KEEP,
        "vendors.standingband": KEEP,
        "vendors.performancereview": KEEP | {"finalize_performancereview"},
        "vendors.reviewcriterion": KEEP | {"delete"},
        "vendors.reviewactionitem": KEEP | {"delete"},
    },
    roles.INVENTORY_CONTROLLER: {"vendors.vendor": READ},
    roles.ADMINISTRATOR: {"vendors.vendor": READ, "vendors.standingband": READ},
}
