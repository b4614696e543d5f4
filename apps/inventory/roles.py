"""Who may do what with inventory: associates count, controllers schedule and approve, approvers approve."""

from apps.core import roles

COUNT_WORK = {
    "inventory.item": {"view"},
    "inventory.warehouse": {"view"},
    "inventory.location": {"view"},
    "inventory.stocklevel": {"view"},
    "inventory.ledgerentry": {"view"},
    "inventory.cyclecount": {"view", "change"},
    "inventory.cyclecountline": {"view", "change"},
}

PERMISSIONS = {
    roles.ASSOCIATE: COUNT_WORK,
    roles.INVENTORY_CONTROLLER: {
        "inventory.item": {"view", "add", "change"},
        "inventory.warehouse": {"view", "add", "change"},
        "inventory.location": {"view", "add", "change"},
        "inventory.stocklevel": {"view", "change"},
        "inventory.ledgerentry": {"view", "add"},
        "inventory.countpolicy": {"view", "add", "change"},
        "inventory.cyclecount": {"view", "add", "change", "approve_count", "view_expected_quantity"},
        "inventory.cyclecountline": {"view", "change"},
        "inventory.reorderalert": {"view"},
        "inventory.inventoryreportrun": {"view", "add"},
    },
    roles.APPROVER: {
        "inventory.item": {"view"},
        "inventory.warehouse": {"view"},
        "inventory.location": {"view"},
        "inventory.stocklevel": {"view"},
        "inventory.ledgerentry": {"view"},
        "inventory.countpolicy": {"view"},
        "inventory.cyclecount": {"view", "approve_count", "view_expected_quantity"},
        "inventory.cyclecountline": {"view"},
        "inventory.reorderalert": {"view"},
        "inventory.inventoryreportrun": {"view", "add"},
    },
    roles.AUDITOR: {
        # Auditors read counts in progress with their expected quantities (they never count).
        "inventory.cyclecount": {"view_expected_quantity"},
    },
}
