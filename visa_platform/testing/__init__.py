"""Test kit for the host and for plugin authors.

Installing visa-platform registers :mod:`visa_platform.testing.pytest_plugin` with pytest; it gives
database fixtures that run a test on SQLite and on PostgreSQL, and an application fixture. Fakes of
external services (OpenStack, Kubernetes, guacd, OIDC) and the compute-backend contract suite join
this package as they are written.
"""
