"""REST blueprints, one per resource, mounted under ``/api``."""

from visa_platform.api.rest import account, acm, configuration, health, notifications

BLUEPRINTS = [
    health.blueprint,
    configuration.blueprint,
    notifications.blueprint,
    account.blueprint,
    acm.blueprint,
]
