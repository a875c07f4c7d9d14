"""Hook implementations of the email plugin: it contributes the ``email`` notification channel."""

from __future__ import annotations

from visa_email.channel import EmailChannel
from visa_platform.plugin import hookimpl
from visa_platform.plugin.registry import Register


@hookimpl
def visa_register_notification_channels(register: Register) -> None:
    register.add(
        "email",
        EmailChannel.from_settings,
        description="HTML emails over SMTP (VISA_NOTIFICATION_EMAIL_ADAPTER_*)",
    )
