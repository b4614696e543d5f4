"""Writes of the inventory app: one function per use case and transition."""

from apps.inventory.services.alerts import reorder_alerts_notify, reorder_alerts_refresh
from apps.inventory.services.counts import (
    cycle_count_approve,
    cycle_count_assign,
    cycle_count_cancel,
    cycle_count_create,
    cycle_count_enter,
    cycle_count_reject,
    cycle_count_request_recount,
    cycle_count_start,
    cycle_count_submit,
    cycle_counts_schedule_due,
)
from apps.inventory.services.master_data import item_create, item_update, location_create, location_update
from apps.inventory.services.reports import inventory_report_generate, inventory_report_request
from apps.inventory.services.stock import stock_move, stock_receive_return, stock_set_quantity

__all__ = [
    "cycle_count_approve",
    "cycle_count_assign",
    "cycle_count_cancel",
    "cycle_count_create",
    "cycle_count_enter",
    "cycle_count_reject",
    "cycle_count_request_recount",
    "cycle_count_start",
    "cycle_count_submit",
    "cycle_counts_schedule_due",
    "inventory_report_generate",
    "inventory_report_request",
    "item_create",
    "item_update",
    "location_create",
    "location_update",
    "reorder_alerts_notify",
    "reorder_alerts_refresh",
    "stock_move",
    "stock_receive_return",
    "stock_set_quantity",
]
