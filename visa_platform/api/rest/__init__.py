"""REST blueprints, one per resource, mounted under ``/api``."""

from visa_platform.api.rest import (
    account,
    acm,
    api_docs,
    bookings,
    configuration,
    experiments,
    health,
    helpers,
    instance_views,
    instances,
    instruments,
    jupyter,
    notifications,
    plans,
    thumbnails,
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
    thumbnails.blueprint,
    instance_views.blueprint,
    jupyter.blueprint,
    bookings.blueprint,
    api_docs.blueprint,
]
