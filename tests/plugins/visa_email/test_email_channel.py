"""The email channel against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest

from visa_email.channel import EmailChannel
from visa_platform.config import Settings, load_settings
from visa_platform.notifications import NotificationDispatcher, PermanentDeliveryError
from visa_platform.notifications import messages as m
from visa_platform.plugin import PluginHost
from visa_platform.testing.smtp import SmtpServer

OWNER = m.Person("Ada Lovelace", "ada@example.org")
STAFF = m.Person("Grace Hopper", "grace@example.org", staff=True)
INSTANCE = m.InstanceInfo(42, "ab12cd34", "my-analysis")
WHEN = datetime(2026, 3, 4, 10, 30, tzinfo=UTC)
LIMITS = m.Limits()
BOOKING = m.BookingInfo(7, "bk7", "Beamtime D22", OWNER, WHEN, WHEN, "four GPUs\nplease")


def email_settings(server: SmtpServer | None, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "root_url": "https://visa.example.org/",
        "notification_email_adapter_enabled": True,
        "notification_email_adapter_host": "127.0.0.1",
        "notification_email_adapter_port": server.port if server else 1,
        "notification_email_adapter_from_email_address": "visa@example.org",
        "notification_email_adapter_admin_email_address": "admin@example.org",
        "notification_email_adapter_dev_email_address": "dev@example.org",
        "notification_email_adapter_bcc_email_address": "archive@example.org",
        "notification_email_adapter_templates_directory": str(tmp_path / "no-such-dir"),
    }
    values.update(overrides)
    return load_settings(environ={}, **values)


def channel_for(settings: Settings) -> EmailChannel:
    channel = EmailChannel.from_settings(settings)
    assert channel is not None
    return channel


# Every email of spec/domain.md §6.1 (#1-#11): (builder output, To, Cc, subject, body snippets)
CASES = [
    (
        m.instance_expiring(OWNER, INSTANCE, WHEN, LIMITS),
        ["ada@example.org"],
        [],
        "[VISA] Your instance will soon expire due to inactivity",
        [
            "Dear Ada Lovelace",
            "https://visa.example.org/instances/ab12cd34",
            "04 March 2026",
            "4 days",
        ],
    ),
    (
        m.instance_lifetime(STAFF, INSTANCE, WHEN, LIMITS),
        ["grace@example.org"],
        [],
        "[VISA] Your instance will soon be deleted due to reaching its maximum lifetime",
        ["60 days", "extension"],
    ),
    (
        m.instance_deleted(OWNER, INSTANCE, m.deletion_reason(WHEN, WHEN), LIMITS),
        ["ada@example.org"],
        [],
        "[VISA] Your instance has been deleted",
        ["maximum lifetime of 14 days"],
    ),
    (
        m.instance_member_added(STAFF, INSTANCE, "USER", OWNER, LIMITS),
        ["grace@example.org"],
        [],
        "[VISA] You have been added as a member to an instance",
        ["Ada Lovelace has added you", "(user)"],
    ),
    (
        m.instance_created(OWNER, INSTANCE, "Large GPU"),
        ["dev@example.org"],
        [],
        "[VISA] A new instance has been created",
        ["Ada Lovelace created a new instance 'my-analysis' (42) with the flavour of Large GPU"],
    ),
    (
        m.extension_requested(
            m.ExtensionRequestInfo(
                INSTANCE, OWNER, "ILL", WHEN, WHEN, "Large", "Ubuntu", "24.04", "<b>need</b>\nmore"
            ),
            auto_accepted=True,
        ),
        ["admin@example.org"],
        [],
        "[VISA] An instance extension request has been made (automatically accepted)",
        [
            "https://visa.example.org/admin/compute/extension_requests",
            "&lt;b&gt;need&lt;/b&gt;<br>more",
            "Ubuntu 24.04",
        ],
    ),
    (
        m.extension_handled(
            OWNER,
            INSTANCE,
            accepted=True,
            termination_date=WHEN,
            handler_comments="ok\nenjoy",
            limits=LIMITS,
        ),
        ["ada@example.org"],
        ["admin@example.org"],
        "[VISA] Your instance has been granted an extended lifetime",
        ["ok<br>enjoy", "04 March 2026"],
    ),
    (
        m.extension_handled(
            OWNER,
            INSTANCE,
            accepted=False,
            termination_date=None,
            handler_comments=None,
            limits=LIMITS,
        ),
        ["ada@example.org"],
        ["admin@example.org"],
        "[VISA] Your instance has been refused an extended lifetime",
        ["has been refused"],
    ),
    (
        m.booking_request_admin(BOOKING, updated=False),
        ["admin@example.org"],
        [],
        "[VISA] A resource reservation request has been created",
        ["https://visa.example.org/admin/bookings/requests/7"],
    ),
    (
        m.booking_request_owner(BOOKING, updated=True),
        ["ada@example.org"],
        [],
        "[VISA] Your request to reserve VISA resources has been updated",
        ["has been updated"],
    ),
    (
        m.booking_request_validated(BOOKING, accepted=False),
        ["ada@example.org"],
        ["admin@example.org"],
        "[VISA]Your request to reserve resources has been refused",
        ["refused"],
    ),
    (
        m.booking_token_assigned(STAFF, BOOKING, 2),
        ["grace@example.org"],
        [],
        "[VISA] You have been assigned resources to create VISA instances",
        ["assigned you 2 reservation"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0].kind + "-" + str(i) for i, c in enumerate(CASES)])  # type: ignore[union-attr]
async def test_every_email_arrives_with_its_recipients_subject_and_body(
    smtp_server: SmtpServer, tmp_path: Path, case: Any
) -> None:
    notification, to, cc, subject, snippets = case
    channel = channel_for(email_settings(smtp_server, tmp_path))
    await channel.send(notification)
    [received] = await smtp_server.wait_for(1)
    assert received.sender == "visa@example.org"
    assert sorted(received.recipients) == sorted([*to, *cc, "archive@example.org"])
    assert received.message["To"] == ", ".join(to)
    assert received.message["Cc"] == (", ".join(cc) if cc else None)
    assert received.message["Bcc"] is None  # blind copies are in the envelope only
    assert received.subject == subject
    assert received.message["Message-ID"].startswith(f"<{notification.id}")
    body = received.body
    for snippet in snippets:
        assert snippet in body
    if notification.plain_text:
        assert received.message.get_content_type() == "text/plain"
    else:
        assert received.message.get_content_type() == "text/html"
        assert "mailto:admin@example.org" in body or "Dear VISA administrator" in body


def test_a_user_without_address_gets_no_message() -> None:
    assert m.instance_expiring(m.Person("No Mail"), INSTANCE, WHEN, LIMITS) is None


def test_disabled_means_no_channel(tmp_path: Path) -> None:
    settings = email_settings(None, tmp_path, notification_email_adapter_enabled=False)
    assert EmailChannel.from_settings(settings) is None
    host = PluginHost()
    host.load_entry_points(allow=["email"])
    assert NotificationDispatcher.from_plugins(settings, host).channels == {}
    enabled = NotificationDispatcher.from_plugins(email_settings(None, tmp_path), host)
    assert list(enabled.channels) == ["email"]


async def test_admin_messages_are_skipped_when_no_admin_address(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    settings = email_settings(
        smtp_server,
        tmp_path,
        notification_email_adapter_admin_email_address=None,
        notification_email_adapter_dev_email_address=None,
        notification_email_adapter_bcc_email_address=None,
    )
    channel = channel_for(settings)
    await channel.send(m.booking_request_admin(BOOKING, updated=True))
    await channel.send(m.instance_created(OWNER, INSTANCE, "Small"))
    handled = m.extension_handled(
        OWNER,
        INSTANCE,
        accepted=True,
        termination_date=WHEN,
        handler_comments=None,
        limits=LIMITS,
    )
    assert handled is not None
    await channel.send(handled)
    [received] = await smtp_server.wait_for(1)
    assert received.recipients == ("ada@example.org",)
    assert received.message["Cc"] is None
    assert "the VISA support team" in received.body


async def test_templates_are_overridden_from_the_directory(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "instance-deleted.html").write_text(
        "<p>Site template: {{ instance.name }} ({{ reason }}) {{ rootURL }}</p>"
    )
    settings = email_settings(
        smtp_server, tmp_path, notification_email_adapter_templates_directory=str(templates)
    )
    channel = channel_for(settings)
    await channel.send(m.instance_deleted(OWNER, INSTANCE, "inactivity", LIMITS))  # type: ignore[arg-type]
    await channel.send(m.instance_expiring(OWNER, INSTANCE, WHEN, LIMITS))  # type: ignore[arg-type]
    deleted, expiring = await smtp_server.wait_for(2)
    assert "Site template: my-analysis (inactivity) https://visa.example.org" in deleted.body
    assert "will be <strong>deleted on" in expiring.body  # not overridden: the package's


async def test_a_broken_template_is_a_permanent_error(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "instance-deleted.html").write_text("{{ no_such_variable }}")
    settings = email_settings(
        None, tmp_path, notification_email_adapter_templates_directory=str(templates)
    )
    with pytest.raises(PermanentDeliveryError, match="instance-deleted"):
        await channel_for(settings).send(
            m.instance_deleted(OWNER, INSTANCE, "inactivity", LIMITS)  # type: ignore[arg-type]
        )


async def test_mocked_logs_instead_of_sending(
    smtp_server: SmtpServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = email_settings(smtp_server, tmp_path, notification_email_adapter_mocked=True)
    with caplog.at_level(logging.INFO, "visa_email"):
        await channel_for(settings).send(m.instance_created(OWNER, INSTANCE, "Small"))
    assert "outcome=mocked" in caplog.text and "to=dev@example.org" in caplog.text
    assert smtp_server.messages == []


async def test_start_tls_required_fails_against_a_server_without_it(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    settings = email_settings(
        smtp_server, tmp_path, notification_email_adapter_start_tls="REQUIRED"
    )
    with pytest.raises(aiosmtplib.SMTPException):
        await channel_for(settings).send(m.instance_created(OWNER, INSTANCE, "Small"))
    assert smtp_server.messages == []
    # ENABLED is opportunistic: the plain server is fine
    settings = email_settings(smtp_server, tmp_path, notification_email_adapter_start_tls="ENABLED")
    await channel_for(settings).send(m.instance_created(OWNER, INSTANCE, "Small"))
    await smtp_server.wait_for(1)


async def test_smtp_server_down_is_retried_not_lost_not_doubled(
    smtp_server: SmtpServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dispatcher = NotificationDispatcher(
        {"email": channel_for(email_settings(smtp_server, tmp_path))},
        first_delay=0.05,
        max_delay=0.2,
        max_attempts=50,
    )
    await dispatcher.start()
    await smtp_server.stop()
    with caplog.at_level(logging.WARNING, "visa_platform.notifications"):
        # the caller is neither delayed nor failed while the server is down
        for n in range(3):
            assert dispatcher.notify(m.instance_created(OWNER, INSTANCE, f"flavour-{n}"))
        for _ in range(500):
            if dispatcher.stats.failed_attempts >= 3:
                break
            await asyncio.sleep(0.01)
        assert dispatcher.stats.failed_attempts >= 3
        assert smtp_server.messages == []
        await smtp_server.start()
        smtp_server.refuse_next(2)  # then two temporary refusals (451)
        assert await dispatcher.join(15)
    await dispatcher.aclose()
    assert "outcome=retry_scheduled" in caplog.text
    received = smtp_server.messages
    assert sorted(r.body.strip()[-9:] for r in received) == ["flavour-0", "flavour-1", "flavour-2"]
    assert len({r.message["Message-ID"] for r in received}) == 3
    assert dispatcher.stats.sent == 3


def test_person_of_a_user_row() -> None:
    class Row:
        first_name, last_name, email = "Grace", "Hopper", "grace@example.org"

    assert m.Person.of(Row(), ["USER", "STAFF"]) == STAFF
    assert m.Person.of(Row()).staff is False


async def test_the_installed_plugin_delivers_through_the_dispatcher(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    host = PluginHost()
    host.load_entry_points(allow=["email"])
    dispatcher = NotificationDispatcher.from_plugins(email_settings(smtp_server, tmp_path), host)
    await dispatcher.start()
    notification = m.instance_lifetime(OWNER, INSTANCE, WHEN, LIMITS)
    assert dispatcher.notify(notification)
    assert await dispatcher.join(10)
    await dispatcher.aclose()
    [received] = smtp_server.messages
    assert received.subject.startswith("[VISA] Your instance will soon be deleted")
    assert "14 days" in received.body


async def test_non_ascii_names_and_long_subjects_survive(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    channel = channel_for(email_settings(smtp_server, tmp_path))
    zoe = m.Person("Zoë Ångström", "zoe@example.org")
    await channel.send(m.instance_member_added(zoe, INSTANCE, "GUEST", zoe, LIMITS))  # type: ignore[arg-type]
    [received] = await smtp_server.wait_for(1)
    assert "Dear Zoë Ångström" in received.body
    assert received.subject == "[VISA] You have been added as a member to an instance"


async def test_smtp_down_across_a_restart_with_the_persisted_outbox(
    smtp_server: SmtpServer, tmp_path: Path, db_engine: Any
) -> None:
    from visa_platform.db.engine import session_factory
    from visa_platform.notifications.outbox import OutboxStore

    def dispatcher() -> NotificationDispatcher:
        return NotificationDispatcher(
            {"email": channel_for(email_settings(smtp_server, tmp_path))},
            store=OutboxStore(session_factory(db_engine)),
            first_delay=0.05,
            max_delay=0.1,
            poll_interval=0.02,
        )

    await smtp_server.stop()
    first = dispatcher()
    await first.start()
    expiring = m.instance_expiring(OWNER, INSTANCE, WHEN, LIMITS)
    assert first.notify(expiring)
    for _ in range(500):
        if first.stats.failed_attempts:
            break
        await asyncio.sleep(0.01)
    await first.aclose(grace=0.05)  # the process stops while the SMTP server is down
    assert smtp_server.messages == []

    await smtp_server.start()
    second = dispatcher()
    await second.start()
    assert await second.join(10)
    await second.aclose()
    [received] = smtp_server.messages
    assert received.message["Message-ID"] == f"<{expiring.id}@visa>"  # type: ignore[union-attr]
    assert received.subject == "[VISA] Your instance will soon expire due to inactivity"
