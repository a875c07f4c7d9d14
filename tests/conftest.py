"""Shared test configuration. Database and app fixtures come from visa_platform.testing."""
