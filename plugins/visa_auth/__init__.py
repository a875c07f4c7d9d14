"""Default plugin: request authentication and the built-in account providers."""
