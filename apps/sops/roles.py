"""Who does what with SOPs. Everyone who works reads SOPs and acknowledges them; SOP owners write,
review and publish them; the compliance report (view on acknowledgements) is for leads and owners."""

from apps.core import roles

READER = {
    "sops.sopdocument": {"view"},
    "sops.sopversion": {"view"},
    "sops.sopattachment": {"view"},
    "sops.acknowledgement": {"add"},
}
LEAD = {**READER, "sops.acknowledgement": {"add", "view"}}

PERMISSIONS = {
    roles.ASSOCIATE: READER,
    roles.APPROVER: LEAD,
    roles.VENDOR_MANAGER: LEAD,
    roles.INVENTORY_CONTROLLER: LEAD,
    roles.SOP_OWNER: {
        "sops.sopdocument": {"view", "add", "change"},
        "sops.sopversion": {"view", "add", "change", "delete", "publish_sop"},
        "sops.sopattachment": {"view", "add", "delete"},
        "sops.acknowledgement": {"view", "add"},
    },
}
