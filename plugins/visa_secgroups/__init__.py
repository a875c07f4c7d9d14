"""Default security groups from the database filters, spec §5 (entry point ``secgroups``)."""
