"""Default plugin: writes every instance, session and user event as one structured log line."""
