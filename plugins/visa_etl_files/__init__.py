"""Default plugin: the ``files`` ETL source (JSON Lines and CSV files, one per kind)."""
