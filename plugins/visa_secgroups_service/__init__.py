"""Custom security groups from VISA's external security-group service (entry point
``secgroups_service``; spec/desktop-security-cloud.md §4.1)."""
