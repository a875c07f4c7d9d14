"""Settings: VISA's variable names and defaults, database URLs, the config file, errors, masking."""

from __future__ import annotations

import json
import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from visa_platform.config import (
    MASK,
    OUR_SETTINGS,
    ConfigError,
    DefaultVdiProtocol,
    KeyboardLayout,
    LogLevel,
    OwnerDisconnectionPolicy,
    Settings,
    StartTls,
    SyslogType,
    describe,
    env_var,
    load_settings,
)

DOCS = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"

# Every variable of spec/domain.md §8 (VISA 3.8's application.yml), name for name.
VISA_VARIABLES = {
    "VISA_SERVER_PORT",
    "VISA_SERVER_HOST",
    "VISA_CORS_ORIGIN",
    "VISA_LOGGING_ACCESS_LOG_ENABLED",
    "VISA_VERTX_WARNING_EXCEPTION_TIME",
    "VISA_SCHEDULER_ENABLED",
    "VISA_ROOT_URL",
    "VISA_DATABASE_URL",
    "VISA_DATABASE_USERNAME",
    "VISA_DATABASE_PASSWORD",
    "VISA_DATABASE_VERSION",
    "VISA_DATABASE_MIN_POOL_SIZE",
    "VISA_DATABASE_MAX_POOL_SIZE",
    "VISA_LOGGING_SQL_ENABLED",
    "VISA_ACCOUNTS_SERVICE_CLIENT_URL",
    "VISA_INSTANCE_USER_MAX_LIFETIME_DURATION_HOURS",
    "VISA_INSTANCE_STAFF_MAX_LIFETIME_DURATION_HOURS",
    "VISA_INSTANCE_USER_MAX_INACTIVITY_DURATION_HOURS",
    "VISA_INSTANCE_STAFF_MAX_INACTIVITY_DURATION_HOURS",
    "VISA_INSTANCE_USER_DEFAULT_QUOTA",
    "VISA_INSTANCE_ACTIVITY_RETENTION_PERIOD_DAYS",
    "VISA_INSTANCE_PORT_CHECK_TIMEOUT_MS",
    "VISA_INSTANCE_DEFAULT_PROTOCOL",
    "VISA_INSTANCE_PUBLIC_ACCESS_TOKEN_ENABLED",
    "VISA_SECURITY_GROUP_SERVICE_CLIENT_ENABLED",
    "VISA_SECURITY_GROUP_SERVICE_CLIENT_URL",
    "VISA_SECURITY_GROUP_SERVICE_CLIENT_AUTH_TOKEN",
    "VISA_VDI_SIGNATURE_PRIVATE_KEY_PATH",
    "VISA_VDI_SIGNATURE_PUBLIC_KEY_PATH",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_ENABLED",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_MOCKED",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_HOST",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_PORT",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_TLS",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_START_TLS",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_FROM_EMAIL_ADDRESS",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_BCC_EMAIL_ADDRESS",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_ADMIN_EMAIL_ADDRESS",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_DEV_EMAIL_ADDRESS",
    "VISA_NOTIFICATION_EMAIL_ADAPTER_TEMPLATES_DIRECTORY",
    "VISA_LOGGING_EMAIL_APPENDER_ENABLED",
    "VISA_LOGGING_EMAIL_APPENDER_MOCKED",
    "VISA_LOGGING_EMAIL_APPENDER_HOST",
    "VISA_LOGGING_EMAIL_APPENDER_PORT",
    "VISA_LOGGING_EMAIL_APPENDER_TLS",
    "VISA_LOGGING_EMAIL_APPENDER_START_TLS",
    "VISA_LOGGING_EMAIL_APPENDER_RECIPIENT_ADDRESS",
    "VISA_LOGGING_EMAIL_APPENDER_FROM_ADDRESS",
    "VISA_LOGGING_EMAIL_SUBJECT",
    "VISA_LOGGING_EMAIL_MAX_ERRORS",
    "VISA_LOGGING_LEVEL",
    "VISA_LOGGING_FILE_ENABLED",
    "VISA_LOGGING_FILE_DIRECTORY",
    "VISA_LOGGING_FILE_FORMAT",
    "VISA_LOGGING_FILE_THRESHOLD",
    "VISA_LOGGING_FILE_MAX_FILE_SIZE",
    "VISA_LOGGING_FILE_ARCHIVED_FILE_COUNT",
    "VISA_LOGGING_SYSLOG_ENABLED",
    "VISA_LOGGING_SYSLOG_TYPE",
    "VISA_LOGGING_SYSLOG_ENDPOINT",
    "VISA_LOGGING_SYSLOG_FORMAT",
    "VISA_LOGGING_SYSLOG_APP_NAME",
    "VISA_LOGGING_SYSLOG_FACILITY",
    "VISA_LOGGING_SYSLOG_THRESHOLD",
    "VISA_CLOUD_DEFAULT_PROVIDER_ENABLED",
    "VISA_DEFAULT_CLOUD_PROVIDER_TYPE",
    "VISA_DEFAULT_CLOUD_PROVIDER_NAME",
    "VISA_CLOUD_SERVER_NAME_PREFIX",
    "VISA_CLOUD_REST_CLIENT_CONNECT_TIMEOUT_MS",
    "VISA_CLOUD_REST_CLIENT_READ_TIMEOUT_MS",
    "VISA_CLOUD_IDENTITY_ENDPOINT",
    "VISA_CLOUD_COMPUTE_ENDPOINT",
    "VISA_CLOUD_PLACEMENT_ENDPOINT",
    "VISA_CLOUD_IMAGE_ENDPOINT",
    "VISA_CLOUD_NETWORK_ENDPOINT",
    "VISA_CLOUD_APPLICATION_ID",
    "VISA_CLOUD_APPLICATION_SECRET",
    "VISA_CLOUD_ADDRESS_PROVIDER",
    "VISA_CLOUD_ADDRESS_PROVIDER_UUID",
    "VISA_CLOUD_WEB_PROVIDER_URL",
    "VISA_CLOUD_WEB_PROVIDER_AUTH_TOKEN",
    "VISA_VDI_REDIS_ENABLED",
    "VISA_VDI_REDIS_URL",
    "VISA_VDI_REDIS_PASSWORD",
    "VISA_VDI_REDIS_DATABASE",
    "VISA_VDI_REDIS_HEALTH_MONITOR_ENABLED",
    "VISA_VDI_REDIS_TLS_ENABLED",
    "VISA_VDI_REDIS_TLS_TRUST_ALL",
    "VISA_VDI_ENABLED",
    "VISA_VDI_OWNER_DISCONNECTION_POLICY",
    "VISA_VDI_CLEANUP_SESSIONS_ON_STARTUP",
    "VISA_VDI_MAX_SESSION_INACTIVITY_TIME_MINUTES",
    "VISA_VDI_GUACD_PARAMETER_PROTOCOL",
    "VISA_VDI_GUACD_PARAMETER_IGNORE_CERT",
    "VISA_VDI_GUACD_PARAMETER_PORT",
    "VISA_VDI_GUACD_PARAMETER_COLOR_DEPTH",
    "VISA_VDI_WEBX_ENGINE_RUNTIME_MAX_QUALITY_INDEX",
    "VISA_VDI_WEBX_ENGINE_LOG_LEVEL",
    "VISA_CLIENT_CONFIG_LOGIN_ISSUER",
    "VISA_CLIENT_CONFIG_LOGIN_CLIENT_ID",
    "VISA_CLIENT_CONFIG_LOGIN_SCOPE",
    "VISA_CLIENT_CONFIG_LOGIN_SHOW_DEBUG_INFORMATION",
    "VISA_CLIENT_CONFIG_LOGIN_SESSION_CHECKS_ENABLED",
    "VISA_CLIENT_CONFIG_ANALYTICS_ENABLED",
    "VISA_CLIENT_CONFIG_ANALYTICS_URL",
    "VISA_CLIENT_CONFIG_ANALYTICS_SITE_ID",
    "VISA_CLIENT_CONFIG_DESKTOP_ALLOWED_CLIPBOARD_URL_HOSTS",
    "VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS",
    "VISA_CLIENT_CONFIG_CONTACT_EMAIL",
    "VISA_CLIENT_CONFIG_INCLUDE_OPEN_DATA",
}
OUR_VARIABLES = {
    "VISA_CONFIG_FILE",
    "VISA_DATA_DIR",
    "VISA_SERVER_WEBSOCKET_COMPRESSION",
    "VISA_DATABASE_SCHEMA",
    "VISA_DATABASE_AUTO_MIGRATE",
    "VISA_PLUGINS_ALLOW",
    "VISA_PLUGINS_DENY",
    "VISA_ACCOUNTS_PROVIDER",
    "VISA_ACCOUNTS_REQUEST_TIMEOUT_MS",
    "VISA_ACCOUNTS_STATIC_FILE",
    "VISA_ACCOUNTS_STATIC_ALLOW_POSTGRESQL",
    "VISA_ACCOUNTS_OIDC_ISSUER",
    "VISA_ACCOUNTS_OIDC_AUDIENCE",
    "VISA_ACCOUNTS_OIDC_JWKS_URL",
    "VISA_ACCOUNTS_OIDC_ALGORITHMS",
    "VISA_ACCOUNTS_OIDC_LEEWAY_SECONDS",
    "VISA_ACCOUNTS_OIDC_USER_ID_CLAIM",
    "VISA_ACCOUNTS_OIDC_USERNAME_CLAIM",
    "VISA_ACCOUNTS_OIDC_FIRST_NAME_CLAIM",
    "VISA_ACCOUNTS_OIDC_LAST_NAME_CLAIM",
    "VISA_ACCOUNTS_OIDC_EMAIL_CLAIM",
    "VISA_GRAPHQL_MAX_DEPTH",
    "VISA_GRAPHQL_MAX_COST",
    "VISA_GRAPHQL_INTROSPECTION_ENABLED",
    "VISA_VDI_REDIS_CHANNEL",
}


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No VISA_* variable from the real environment; relative paths land in tmp_path."""
    for key in list(os.environ):
        if key.upper().startswith("VISA_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


def problems_of(excinfo: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    return str(excinfo.value).splitlines()


def shown(settings: Settings) -> dict[str, tuple[str, str]]:
    return {entry.env_var: (entry.value, entry.source) for entry in describe(settings)}


# --- Names and defaults --------------------------------------------------------------------


def test_every_visa_variable_is_a_setting_and_nothing_else() -> None:
    names = {entry.env_var for entry in describe(load_settings())}
    assert names == VISA_VARIABLES | OUR_VARIABLES
    assert {env_var(name) for name in OUR_SETTINGS} == OUR_VARIABLES


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("VISA_SERVER_PORT", "8086"),
        ("VISA_SERVER_HOST", "localhost"),
        ("VISA_CORS_ORIGIN", "*"),
        ("VISA_VERTX_WARNING_EXCEPTION_TIME", "10S"),
        ("VISA_DATABASE_MIN_POOL_SIZE", "1"),
        ("VISA_DATABASE_MAX_POOL_SIZE", "20"),
        ("VISA_INSTANCE_USER_MAX_LIFETIME_DURATION_HOURS", "336"),
        ("VISA_INSTANCE_STAFF_MAX_LIFETIME_DURATION_HOURS", "1440"),
        ("VISA_INSTANCE_USER_MAX_INACTIVITY_DURATION_HOURS", "96"),
        ("VISA_INSTANCE_STAFF_MAX_INACTIVITY_DURATION_HOURS", "192"),
        ("VISA_INSTANCE_USER_DEFAULT_QUOTA", "2"),
        ("VISA_INSTANCE_ACTIVITY_RETENTION_PERIOD_DAYS", "0"),
        ("VISA_INSTANCE_PORT_CHECK_TIMEOUT_MS", "5000"),
        ("VISA_INSTANCE_DEFAULT_PROTOCOL", "GUACD"),
        ("VISA_INSTANCE_PUBLIC_ACCESS_TOKEN_ENABLED", "true"),
        ("VISA_SECURITY_GROUP_SERVICE_CLIENT_ENABLED", "false"),
        ("VISA_NOTIFICATION_EMAIL_ADAPTER_HOST", "change.mail.com"),
        ("VISA_NOTIFICATION_EMAIL_ADAPTER_PORT", "25"),
        ("VISA_NOTIFICATION_EMAIL_ADAPTER_START_TLS", "DISABLED"),
        ("VISA_NOTIFICATION_EMAIL_ADAPTER_TEMPLATES_DIRECTORY", "emails/templates/"),
        ("VISA_LOGGING_EMAIL_MAX_ERRORS", "50"),
        ("VISA_LOGGING_FILE_DIRECTORY", "/tmp"),
        ("VISA_LOGGING_FILE_FORMAT", "%d %-5p [%c] (%t) %s%e%n"),
        ("VISA_LOGGING_FILE_MAX_FILE_SIZE", "100M"),
        ("VISA_LOGGING_FILE_ARCHIVED_FILE_COUNT", "0"),
        ("VISA_LOGGING_SYSLOG_ENABLED", "false"),
        ("VISA_LOGGING_SYSLOG_TYPE", "rfc3164"),
        ("VISA_LOGGING_SYSLOG_ENDPOINT", "change.logs.com:514"),
        ("VISA_LOGGING_SYSLOG_FORMAT", "[%-5p] [%c{3.}] (%t) %s%e%n"),
        ("VISA_LOGGING_SYSLOG_FACILITY", "local-use-0"),
        ("VISA_CLOUD_DEFAULT_PROVIDER_ENABLED", "true"),
        ("VISA_DEFAULT_CLOUD_PROVIDER_TYPE", "openstack"),
        ("VISA_DEFAULT_CLOUD_PROVIDER_NAME", "Default"),
        ("VISA_CLOUD_SERVER_NAME_PREFIX", "VISA-INSTANCE"),
        ("VISA_CLOUD_REST_CLIENT_CONNECT_TIMEOUT_MS", "15000"),
        ("VISA_CLOUD_REST_CLIENT_READ_TIMEOUT_MS", "30000"),
        ("VISA_CLOUD_IDENTITY_ENDPOINT", ""),
        ("VISA_VDI_REDIS_ENABLED", "false"),
        ("VISA_VDI_REDIS_DATABASE", "0"),
        ("VISA_VDI_REDIS_HEALTH_MONITOR_ENABLED", "true"),
        ("VISA_VDI_OWNER_DISCONNECTION_POLICY", "DISCONNECT_ALL"),
        ("VISA_VDI_MAX_SESSION_INACTIVITY_TIME_MINUTES", "360"),
        ("VISA_VDI_GUACD_PARAMETER_PROTOCOL", "rdp"),
        ("VISA_VDI_GUACD_PARAMETER_IGNORE_CERT", "true"),
        ("VISA_VDI_GUACD_PARAMETER_PORT", "3389"),
        ("VISA_VDI_GUACD_PARAMETER_COLOR_DEPTH", "16"),
        ("VISA_VDI_WEBX_ENGINE_RUNTIME_MAX_QUALITY_INDEX", "10"),
        ("VISA_VDI_WEBX_ENGINE_LOG_LEVEL", "debug"),
        ("VISA_CLIENT_CONFIG_LOGIN_SCOPE", "openid offline_access"),
        ("VISA_CLIENT_CONFIG_LOGIN_SESSION_CHECKS_ENABLED", "true"),
        ("VISA_CLIENT_CONFIG_DESKTOP_ALLOWED_CLIPBOARD_URL_HOSTS", "[]"),
        ("VISA_CLIENT_CONFIG_INCLUDE_OPEN_DATA", "false"),
        ("VISA_DATA_DIR", "data"),
        ("VISA_DATABASE_SCHEMA", "visa"),
        ("VISA_DATABASE_AUTO_MIGRATE", "true"),
        ("VISA_PLUGINS_ALLOW", ""),
        ("VISA_PLUGINS_DENY", ""),
    ],
)
def test_default(variable: str, value: str) -> None:
    assert shown(load_settings())[variable] == (value, "default")


def test_defaults_are_typed() -> None:
    settings = load_settings()
    assert settings.server_port == 8086
    assert settings.instance_user_max_lifetime_duration_hours == 336
    assert settings.instance_default_protocol is DefaultVdiProtocol.GUACD
    assert settings.vdi_owner_disconnection_policy is OwnerDisconnectionPolicy.DISCONNECT_ALL
    assert settings.logging_syslog_type is SyslogType.RFC3164
    assert settings.vertx_warning_exception_time == timedelta(seconds=10)
    assert settings.logging_file_max_file_size == 100 * 1024 * 1024
    layouts = settings.client_config_desktop_keyboard_layouts
    assert [k.layout for k in layouts if k.selected] == ["en-gb-qwerty"] and len(layouts) == 8
    assert settings.plugins_allow is None
    assert settings.plugins_deny == []
    assert settings.database_password is None


# --- Environment ---------------------------------------------------------------------------


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISA_SERVER_PORT", "9000")
    monkeypatch.setenv("VISA_SCHEDULER_ENABLED", "false")
    monkeypatch.setenv("VISA_INSTANCE_USER_DEFAULT_QUOTA", "5")
    monkeypatch.setenv("VISA_VDI_OWNER_DISCONNECTION_POLICY", "lock_room")
    monkeypatch.setenv("VISA_NOTIFICATION_EMAIL_ADAPTER_START_TLS", "REQUIRED")
    monkeypatch.setenv("VISA_LOGGING_LEVEL", "debug")
    monkeypatch.setenv("VISA_PLUGINS_ALLOW", "core, openstack,,guacamole")
    monkeypatch.setenv("VISA_PLUGINS_DENY", '["kubernetes"]')
    monkeypatch.setenv("VISA_VDI_SIGNATURE_PRIVATE_KEY_PATH", "/etc/visa/private.pem")
    settings = load_settings()
    assert settings.server_port == 9000
    assert settings.scheduler_enabled is False
    assert settings.instance_user_default_quota == 5
    assert settings.vdi_owner_disconnection_policy is OwnerDisconnectionPolicy.LOCK_ROOM
    assert settings.notification_email_adapter_start_tls is StartTls.REQUIRED
    assert settings.logging_level is LogLevel.DEBUG
    assert settings.plugins_allow == ["core", "openstack", "guacamole"]
    assert settings.plugins_deny == ["kubernetes"]
    assert settings.vdi_signature_private_key_path == Path("/etc/visa/private.pem")
    assert shown(settings)["VISA_SERVER_PORT"] == ("9000", "env")
    assert shown(settings)["VISA_PLUGINS_ALLOW"] == ("core,openstack,guacamole", "env")


def test_explicit_environ_mapping_replaces_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISA_SERVER_PORT", "9000")
    assert load_settings(environ={"VISA_SERVER_PORT": "9001"}).server_port == 9001
    assert load_settings(environ={}).server_port == 8086


def test_client_lists_are_json(monkeypatch: pytest.MonkeyPatch) -> None:
    layouts = [
        {"layout": "en-gb-qwerty", "name": "English (UK)", "selected": True},
        {"layout": "fr-fr-azerty", "name": "French"},
    ]
    monkeypatch.setenv("VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS", json.dumps(layouts))
    monkeypatch.setenv(
        "VISA_CLIENT_CONFIG_DESKTOP_ALLOWED_CLIPBOARD_URL_HOSTS",
        '[{"host": "data.example.org", "https": true}]',
    )
    settings = load_settings()
    assert settings.client_config_desktop_keyboard_layouts == [
        KeyboardLayout(layout="en-gb-qwerty", name="English (UK)", selected=True),
        KeyboardLayout(layout="fr-fr-azerty", name="French", selected=False),
    ]
    assert settings.client_config_desktop_allowed_clipboard_url_hosts[0].host == "data.example.org"
    assert settings.client_config_desktop_allowed_clipboard_url_hosts[0].https is True
    value, source = shown(settings)["VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS"]
    assert json.loads(value)[1] == {"layout": "fr-fr-azerty", "name": "French", "selected": False}
    assert source == "env"


@pytest.mark.parametrize("literal", ["null", "NULL", "", "  "])
def test_null_or_empty_unsets_cloud_settings(monkeypatch: pytest.MonkeyPatch, literal: str) -> None:
    monkeypatch.setenv("VISA_CLOUD_IDENTITY_ENDPOINT", literal)
    monkeypatch.setenv("VISA_CLOUD_APPLICATION_SECRET", literal)
    monkeypatch.setenv("VISA_DEFAULT_CLOUD_PROVIDER_TYPE", literal)
    settings = load_settings()
    assert settings.cloud_identity_endpoint is None
    assert settings.cloud_application_secret is None
    assert settings.default_cloud_provider_type is None  # VISA's "null" provider: no cloud


def test_null_is_only_special_for_cloud_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISA_ROOT_URL", "null")
    monkeypatch.setenv("VISA_CLIENT_CONFIG_CONTACT_EMAIL", "")
    settings = load_settings()
    assert settings.root_url == "null"
    assert settings.client_config_contact_email is None


def test_cloud_provider_type_is_a_backend_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISA_DEFAULT_CLOUD_PROVIDER_TYPE", "Kubernetes")
    assert load_settings().default_cloud_provider_type == "kubernetes"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10S", timedelta(seconds=10)),
        ("500ms", timedelta(milliseconds=500)),
        ("3", timedelta(seconds=3)),
        ("2m", timedelta(minutes=2)),
        ("PT1H", timedelta(hours=1)),
    ],
)
def test_quarkus_durations(monkeypatch: pytest.MonkeyPatch, text: str, expected: timedelta) -> None:
    monkeypatch.setenv("VISA_VERTX_WARNING_EXCEPTION_TIME", text)
    assert load_settings().vertx_warning_exception_time == expected


@pytest.mark.parametrize(("text", "expected"), [("100M", 100 * 1024**2), ("512k", 512 * 1024)])
def test_memory_sizes(monkeypatch: pytest.MonkeyPatch, text: str, expected: int) -> None:
    monkeypatch.setenv("VISA_LOGGING_FILE_MAX_FILE_SIZE", text)
    assert load_settings().logging_file_max_file_size == expected


def test_log_levels_map_to_python() -> None:
    assert LogLevel.WARN.python_level() == logging.WARNING
    assert LogLevel.TRACE.python_level() == logging.DEBUG
    assert LogLevel.OFF.python_level() > logging.CRITICAL


# --- Database URLs -------------------------------------------------------------------------


def test_unset_database_url_is_sqlite_in_data_dir(tmp_path: Path) -> None:
    url = make_url(load_settings().sqlalchemy_url())
    assert url.drivername == "sqlite+aiosqlite"
    assert url.database == str(tmp_path / "data" / "visa.db")
    other = make_url(load_settings(data_dir=tmp_path / "state").sqlalchemy_url())
    assert other.database == str(tmp_path / "state" / "visa.db")


def test_jdbc_url_with_credentials_and_special_characters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISA_DATABASE_URL", "jdbc:postgresql://db.example.org:5433/visa")
    monkeypatch.setenv("VISA_DATABASE_USERNAME", "visa@ill")
    monkeypatch.setenv("VISA_DATABASE_PASSWORD", "p@ss:w/rd%?#")
    settings = load_settings()
    text = settings.sqlalchemy_url()
    assert text.startswith("postgresql+asyncpg://visa%40ill:")
    url = make_url(text)
    assert (url.drivername, url.host, url.port, url.database) == (
        "postgresql+asyncpg",
        "db.example.org",
        5433,
        "visa",
    )
    assert url.username == "visa@ill"
    assert url.password == "p@ss:w/rd%?#"
    assert settings.sqlalchemy_url_masked() == (
        f"postgresql+asyncpg://visa%40ill:{MASK}@db.example.org:5433/visa"
    )


def test_jdbc_url_options() -> None:
    settings = load_settings(
        database_url="jdbc:postgresql://db/visa?currentSchema=visa_prod&ssl=true"
        "&user=etl&password=s3cret&ApplicationName=visa"
    )
    url = make_url(settings.sqlalchemy_url())
    assert settings.database_schema == "visa_prod"
    assert (url.username, url.password) == ("etl", "s3cret")
    assert dict(url.query) == {"ssl": "require"}
    assert shown(settings)["VISA_DATABASE_SCHEMA"] == ("visa_prod", "override")


def test_separate_credentials_win_over_jdbc_parameters() -> None:
    settings = load_settings(
        database_url="jdbc:postgresql://db/visa?user=a&password=b",
        database_username="c",
        database_password="d",
    )
    url = make_url(settings.sqlalchemy_url())
    assert (url.username, url.password) == ("c", "d")


def test_jdbc_short_form_is_localhost() -> None:
    url = make_url(load_settings(database_url="jdbc:postgresql:visa").sqlalchemy_url())
    assert (url.host, url.database) == ("localhost", "visa")


def test_jdbc_schema_conflicting_with_database_schema() -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_settings(database_url="jdbc:postgresql://db/visa?currentSchema=a", database_schema="b")
    assert "VISA_DATABASE_SCHEMA" in str(excinfo.value)
    assert "currentSchema=a" in str(excinfo.value)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/visa", "postgresql+asyncpg://u:p@h:5432/visa"),
        ("postgres://h/visa", "postgresql+asyncpg://h/visa"),
        ("postgresql+asyncpg://h/visa", "postgresql+asyncpg://h/visa"),
        ("sqlite:///rel/visa.db", "sqlite+aiosqlite:///rel/visa.db"),
        ("sqlite+aiosqlite:////abs/visa.db", "sqlite+aiosqlite:////abs/visa.db"),
    ],
)
def test_sqlalchemy_urls_get_async_drivers(given: str, expected: str) -> None:
    assert load_settings(database_url=given).sqlalchemy_url() == expected


def test_credentials_are_merged_into_sqlalchemy_urls() -> None:
    settings = load_settings(
        database_url="postgresql://old@h/visa", database_username="new", database_password="a b"
    )
    url = make_url(settings.sqlalchemy_url())
    assert (url.drivername, url.username, url.password) == ("postgresql+asyncpg", "new", "a b")


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("mysql://h/visa", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://h/visa", "unsupported database"),
        ("jdbc:mysql://h/visa", "only jdbc:postgresql:"),
        ("jdbc:postgresql://h1:5432,h2:5432/visa", "several hosts"),
        ("not a url", "not a database URL"),
        ("postgresql://h:port/visa", "not a database URL"),
    ],
)
def test_unsupported_database_urls(given: str, reason: str) -> None:
    with pytest.raises(ConfigError) as excinfo:
        load_settings(database_url=given)
    [problem] = problems_of(excinfo)
    assert problem.startswith("VISA_DATABASE_URL: ")
    assert reason in problem


# --- Config file ---------------------------------------------------------------------------


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_config_file_keys_tables_and_lists(tmp_path: Path) -> None:
    config = write(
        tmp_path / "visa.toml",
        """
server_port = 9000
VISA_SCHEDULER_ENABLED = false
plugins_deny = ["kubernetes"]

[instance]
user_default_quota = 4

[[client_config_desktop_keyboard_layouts]]
layout = "en-gb-qwerty"
name = "English (UK)"
selected = true
""",
    )
    settings = load_settings(config)
    assert settings.server_port == 9000
    assert settings.scheduler_enabled is False
    assert settings.plugins_deny == ["kubernetes"]
    assert settings.instance_user_default_quota == 4
    assert settings.client_config_desktop_keyboard_layouts[0].selected is True
    assert settings.config_file == config
    rows = shown(settings)
    assert rows["VISA_SERVER_PORT"] == ("9000", "file")
    assert rows["VISA_INSTANCE_USER_DEFAULT_QUOTA"] == ("4", "file")
    assert rows["VISA_CONFIG_FILE"] == (str(config), "override")
    assert rows["VISA_INSTANCE_USER_MAX_LIFETIME_DURATION_HOURS"] == ("336", "default")


def test_config_file_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write(tmp_path / "visa.toml", "server_port = 9000\n")
    monkeypatch.setenv("VISA_CONFIG_FILE", "visa.toml")  # relative to the working directory
    settings = load_settings()
    assert settings.server_port == 9000
    assert shown(settings)["VISA_CONFIG_FILE"] == ("visa.toml", "env")


def test_precedence_override_environment_file_default(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = write(
        tmp_path / "visa.toml",
        "server_port = 9001\nserver_host = 'file-host'\ncors_origin = 'https://file'\n",
    )
    monkeypatch.setenv("VISA_SERVER_PORT", "9002")
    monkeypatch.setenv("VISA_SERVER_HOST", "env-host")
    settings = load_settings(config, server_port=9003)
    rows = shown(settings)
    assert rows["VISA_SERVER_PORT"] == ("9003", "override")
    assert rows["VISA_SERVER_HOST"] == ("env-host", "env")
    assert rows["VISA_CORS_ORIGIN"] == ("https://file", "file")
    assert rows["VISA_ROOT_URL"] == ("", "default")


def test_unknown_key_in_file_names_key_and_file(tmp_path: Path) -> None:
    config = write(tmp_path / "visa.toml", "server_port = 1\nserver_prot = 2\n[vdi]\nenabeld = 1\n")
    with pytest.raises(ConfigError) as excinfo:
        load_settings(config)
    assert problems_of(excinfo) == [
        f"server_prot: unknown setting in config file {config}",
        f"vdi_enabeld: unknown setting in config file {config}",
    ]


def test_file_may_not_set_a_key_twice_or_name_another_file(tmp_path: Path) -> None:
    config = write(
        tmp_path / "visa.toml", "server_port = 1\nVISA_SERVER_PORT = 2\nconfig_file = 'x'\n"
    )
    with pytest.raises(ConfigError) as excinfo:
        load_settings(config)
    problems = problems_of(excinfo)
    assert len(problems) == 2
    assert problems[0].startswith("VISA_SERVER_PORT: set twice")
    assert problems[1].startswith("config_file: a config file cannot name another")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("server_port = ", "is not valid TOML"),
        (b"server_host = '\xff'", "is not valid TOML"),
    ],
)
def test_missing_or_invalid_file(tmp_path: Path, content: str | bytes | None, message: str) -> None:
    config = tmp_path / "visa.toml"
    if isinstance(content, bytes):
        config.write_bytes(content)
    elif content is not None:
        config.write_text(content)
    with pytest.raises(ConfigError) as excinfo:
        load_settings(config)
    [problem] = problems_of(excinfo)
    assert problem.startswith(f"VISA_CONFIG_FILE: config file {config} ")
    assert message in problem


def test_directory_as_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"VISA_CONFIG_FILE: .* is a directory"):
        load_settings(tmp_path)


def test_bad_value_in_file_names_variable_and_file(tmp_path: Path) -> None:
    config = write(tmp_path / "visa.toml", "server_port = 'abc'\n")
    with pytest.raises(ConfigError) as excinfo:
        load_settings(config)
    [problem] = problems_of(excinfo)
    assert problem.startswith("VISA_SERVER_PORT: Input should be a valid integer")
    assert problem.endswith(f"(got 'abc') [in {config}]")


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        (
            "VISA_SERVER_PORT",
            "abc",
            "VISA_SERVER_PORT: Input should be a valid integer, unable to parse string as an "
            "integer (got 'abc')",
        ),
        (
            "VISA_SERVER_PORT",
            "70000",
            "VISA_SERVER_PORT: Input should be less than or equal to 65535 (got '70000')",
        ),
        (
            "VISA_SCHEDULER_ENABLED",
            "maybe",
            "VISA_SCHEDULER_ENABLED: Input should be a valid boolean, unable to interpret input "
            "(got 'maybe')",
        ),
        (
            "VISA_VDI_OWNER_DISCONNECTION_POLICY",
            "KICK",
            "VISA_VDI_OWNER_DISCONNECTION_POLICY: Input should be 'DISCONNECT_ALL' or 'LOCK_ROOM' "
            "(got 'KICK')",
        ),
        (
            "VISA_INSTANCE_DEFAULT_PROTOCOL",
            "VNC",
            "VISA_INSTANCE_DEFAULT_PROTOCOL: Input should be 'GUACD' or 'WEBX' (got 'VNC')",
        ),
        (
            "VISA_LOGGING_EMAIL_APPENDER_START_TLS",
            "SOMETIMES",
            "VISA_LOGGING_EMAIL_APPENDER_START_TLS: Input should be 'DISABLED', 'ENABLED' or "
            "'REQUIRED' (got 'SOMETIMES')",
        ),
        (
            "VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS",
            '[{"layout": "en-gb-qwerty"',
            "VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS: invalid JSON: Expecting ',' delimiter: "
            """line 1 column 27 (char 26) (got '[{"layout": "en-gb-qwerty"')""",
        ),
        (
            "VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS",
            '[{"layout": "en-gb-qwerty"}]',
            "VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS[0].name: Field required "
            "(got {'layout': 'en-gb-qwerty'})",
        ),
        (
            "VISA_CLIENT_CONFIG_DESKTOP_ALLOWED_CLIPBOARD_URL_HOSTS",
            '{"host": "a"}',
            "VISA_CLIENT_CONFIG_DESKTOP_ALLOWED_CLIPBOARD_URL_HOSTS: Input should be a valid list "
            """(got '{"host": "a"}')""",
        ),
        (
            "VISA_DATABASE_SCHEMA",
            "visa; drop table users",
            "VISA_DATABASE_SCHEMA: invalid schema name 'visa; drop table users': use letters, "
            "digits and _ (got 'visa; drop table users')",
        ),
        (
            "VISA_LOGGING_FILE_MAX_FILE_SIZE",
            "lots",
            "VISA_LOGGING_FILE_MAX_FILE_SIZE: expected a size such as 100M, 512K or 1G "
            "(got 'lots')",
        ),
        (
            "VISA_DEFAULT_CLOUD_PROVIDER_TYPE",
            "open stack",
            "VISA_DEFAULT_CLOUD_PROVIDER_TYPE: expected a compute backend id such as openstack or "
            "web (or null) (got 'open stack')",
        ),
    ],
)
def test_bad_environment_value(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert problems_of(excinfo) == [problem]
    assert excinfo.value.problems == [problem]


def test_every_problem_is_reported_on_its_own_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISA_SERVER_PORT", "0")
    monkeypatch.setenv("VISA_INSTANCE_USER_DEFAULT_QUOTA", "-1")
    monkeypatch.setenv("VISA_VDI_ENABLED", "perhaps")
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    problems = problems_of(excinfo)
    assert [line.split(":")[0] for line in problems] == [
        "VISA_SERVER_PORT",
        "VISA_INSTANCE_USER_DEFAULT_QUOTA",
        "VISA_VDI_ENABLED",
    ]
    assert "pydantic" not in str(excinfo.value)
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__


def test_duplicate_keyboard_layouts(monkeypatch: pytest.MonkeyPatch) -> None:
    layout = {"layout": "en-gb-qwerty", "name": "UK"}
    monkeypatch.setenv("VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS", json.dumps([layout, layout]))
    with pytest.raises(ConfigError, match=r"^VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS: layout"):
        load_settings()


def test_min_pool_size_above_max(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISA_DATABASE_MIN_POOL_SIZE", "30")
    with pytest.raises(ConfigError) as excinfo:
        load_settings()
    assert problems_of(excinfo) == [
        "VISA_DATABASE_MIN_POOL_SIZE (30) is greater than VISA_DATABASE_MAX_POOL_SIZE (20)"
    ]


def test_unknown_override() -> None:
    with pytest.raises(ConfigError, match=r"^server_prot: unknown setting \(override\)$"):
        load_settings(server_prot=1)


def test_bad_override_is_labelled() -> None:
    with pytest.raises(ConfigError, match=r"^VISA_SERVER_PORT: .* \(got 'x'\) \[override\]$"):
        load_settings(server_port="x")


def test_invalid_secret_value_is_not_echoed(tmp_path: Path) -> None:
    config = write(tmp_path / "visa.toml", "database_password = 98765\n")
    with pytest.raises(ConfigError) as excinfo:
        load_settings(config)
    [problem] = problems_of(excinfo)
    assert problem.startswith("VISA_DATABASE_PASSWORD: Input should be a valid string")
    assert "98765" not in problem


# --- Display and secrets -------------------------------------------------------------------

SECRETS = {
    "VISA_DATABASE_PASSWORD": "db-secret-1",
    "VISA_CLOUD_APPLICATION_SECRET": "cloud-secret-2",
    "VISA_CLOUD_WEB_PROVIDER_AUTH_TOKEN": "web-token-3",
    "VISA_SECURITY_GROUP_SERVICE_CLIENT_AUTH_TOKEN": "sg-token-4",
    "VISA_VDI_REDIS_PASSWORD": "redis-secret-5",
}


def test_secrets_are_masked_in_describe(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VISA_DATABASE_URL", "postgresql://visa:url-secret-6@db/visa")
    monkeypatch.setenv("VISA_VDI_REDIS_URL", "redis://:url-secret-7@redis:6379")
    settings = load_settings()
    rows = shown(settings)
    for name in SECRETS:
        assert rows[name] == (MASK, "env")
    assert rows["VISA_DATABASE_URL"] == (f"postgresql://visa:{MASK}@db/visa", "env")
    assert rows["VISA_VDI_REDIS_URL"] == (f"redis://:{MASK}@redis:6379", "env")
    everything = repr(describe(settings))
    for secret in [*SECRETS.values(), "url-secret-6", "url-secret-7"]:
        assert secret not in everything
    assert "db-secret-1" not in settings.sqlalchemy_url_masked()
    assert "db-secret-1" in settings.sqlalchemy_url()  # the real one, for the engine


def test_jdbc_password_parameter_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISA_DATABASE_URL", "jdbc:postgresql://db/visa?user=u&password=jdbc-pw")
    value, _ = shown(load_settings())["VISA_DATABASE_URL"]
    assert "jdbc-pw" not in value
    assert value.startswith("jdbc:postgresql://db/visa?")
    assert f"password={MASK}" in value


def test_secrets_never_in_repr_or_str(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("VISA_DATABASE_URL", "jdbc:postgresql://db/visa?password=url-secret-6")
    monkeypatch.setenv("VISA_VDI_REDIS_URL", "redis://:url-secret-7@redis:6379")
    settings = load_settings()
    for text in (repr(settings), str(settings)):
        for secret in [*SECRETS.values(), "url-secret-6", "url-secret-7"]:
            assert secret not in text
    assert "server_port=8086" in repr(settings)
    assert settings.database_password is not None
    assert settings.database_password.get_secret_value() == "db-secret-1"


def test_describe_shape() -> None:
    entries = describe(load_settings())
    assert len(entries) == len(Settings.model_fields)
    assert all(
        isinstance(entry, tuple) and len(entry) == 3 and all(isinstance(v, str) for v in entry)
        for entry in entries
    )
    env, value, source = entries[0]
    assert (env, value, source) == ("VISA_CONFIG_FILE", "", "default")


def test_describe_of_directly_built_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISA_SERVER_HOST", "0.0.0.0")
    rows = shown(Settings(server_port=9000))
    assert rows["VISA_SERVER_PORT"] == ("9000", "override")
    assert rows["VISA_SERVER_HOST"] == ("0.0.0.0", "env")
    assert rows["VISA_CORS_ORIGIN"] == ("*", "default")


# --- Derived values ------------------------------------------------------------------------


def test_guacd_and_webx_parameters() -> None:
    settings = load_settings(vdi_guacd_parameter_color_depth=24)
    assert settings.guacd_parameters() == {
        "protocol": "rdp",
        "ignore-cert": "true",
        "port": "3389",
        "color-depth": "24",
    }
    assert settings.webx_parameters() == {"runtimeMaxQualityIndex": "10", "logLevel": "debug"}


def test_redis_connection_url() -> None:
    assert load_settings().redis_connection_url() is None
    settings = load_settings(
        vdi_redis_url="redis://redis.example:6380",
        vdi_redis_password="p@ss/word",
        vdi_redis_database=3,
        vdi_redis_tls_enabled=True,
    )
    assert settings.redis_connection_url() == "rediss://:p%40ss%2Fword@redis.example:6380/3"
    assert (
        load_settings(vdi_redis_url="redis:6379").redis_connection_url() == "redis://redis:6379/0"
    )


# --- Documentation -------------------------------------------------------------------------


def test_every_variable_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    missing = [name for name in sorted(VISA_VARIABLES | OUR_VARIABLES) if f"`{name}`" not in text]
    assert missing == []
