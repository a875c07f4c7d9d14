"""REST blueprints, one per resource, mounted under ``/api``."""

from visa_platform.api.rest import (
    account,
    acm,
    configuration,
    experiments,
    health,
    helpers,
    instances,
    instruments,
    notifications,
    plans,
    users,
)

BLUEPRINTS = [
    health.blueprint,
    configuration.blueprint,
    notifications.blueprint,
    account.blueprint,
    acm.blueprint,
    instances.blueprint,
    experiments.blueprint,
    users.blueprint,
    plans.blueprint,
    instruments.blueprint,
    helpers.blueprint,
]
