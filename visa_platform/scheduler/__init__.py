"""Scheduled jobs, run on one replica at a time through a lease kept in the database.

See docs/scheduler.md.
"""

from visa_platform.scheduler.clock import Clock, ManualClock, SystemClock
from visa_platform.scheduler.core import DailyAt, Every, Job, Schedule, Scheduler
from visa_platform.scheduler.lease import Lease, process_holder_id

__all__ = [
    "Clock",
    "DailyAt",
    "Every",
    "Job",
    "Lease",
    "ManualClock",
    "Schedule",
    "Scheduler",
    "SystemClock",
    "process_holder_id",
]
