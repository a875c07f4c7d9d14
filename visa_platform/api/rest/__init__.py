"""REST blueprints, one per resource, mounted under ``/api``."""
