"""Writes of the refunds app: one function per use case and transition."""

from apps.refunds.services.cases import (
    attachment_add,
    case_approve,
    case_cancel,
    case_close,
    case_process,
    case_reject,
    case_request,
    chargeback_record_outcome,
    chargeback_submit_evidence,
    refundable_remaining,
    return_line_inspect,
    validate_case_request,
)
from apps.refunds.services.orders import order_create, order_update
from apps.refunds.services.reports import report_run_generate, report_run_request, report_runs_schedule_monthly

__all__ = [
    "attachment_add",
    "case_approve",
    "case_cancel",
    "case_close",
    "case_process",
    "case_reject",
    "case_request",
    "chargeback_record_outcome",
    "chargeback_submit_evidence",
    "order_create",
    "order_update",
    "refundable_remaining",
    "report_run_generate",
    "report_run_request",
    "report_runs_schedule_monthly",
    "return_line_inspect",
    "validate_case_request",
]
