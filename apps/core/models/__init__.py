from .audit import AuditEvent
from .base import BaseModel
from .exports import ExportJob
from .imports import ImportJob
from .reminders import Notification, ReminderDigest, ReminderItem
from .reports import ReportRun

__all__ = [
    "AuditEvent",
    "BaseModel",
    "ExportJob",
    "ImportJob",
    "Notification",
    "ReminderDigest",
    "ReminderItem",
    "ReportRun",
]
