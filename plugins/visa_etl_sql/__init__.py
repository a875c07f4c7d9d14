"""Default plugin: the ``sql`` ETL source (one query per kind on any SQLAlchemy database)."""
