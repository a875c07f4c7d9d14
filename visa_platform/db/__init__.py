"""Data layer: models on VISA's tables, the async engine and sessions, migrations, seed data."""
