"""The ``email`` notification channel: SMTP with aiosmtplib, Jinja2 templates (spec §6.1)."""
