"""The `visa` command, run as a real process, as an operator would."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from visa_platform.db.migrate import head_revision
from visa_platform.testing.databases import TestDatabase
from visa_platform.testing.plugins import PluginSite

VISA = [sys.executable, "-m", "visa_platform.cli.main"]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VISA_")}
    env.update(extra)
    return env


def db_env(db: TestDatabase, tmp_path: Path) -> dict[str, str]:
    return clean_env(
        VISA_DATABASE_URL=db.url,
        VISA_DATABASE_SCHEMA=db.schema,
        VISA_DATA_DIR=str(tmp_path),
        VISA_ACCOUNTS_STATIC_ALLOW_POSTGRESQL="true",
    )


def visa(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VISA, *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_json(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.mark.slow
def test_serve_migrates_then_answers_health_and_stops_cleanly(
    test_database: TestDatabase, tmp_path: Path
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*VISA, "serve", "--port", str(port)],
        env=db_env(test_database, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status: int | None = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                status, body = get_json(f"http://127.0.0.1:{port}/api/health")
                break
            except OSError:
                time.sleep(0.2)
        assert status == 200, process.stdout.read() if process.poll() is not None else status
        assert body["data"]["databaseState"] == {"status": "OK", "message": None}  # type: ignore[index]
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Traceback" not in output
    # first start on the static provider: the administrator's token is printed once
    token = visa("accounts", "token", env=db_env(test_database, tmp_path)).stdout.strip()
    assert f"Bearer {token}" in output and len(token) >= 32
    assert f"revision={head_revision()}" in output
    current = visa("db", "current", env=db_env(test_database, tmp_path))
    assert current.stdout.strip() == f"{head_revision()} (head)"


def test_serve_without_migration_refuses_an_unmigrated_database(
    test_database: TestDatabase, tmp_path: Path
) -> None:
    result = visa(
        "serve", "--no-migrate", "--port", str(free_port()), env=db_env(test_database, tmp_path)
    )
    assert result.returncode == 1
    assert "visa: migration failed: the database schema is at nothing" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_and_current(test_database: TestDatabase, tmp_path: Path) -> None:
    env = db_env(test_database, tmp_path)
    head = head_revision()
    assert (
        visa("db", "current", env=env).stdout.strip() == f"none (empty database; newest is {head})"
    )
    first = visa("db", "upgrade", env=env)
    assert first.returncode == 0, first.stderr
    assert f"upgraded from an empty schema to {head}" in first.stdout
    second = visa("db", "upgrade", env=env)
    assert f"already at {head}" in second.stdout
    assert visa("db", "current", env=env).stdout.strip() == f"{head} (head)"


def test_embedded_default_is_a_sqlite_file_under_the_data_dir(tmp_path: Path) -> None:
    env = clean_env(VISA_DATA_DIR=str(tmp_path / "var"))
    result = visa("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "var" / "visa.db").is_file()
    assert f"sqlite+aiosqlite:///{tmp_path / 'var' / 'visa.db'}" in result.stdout


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    env = clean_env(
        VISA_DATABASE_URL="postgresql://nobody:hunter2@127.0.0.1:9/visa",
        VISA_ACCOUNTS_STATIC_ALLOW_POSTGRESQL="true",
        VISA_DATA_DIR=str(tmp_path),
    )
    for args in (["db", "current"], ["serve", "--port", str(free_port())]):
        result = visa(*args, env=env)
        assert result.returncode == 1
        expected = (
            "visa: cannot reach the database at postgresql+asyncpg://nobody:***@127.0.0.1:9/visa:"
        )
        assert any(line.startswith(expected) for line in result.stderr.splitlines()), result.stderr
        assert "hunter2" not in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "accounts.toml").exists()  # nothing is created before the database


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VISA_SERVER_PORT", "eighty"),
        ("VISA_INSTANCE_USER_DEFAULT_QUOTA", "lots"),
        ("VISA_DATABASE_URL", "mysql://localhost/visa"),
    ],
)
def test_bad_configuration_names_the_variable(variable: str, value: str) -> None:
    result = visa("config", "show", env=clean_env(**{variable: value}))
    assert result.returncode == 2
    assert result.stderr.startswith("visa: configuration error:")
    assert variable in result.stderr
    assert "Traceback" not in result.stderr
    # the server refuses to start on the same configuration
    assert visa("serve", env=clean_env(**{variable: value})).returncode == 2


def test_config_show_masks_secrets(tmp_path: Path) -> None:
    config_file = tmp_path / "visa.toml"
    config_file.write_text("server_port = 9999\n")
    env = clean_env(
        VISA_CLOUD_APPLICATION_SECRET="s3cret-value",
        VISA_DATABASE_URL="postgresql://visa:pa55word@db.example/visa",
    )
    result = visa("--config", str(config_file), "config", "show", "--json", env=env)
    assert result.returncode == 0, result.stderr
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["VISA_SERVER_PORT"] == {
        "name": "VISA_SERVER_PORT",
        "value": "9999",
        "source": "file",
    }
    assert rows["VISA_CLOUD_APPLICATION_SECRET"]["value"] == "********"
    assert rows["VISA_INSTANCE_USER_MAX_LIFETIME_DURATION_HOURS"]["value"] == "336"
    assert "s3cret-value" not in result.stdout and "pa55word" not in result.stdout
    table = visa("--config", str(config_file), "config", "show", env=env)
    assert "VISA_SERVER_PORT" in table.stdout and "(file)" in table.stdout


def test_plugins_list_shows_loaded_and_broken_plugins(
    plugin_site: PluginSite, tmp_path: Path
) -> None:
    plugin_site.install(
        "visa-broken",
        entry_points={"broken": "visa_broken"},
        modules={"visa_broken": "raise ImportError('needs libfoo')\n"},
    )
    plugin_site.install(
        "visa-hello",
        version="0.3.0",
        entry_points={"hello": "visa_hello"},
        modules={
            "visa_hello": """
            import click
            from visa_platform.plugin import hookimpl

            @click.command("hello")
            def hello():
                click.echo("hello from a plugin")

            @hookimpl
            def visa_register_commands(cli):
                cli.add_command(hello)
            """
        },
    )
    env = clean_env(PYTHONPATH=str(plugin_site.root))
    result = visa("plugins", "list", env=env)
    assert result.returncode == 0, result.stderr
    assert "broken 1.0.0 [visa-broken]  failed" in result.stdout
    assert "error: import failed: ImportError: needs libfoo" in result.stdout
    assert "hello 0.3.0 [visa-hello]  loaded" in result.stdout
    assert "eventlog" in result.stdout
    assert visa("hello", env=env).stdout == "hello from a plugin\n"
    as_json = json.loads(visa("plugins", "list", "--json", env=env).stdout)
    assert {p["name"]: p["status"] for p in as_json}["broken"] == "failed"
    denied = visa("plugins", "list", env={**env, "VISA_PLUGINS_DENY": "broken"})
    assert "broken 1.0.0 [visa-broken]  disabled" in denied.stdout


def test_static_provider_on_postgresql_needs_to_be_allowed(tmp_path: Path) -> None:
    env = clean_env(
        VISA_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test", VISA_DATA_DIR=str(tmp_path)
    )
    result = visa("serve", "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert "VISA_ACCOUNTS_PROVIDER: the static account provider is for trials" in result.stderr
    assert not (tmp_path / "accounts.toml").exists()
