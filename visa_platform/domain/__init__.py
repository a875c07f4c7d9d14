"""Domain layer: enums, the instance state machine and pure business rules (no I/O)."""
