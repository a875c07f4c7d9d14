"""Send notifications as emails over SMTP, rendered from Jinja2 templates.

Templates are looked up first in ``VISA_NOTIFICATION_EMAIL_ADAPTER_TEMPLATES_DIRECTORY`` (when
it exists), then in the ones shipped in this package: ``<template>.html`` (or ``.txt`` for plain
text messages), extending ``base.html`` (users) or ``base-admin.html`` (admins).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import jinja2
from markupsafe import Markup, escape

from visa_platform.config import Settings, StartTls
from visa_platform.db.types import utcnow
from visa_platform.notifications.model import Notification, PermanentDeliveryError

log = logging.getLogger("visa_email")

SMTP_POLICY = policy.SMTP.clone(max_line_length=998)


@dataclass(frozen=True)
class EmailSettings:
    """The SMTP and address settings of the channel (VISA_NOTIFICATION_EMAIL_ADAPTER_*)."""

    host: str
    port: int
    from_address: str | None
    tls: bool = False
    start_tls: StartTls = StartTls.DISABLED
    bcc_address: str | None = None
    admin_address: str | None = None
    dev_address: str | None = None
    templates_directory: str | None = None
    root_url: str | None = None
    mocked: bool = False
    timeout: float = 30.0

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailSettings:
        return cls(
            host=settings.notification_email_adapter_host,
            port=settings.notification_email_adapter_port,
            from_address=settings.notification_email_adapter_from_email_address,
            tls=settings.notification_email_adapter_tls,
            start_tls=settings.notification_email_adapter_start_tls,
            bcc_address=settings.notification_email_adapter_bcc_email_address,
            admin_address=settings.notification_email_adapter_admin_email_address,
            dev_address=settings.notification_email_adapter_dev_email_address,
            templates_directory=settings.notification_email_adapter_templates_directory,
            root_url=settings.root_url,
            mocked=settings.notification_email_adapter_mocked,
        )


@dataclass(frozen=True)
class Envelope:
    """Who gets one message: To and Cc appear in the headers, Bcc only in the SMTP envelope."""

    to: tuple[str, ...]
    cc: tuple[str, ...]
    bcc: tuple[str, ...]

    @property
    def all(self) -> list[str]:
        return list(dict.fromkeys(self.to + self.cc + self.bcc))


def _format_date(value: datetime | None, fmt: str = "%d %B %Y at %H:%M UTC") -> str:
    return "" if value is None else value.strftime(fmt)


def _nl2br(value: str | None) -> Markup:
    if not value:
        return Markup("")
    return Markup("<br>").join(escape(line) for line in str(value).splitlines())


def template_environment(directory: str | None) -> jinja2.Environment:
    """Templates from ``directory`` first (if it exists), then the package's own."""
    loaders: list[jinja2.BaseLoader] = []
    if directory and Path(directory).is_dir():
        loaders.append(jinja2.FileSystemLoader(directory))
    loaders.append(jinja2.PackageLoader("visa_email", "templates"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["date"] = _format_date
    env.filters["nl2br"] = _nl2br
    return env


class EmailChannel:
    """The ``email`` channel. ``from_settings`` returns ``None`` when emails are switched off."""

    def __init__(self, config: EmailSettings) -> None:
        self.config = config
        self.templates = template_environment(config.templates_directory)

    @classmethod
    def from_settings(cls, settings: Settings) -> EmailChannel | None:
        if not settings.notification_email_adapter_enabled:
            return None
        config = EmailSettings.from_settings(settings)
        if not config.from_address:
            log.warning(
                "event=email_channel outcome=no_from_address "
                "hint='set VISA_NOTIFICATION_EMAIL_ADAPTER_FROM_EMAIL_ADDRESS'"
            )
        return cls(config)

    def envelope(self, notification: Notification) -> Envelope:
        """The recipients rules: user addresses plus the site's ADMIN/DEV/BCC addresses."""
        admin, dev = self.config.admin_address, self.config.dev_address
        to = list(notification.recipients)
        if notification.to_admins and admin:
            to.append(admin)
        if notification.to_developers and dev:
            to.append(dev)
        cc = list(notification.cc)
        if notification.cc_admins and admin:
            cc.append(admin)
        bcc = list(notification.bcc)
        if self.config.bcc_address:
            bcc.append(self.config.bcc_address)
        return Envelope(
            tuple(dict.fromkeys(to)), tuple(dict.fromkeys(cc)), tuple(dict.fromkeys(bcc))
        )

    def render(self, notification: Notification) -> str:
        """The body; template errors are permanent (retrying cannot fix them)."""
        suffix = "txt" if notification.plain_text else "html"
        context: dict[str, Any] = {
            "rootURL": (self.config.root_url or "").rstrip("/"),
            "adminEmailAddress": self.config.admin_address or "",
            "subject": notification.subject,
            **notification.context,
        }
        try:
            template = self.templates.get_template(f"{notification.template}.{suffix}")
            return template.render(context)
        except jinja2.TemplateError as exc:
            raise PermanentDeliveryError(
                f"template {notification.template}.{suffix}: {type(exc).__name__}: {exc}"
            ) from exc

    def message(self, notification: Notification, envelope: Envelope) -> EmailMessage:
        # no folding of long subjects (some parsers keep the fold's space): lines up to 998
        msg = EmailMessage(policy=SMTP_POLICY)
        msg["From"] = self.config.from_address or ""
        if envelope.to:
            msg["To"] = ", ".join(envelope.to)
        if envelope.cc:
            msg["Cc"] = ", ".join(envelope.cc)
        msg["Subject"] = notification.subject
        msg["Date"] = format_datetime(utcnow())
        # one id per notification: a retried delivery carries the same Message-ID
        msg["Message-ID"] = f"<{notification.id}@visa>"
        body = self.render(notification)
        msg.set_content(body, subtype="plain" if notification.plain_text else "html")
        return msg

    async def send(self, notification: Notification) -> None:
        envelope = self.envelope(notification)
        if not envelope.to and not envelope.cc:
            log.info(
                "event=email id=%s kind=%s outcome=skipped reason=no_recipient",
                notification.id,
                notification.kind,
            )
            return
        if not self.config.from_address:
            raise PermanentDeliveryError(
                "no sender: VISA_NOTIFICATION_EMAIL_ADAPTER_FROM_EMAIL_ADDRESS"
            )
        message = self.message(notification, envelope)
        if self.config.mocked:
            log.info(
                "event=email id=%s kind=%s outcome=mocked to=%s cc=%s bcc=%s subject=%r",
                notification.id,
                notification.kind,
                ",".join(envelope.to),
                ",".join(envelope.cc),
                ",".join(envelope.bcc),
                notification.subject,
            )
            return
        start_tls: bool | None = {
            StartTls.DISABLED: False,
            StartTls.ENABLED: None,  # opportunistic: when the server offers it
            StartTls.REQUIRED: True,
        }[self.config.start_tls]
        try:
            await aiosmtplib.send(
                message.as_bytes(policy=SMTP_POLICY),
                sender=self.config.from_address,
                recipients=envelope.all,
                hostname=self.config.host,
                port=self.config.port,
                use_tls=self.config.tls,
                start_tls=False if self.config.tls else start_tls,
                timeout=self.config.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"every recipient refused: {exc}") from exc

    async def aclose(self) -> None:
        """Nothing to close: one SMTP connection per message."""
