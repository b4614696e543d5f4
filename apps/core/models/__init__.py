from .audit import AuditEvent
from .base import BaseModel
from .imports import ImportJob
from .reminders import Notification, ReminderDigest, ReminderItem

__all__ = ["AuditEvent", "BaseModel", "ImportJob", "Notification", "ReminderDigest", "ReminderItem"]
