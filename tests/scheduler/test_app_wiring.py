"""The application opens the cloud clients and (when enabled) the scheduler, and closes them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from quart.testing.app import LifespanError

from visa_platform.app import create_app
from visa_platform.config import ConfigError
from visa_platform.plugin import PluginHost
from visa_platform.runtime import runtime
from visa_platform.scheduler.jobs import PERIODS, EngineScheduler
from visa_platform.services.cloud_clients import check_default_cloud


async def test_clouds_and_scheduler_live_with_the_app(settings: Any, db_engine: Any) -> None:
    enabled = settings.model_copy(update={"scheduler_enabled": True})
    app = create_app(enabled)
    state = runtime(app)
    async with app.test_app():
        assert state.clouds is not None
        # default cloud type openstack with nothing configured: no default cloud, no error
        assert state.clouds.default is None and None in state.clouds.errors
        assert isinstance(state.scheduler, EngineScheduler)
        assert set(state.scheduler.scheduler.jobs) == set(PERIODS)
        assert PERIODS["instance_commands"] == 2 and PERIODS["instance_states"] == 60
    assert state.scheduler is None and state.clouds is None


async def test_scheduler_disabled_by_the_setting(settings: Any, db_engine: Any) -> None:
    app = create_app(settings.model_copy(update={"default_cloud_provider_type": None}))
    async with app.test_app():
        assert runtime(app).scheduler is None
        assert len(runtime(app).clouds) == 1  # the null cloud


async def test_unknown_default_cloud_type_is_one_clear_error(settings: Any, db_engine: Any) -> None:
    app = create_app(
        settings.model_copy(update={"default_cloud_provider_type": "nimbus"}),
        plugins=PluginHost(),
    )
    with pytest.raises(LifespanError, match="VISA_DEFAULT_CLOUD_PROVIDER_TYPE: unknown compute"):
        async with app.test_app():
            pass
    assert runtime(app).engine is None  # everything opened was closed again


async def test_misconfigured_default_cloud_names_the_variables(
    settings: Any, db_engine: Any
) -> None:
    broken = settings.model_copy(
        update={"cloud_identity_endpoint": "ftp://keystone", "cloud_application_id": "x"}
    )
    with pytest.raises(ConfigError) as caught:
        await check_default_cloud(broken, PluginHost.from_settings(broken).compute_backends)
    message = str(caught.value)
    assert message.startswith("VISA_DEFAULT_CLOUD_PROVIDER_TYPE=openstack: the default cloud")
    assert "VISA_CLOUD_IDENTITY_ENDPOINT" in message and "\n" not in message
    with pytest.raises(LifespanError, match="the default cloud is misconfigured"):
        async with create_app(broken).test_app():
            pass


def test_visa_serve_refuses_a_misconfigured_default_cloud(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env.update(VISA_DATA_DIR=str(tmp_path), VISA_DEFAULT_CLOUD_PROVIDER_TYPE="nimbus")
    result = subprocess.run(
        [sys.executable, "-m", "visa_platform.cli.main", "serve", "--port", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "VISA_DEFAULT_CLOUD_PROVIDER_TYPE: unknown compute backend 'nimbus'" in result.stderr
    assert "Traceback" not in result.stderr


async def test_notifications_live_with_the_app(
    settings: Any, db_engine: Any, smtp_server: Any
) -> None:
    from visa_platform.notifications import messages as m

    emailing = settings.model_copy(
        update={
            "notification_email_adapter_enabled": True,
            "notification_email_adapter_host": "127.0.0.1",
            "notification_email_adapter_port": smtp_server.port,
            "notification_email_adapter_from_email_address": "visa@example.org",
        }
    )
    quiet = create_app(settings)  # no channel: no worker, the outbox table is never polled
    async with quiet.test_app():
        assert runtime(quiet).notifications.channels == {}
        assert not [t for t in asyncio.all_tasks() if t.get_name().startswith("visa-notif")]

    app = create_app(emailing)
    state = runtime(app)
    assert state.notifications.channels == {}  # not serving: nothing can be sent
    async with app.test_app():
        assert set(state.notifications.channels) == {"email"}
        person = m.Person("Ada Lovelace", "ada@example.org")
        assert state.notifications.notify(
            m.instance_member_added(
                person, m.InstanceInfo(1, "uid1", "analysis"), "USER", person, m.Limits()
            )
        )
        (received,) = await smtp_server.wait_for(1)
        assert received.subject == "[VISA] You have been added as a member to an instance"
