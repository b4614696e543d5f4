from .audit import AuditEvent
from .base import BaseModel
from .reminders import Notification, ReminderDigest, ReminderItem

__all__ = ["AuditEvent", "BaseModel", "Notification", "ReminderDigest", "ReminderItem"]
