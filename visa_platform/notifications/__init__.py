"""Notifications: the value, the channel contract, the dispatcher and its outbox, the messages."""

from visa_platform.notifications.dispatcher import DispatcherStats, NotificationDispatcher
from visa_platform.notifications.model import (
    Notification,
    NotificationChannel,
    PermanentDeliveryError,
)
from visa_platform.notifications.outbox import OutboxStore

__all__ = [
    "DispatcherStats",
    "Notification",
    "NotificationChannel",
    "NotificationDispatcher",
    "OutboxStore",
    "PermanentDeliveryError",
]
