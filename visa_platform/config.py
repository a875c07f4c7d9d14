"""Settings: ``VISA_*`` environment variables (VISA 3.8's names and defaults) and an optional file.

Every setting is a flat field whose environment variable is ``VISA_`` + the field name in upper case
(``server_port`` <-> ``VISA_SERVER_PORT``), grouped below under the banners of spec/domain.md §8.
A few settings are ours (listed in :data:`OUR_SETTINGS`); the rest keep VISA's names and defaults.

Build settings with :func:`load_settings`: it layers explicit overrides > environment > TOML config
file > defaults, and turns every problem into one :class:`ConfigError` whose lines name the
offending variable. :func:`describe` lists every setting with its displayed (masked) value and its
source, for ``visa config show``. The full reference is docs/configuration.md.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args
from urllib.parse import quote, urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "VISA_"
# Set by load_settings while it builds Settings from values it has already gathered.
_INIT_VALUES_ONLY: ContextVar[bool] = ContextVar("visa_settings_init_values_only", default=False)
MASK = "********"

Source = Literal["default", "env", "file", "override"]


class ConfigError(Exception):
    """Invalid configuration. The message has one line per problem, each naming its variable."""

    def __init__(self, problems: str | Iterable[str]) -> None:
        self.problems: list[str] = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


# ---------------------------------------------------------------------------------------------
# Value types
# ---------------------------------------------------------------------------------------------


class _CaseInsensitiveEnum(enum.StrEnum):
    """A string enum that also accepts its values in any case (as Quarkus does)."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            wanted = value.strip().lower()
            for member in cls:
                if member.value.lower() == wanted:
                    return member
        return None


class OwnerDisconnectionPolicy(_CaseInsensitiveEnum):
    """What happens to the other desktop clients when the owner disconnects."""

    DISCONNECT_ALL = "DISCONNECT_ALL"
    LOCK_ROOM = "LOCK_ROOM"


class DefaultVdiProtocol(_CaseInsensitiveEnum):
    """Remote-desktop protocol of an instance whose image does not choose one."""

    GUACD = "GUACD"
    WEBX = "WEBX"


class StartTls(_CaseInsensitiveEnum):
    """SMTP STARTTLS mode (Quarkus mailer ``start-tls``)."""

    DISABLED = "DISABLED"
    ENABLED = "ENABLED"
    REQUIRED = "REQUIRED"


class LogLevel(_CaseInsensitiveEnum):
    """Quarkus (JBoss) log level names; :meth:`python_level` maps them to :mod:`logging`."""

    OFF = "OFF"
    FATAL = "FATAL"
    ERROR = "ERROR"
    WARN = "WARN"
    INFO = "INFO"
    DEBUG = "DEBUG"
    TRACE = "TRACE"
    ALL = "ALL"
    SEVERE = "SEVERE"
    WARNING = "WARNING"
    CONFIG = "CONFIG"
    FINE = "FINE"
    FINER = "FINER"
    FINEST = "FINEST"

    def python_level(self) -> int:
        """The :mod:`logging` level; OFF is above CRITICAL, TRACE/ALL/FINER/FINEST map to DEBUG."""
        return _PYTHON_LEVELS[self]


_PYTHON_LEVELS: dict[LogLevel, int] = {
    LogLevel.OFF: logging.CRITICAL + 10,
    LogLevel.FATAL: logging.CRITICAL,
    LogLevel.SEVERE: logging.ERROR,
    LogLevel.ERROR: logging.ERROR,
    LogLevel.WARN: logging.WARNING,
    LogLevel.WARNING: logging.WARNING,
    LogLevel.INFO: logging.INFO,
    LogLevel.CONFIG: logging.INFO,
    LogLevel.DEBUG: logging.DEBUG,
    LogLevel.FINE: logging.DEBUG,
    LogLevel.TRACE: logging.DEBUG,
    LogLevel.FINER: logging.DEBUG,
    LogLevel.FINEST: logging.DEBUG,
    LogLevel.ALL: logging.NOTSET,
}


class SyslogType(_CaseInsensitiveEnum):
    """Syslog message format."""

    RFC3164 = "rfc3164"
    RFC5424 = "rfc5424"


class ClipboardUrlHost(BaseModel):
    """An item of VISA_CLIENT_CONFIG_DESKTOP_ALLOWED_CLIPBOARD_URL_HOSTS."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    https: bool = False


class KeyboardLayout(BaseModel):
    """An item of VISA_CLIENT_CONFIG_DESKTOP_KEYBOARD_LAYOUTS (``layout`` = id)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    layout: str = Field(min_length=1)
    name: str
    selected: bool = False


#: The layouts offered when none are configured (Guacamole's ``server-layout`` names).
DEFAULT_KEYBOARD_LAYOUTS = (
    KeyboardLayout(layout="en-gb-qwerty", name="English (UK)", selected=True),
    KeyboardLayout(layout="en-us-qwerty", name="English (US)"),
    KeyboardLayout(layout="fr-fr-azerty", name="French"),
    KeyboardLayout(layout="de-de-qwertz", name="German"),
    KeyboardLayout(layout="es-es-qwerty", name="Spanish"),
    KeyboardLayout(layout="it-it-qwerty", name="Italian"),
    KeyboardLayout(layout="fr-ch-qwertz", name="Swiss French"),
    KeyboardLayout(layout="de-ch-qwertz", name="Swiss German"),
)


_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_BACKEND_ID = re.compile(r"^[a-z][a-z0-9_.-]*$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$", re.IGNORECASE)
_MEMORY_SIZE = re.compile(r"^(\d+)\s*([KMGT]?)B?$", re.IGNORECASE)
_MEMORY_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


class Settings(BaseSettings):
    """All configuration. Build it with :func:`load_settings`; see docs/configuration.md."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="forbid",
        # Lists come as JSON (or comma-separated) strings; the validators below decode them so
        # that a malformed value is a normal validation error that names the variable.
        enable_decoding=False,
    )

    _sources: dict[str, Source] = PrivateAttr(default_factory=dict)

    # --- Configuration file (ours) --------------------------------------------------------
    config_file: Path | None = Field(
        default=None,
        description="Optional TOML configuration file (lowest precedence after defaults).",
    )

    # --- Server / HTTP --------------------------------------------------------------------
    server_host: str = Field(
        default="localhost", min_length=1, description="Address the server binds to."
    )
    server_port: int = Field(
        default=8086, ge=1, le=65535, description="HTTP port (root path /api)."
    )
    cors_origin: str = Field(default="*", description="Allowed CORS origin(s), comma-separated.")
    server_websocket_compression: bool = Field(
        default=False,
        description=(
            "Compress websocket messages (permessage-deflate) when the browser offers it. Off: a"
            " desktop's image stream barely compresses (about 25 %) at about 35 ms of CPU per MB."
        ),
    )
    logging_access_log_enabled: bool = Field(default=True, description="Log every HTTP request.")
    vertx_warning_exception_time: timedelta = Field(
        default=timedelta(seconds=10),
        description="VISA's Vert.x blocked-thread warning (a Quarkus duration); accepted, unused.",
    )
    scheduler_enabled: bool = Field(
        default=True, description="Run the scheduled jobs on this replica."
    )
    root_url: str | None = Field(
        default=None, description="Public web URL of the portal, used in emails."
    )
    data_dir: Path = Field(
        default=Path("data"),
        description="Directory for local state: the embedded SQLite file visa.db.",
    )
    plugins_allow: list[str] | None = Field(
        default=None, description="Plugin entry-point names to load, comma-separated (unset = all)."
    )
    plugins_deny: list[str] = Field(
        default_factory=list, description="Plugin entry-point names never to load, comma-separated."
    )

    # --- Database -------------------------------------------------------------------------
    database_url: str | None = Field(
        default=None,
        description="JDBC (jdbc:postgresql://...) or SQLAlchemy URL; unset = SQLite in data_dir.",
    )
    database_username: str | None = Field(
        default=None, description="Database user (merged into the URL)."
    )
    database_password: SecretStr | None = Field(
        default=None, description="Database password (merged into the URL)."
    )
    database_version: str | None = Field(
        default=None, description="VISA's Hibernate database version; accepted and ignored."
    )
    database_min_pool_size: int = Field(
        default=1, ge=0, description="Connections kept open in the pool."
    )
    database_max_pool_size: int = Field(
        default=20, ge=1, description="Maximum connections in the pool."
    )
    database_schema: str = Field(
        default="visa", description="PostgreSQL schema (search_path) holding VISA's tables."
    )
    database_auto_migrate: bool = Field(
        default=True, description="Apply database migrations when the server starts."
    )
    logging_sql_enabled: bool = Field(default=False, description="Log every SQL statement.")

    # --- Accounts / authentication --------------------------------------------------------
    accounts_service_client_url: str | None = Field(
        default=None,
        description="VISA accounts service, e.g. http://accounts:8089/api/authenticate.",
    )
    accounts_provider: str | None = Field(
        default=None,
        description=(
            "Account provider id (accounts-service, static, or a plugin's); unset = "
            "accounts-service when its URL is set, else static."
        ),
    )
    accounts_request_timeout_ms: int = Field(
        default=10000, ge=1, description="Timeout of one call to the account provider (ms)."
    )
    accounts_static_file: Path | None = Field(
        default=None,
        description="Token file of the static provider; unset = accounts.toml in data_dir.",
    )
    accounts_static_allow_postgresql: bool = Field(
        default=False,
        description="Let the static provider run on PostgreSQL (it is meant for trials).",
    )
    accounts_oidc_issuer: str | None = Field(
        default=None, description="OIDC provider: the issuer (iss) tokens must come from."
    )
    accounts_oidc_audience: str | None = Field(
        default=None, description="OIDC provider: the audience (aud) tokens must carry."
    )
    accounts_oidc_jwks_url: str | None = Field(
        default=None,
        description="OIDC provider: the JWKS URL; unset = discovered from the issuer.",
    )
    accounts_oidc_algorithms: list[str] = Field(
        default_factory=lambda: ["RS256", "ES256"],
        description="OIDC provider: accepted signature algorithms, comma-separated.",
    )
    accounts_oidc_leeway_seconds: int = Field(
        default=30, ge=0, le=600, description="OIDC provider: clock skew tolerated (seconds)."
    )
    accounts_oidc_user_id_claim: str = Field(
        default="sub", description="OIDC provider: claim holding the facility user id."
    )
    accounts_oidc_username_claim: str = Field(
        default="preferred_username", description="OIDC provider: claim holding the login."
    )
    accounts_oidc_first_name_claim: str = Field(
        default="given_name", description="OIDC provider: claim holding the first name."
    )
    accounts_oidc_last_name_claim: str = Field(
        default="family_name", description="OIDC provider: claim holding the last name."
    )
    accounts_oidc_email_claim: str = Field(
        default="email", description="OIDC provider: claim holding the email address."
    )

    # --- Instance business rules ----------------------------------------------------------
    instance_user_max_lifetime_duration_hours: int = Field(
        default=336, ge=1, description="Maximum lifetime of a user's instance (hours)."
    )
    instance_staff_max_lifetime_duration_hours: int = Field(
        default=1440, ge=1, description="Maximum lifetime of a staff member's instance (hours)."
    )
    instance_user_max_inactivity_duration_hours: int = Field(
        default=96, ge=1, description="Inactivity after which a user's instance is deleted (hours)."
    )
    instance_staff_max_inactivity_duration_hours: int = Field(
        default=192,
        ge=1,
        description="Inactivity after which a staff member's instance is deleted (hours).",
    )
    instance_user_default_quota: int = Field(
        default=2, ge=0, description="Instance quota given to new users."
    )
    instance_activity_retention_period_days: int = Field(
        default=0, ge=0, description="Days of instance activity kept (0 = forever)."
    )
    instance_port_check_timeout_ms: int = Field(
        default=5000, ge=1, description="Timeout of the TCP port probes of running instances (ms)."
    )
    instance_default_protocol: DefaultVdiProtocol = Field(
        default=DefaultVdiProtocol.GUACD, description="Remote-desktop protocol: GUACD or WEBX."
    )
    instance_public_access_token_enabled: bool = Field(
        default=True, description="Allow joining an instance with its public access token."
    )

    # --- Security-group service -----------------------------------------------------------
    security_group_service_client_enabled: bool = Field(
        default=False, description="Ask the external security-group service for instance groups."
    )
    security_group_service_client_url: str | None = Field(
        default=None, description="URL of the security-group service."
    )
    security_group_service_client_auth_token: SecretStr | None = Field(
        default=None, description="Token sent to it as x-auth-token."
    )

    # --- Desktop signature (VISA PAM) -----------------------------------------------------
    vdi_signature_private_key_path: Path | None = Field(
        default=None, description="PKCS#8 PEM private key signing the desktop autologin token."
    )
    vdi_signature_public_key_path: Path | None = Field(
        default=None, description="PEM public key passed to instances as pamPublicKey."
    )

    # --- User notification email ----------------------------------------------------------
    notification_email_adapter_enabled: bool = Field(default=False, description="Send user emails.")
    notification_email_adapter_mocked: bool = Field(
        default=False, description="Log user emails instead of sending them."
    )
    notification_email_adapter_host: str = Field(
        default="change.mail.com", description="SMTP host."
    )
    notification_email_adapter_port: int = Field(
        default=25, ge=1, le=65535, description="SMTP port."
    )
    notification_email_adapter_tls: bool = Field(default=False, description="SMTP over TLS.")
    notification_email_adapter_start_tls: StartTls = Field(
        default=StartTls.DISABLED, description="STARTTLS: DISABLED, ENABLED or REQUIRED."
    )
    notification_email_adapter_from_email_address: str | None = Field(
        default=None, description="Sender address of user emails."
    )
    notification_email_adapter_bcc_email_address: str | None = Field(
        default=None, description="Blind copy of every user email."
    )
    notification_email_adapter_admin_email_address: str | None = Field(
        default=None, description="Admin recipient and support address in the templates."
    )
    notification_email_adapter_dev_email_address: str | None = Field(
        default=None, description="Recipient of instance-created emails."
    )
    notification_email_adapter_templates_directory: str = Field(
        default="emails/templates/", description="Directory of the email templates."
    )

    # --- Error-report email and logging ---------------------------------------------------
    logging_email_appender_enabled: bool = Field(default=False, description="Email error reports.")
    logging_email_appender_mocked: bool = Field(
        default=False, description="Log error-report emails instead of sending them."
    )
    logging_email_appender_host: str = Field(default="change.mail.com", description="SMTP host.")
    logging_email_appender_port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    logging_email_appender_tls: bool = Field(default=False, description="SMTP over TLS.")
    logging_email_appender_start_tls: StartTls = Field(
        default=StartTls.DISABLED, description="STARTTLS: DISABLED, ENABLED or REQUIRED."
    )
    logging_email_appender_recipient_address: str | None = Field(
        default=None, description="Recipient of error reports."
    )
    logging_email_appender_from_address: str | None = Field(
        default=None, description="Sender of error reports."
    )
    logging_email_subject: str | None = Field(default=None, description="Subject of error reports.")
    logging_email_max_errors: int = Field(
        default=50, ge=1, description="Errors collected per error-report email."
    )
    logging_level: LogLevel = Field(
        default=LogLevel.INFO, description="Level of the application logs."
    )
    logging_file_enabled: bool = Field(default=True, description="Write logs to a file.")
    logging_file_directory: Path = Field(
        default=Path("/tmp"), description="Directory of the log file application.log."
    )
    logging_file_format: str = Field(
        default="%d %-5p [%c] (%t) %s%e%n", description="Log file format."
    )
    logging_file_threshold: LogLevel = Field(default=LogLevel.INFO, description="Log file level.")
    logging_file_max_file_size: int = Field(
        default=100 * 1024**2, ge=1, description="Rotate the log file at this size (e.g. 100M)."
    )
    logging_file_archived_file_count: int = Field(
        default=0, ge=0, description="Rotated log files kept."
    )
    logging_syslog_enabled: bool = Field(default=False, description="Send logs to syslog.")
    logging_syslog_type: SyslogType = Field(
        default=SyslogType.RFC3164, description="Syslog format: rfc3164 or rfc5424."
    )
    logging_syslog_endpoint: str = Field(
        default="change.logs.com:514", description="Syslog host:port."
    )
    logging_syslog_format: str = Field(
        default="[%-5p] [%c{3.}] (%t) %s%e%n", description="Syslog format."
    )
    logging_syslog_app_name: str = Field(default="api", description="Syslog application name.")
    logging_syslog_facility: str = Field(default="local-use-0", description="Syslog facility.")
    logging_syslog_threshold: LogLevel = Field(default=LogLevel.INFO, description="Syslog level.")

    # --- Default cloud provider (the literal "null" or "" means unset) --------------------
    cloud_default_provider_enabled: bool = Field(
        default=True, description="Create the default cloud client (id -1) from these settings."
    )
    default_cloud_provider_type: str | None = Field(
        default="openstack",
        description="Compute backend id of the default provider (openstack, web...; null = none).",
    )
    default_cloud_provider_name: str = Field(
        default="Default", description="Name of the default provider."
    )
    cloud_server_name_prefix: str = Field(
        default="VISA-INSTANCE", description="Server names are <prefix>-<instance id>."
    )
    cloud_rest_client_connect_timeout_ms: int = Field(
        default=15000, ge=1, description="Cloud API connect timeout (ms)."
    )
    cloud_rest_client_read_timeout_ms: int = Field(
        default=30000, ge=1, description="Cloud API read timeout (ms)."
    )
    cloud_identity_endpoint: str | None = Field(
        default=None, description="OpenStack Keystone base URL."
    )
    cloud_compute_endpoint: str | None = Field(default=None, description="OpenStack Nova base URL.")
    cloud_placement_endpoint: str | None = Field(
        default=None, description="OpenStack Placement base URL (optional)."
    )
    cloud_image_endpoint: str | None = Field(default=None, description="OpenStack Glance base URL.")
    cloud_network_endpoint: str | None = Field(
        default=None, description="OpenStack Neutron base URL."
    )
    cloud_application_id: str | None = Field(
        default=None, description="OpenStack application credential id."
    )
    cloud_application_secret: SecretStr | None = Field(
        default=None, description="OpenStack application credential secret."
    )
    cloud_address_provider: str | None = Field(
        default=None, description="Network name whose address is the instance IP."
    )
    cloud_address_provider_uuid: str | None = Field(
        default=None, description="Network UUID(s) attached to new servers, comma-separated."
    )
    cloud_web_provider_url: str | None = Field(default=None, description="Web cloud provider URL.")
    cloud_web_provider_auth_token: SecretStr | None = Field(
        default=None, description="Web cloud provider token (X-Auth-Token)."
    )

    # --- Broker / Redis -------------------------------------------------------------------
    vdi_redis_enabled: bool = Field(
        default=False,
        description="Use Redis pub/sub between replicas (needed when load balancing).",
    )
    vdi_redis_url: str | None = Field(
        default=None, description="Redis URL, e.g. redis://redis:6379."
    )
    vdi_redis_password: SecretStr | None = Field(default=None, description="Redis password.")
    vdi_redis_database: int = Field(default=0, ge=0, description="Redis database number.")
    vdi_redis_health_monitor_enabled: bool = Field(
        default=True, description="Ping our own Redis channel and resubscribe when pings are lost."
    )
    vdi_redis_tls_enabled: bool = Field(
        default=False, description="Connect to Redis with TLS (rediss)."
    )
    vdi_redis_tls_trust_all: bool = Field(
        default=False, description="Accept any Redis TLS certificate."
    )
    vdi_redis_channel: str = Field(
        default="VISA_MESSAGE_BROKER",
        min_length=1,
        description="Redis pub/sub channel of the replicas (one per deployment sharing a Redis).",
    )

    # --- Remote desktop -------------------------------------------------------------------
    vdi_enabled: bool = Field(default=True, description="Serve remote desktops.")
    vdi_owner_disconnection_policy: OwnerDisconnectionPolicy = Field(
        default=OwnerDisconnectionPolicy.DISCONNECT_ALL,
        description="When the owner leaves: DISCONNECT_ALL or LOCK_ROOM.",
    )
    vdi_cleanup_sessions_on_startup: bool = Field(
        default=False,
        description="Mark every desktop session inactive at start-up (single replica).",
    )
    vdi_max_session_inactivity_time_minutes: int = Field(
        default=360, ge=1, description="Disconnect a desktop client idle this long (minutes)."
    )
    vdi_guacd_parameter_protocol: str = Field(
        default="rdp", min_length=1, description="guacd protocol parameter."
    )
    vdi_guacd_parameter_ignore_cert: bool = Field(
        default=True, description="guacd ignore-cert parameter."
    )
    vdi_guacd_parameter_port: int = Field(
        default=3389, ge=1, le=65535, description="guacd port parameter."
    )
    vdi_guacd_parameter_color_depth: int = Field(
        default=16, ge=1, description="guacd color-depth parameter."
    )
    vdi_webx_engine_runtime_max_quality_index: int = Field(
        default=10, ge=1, description="WebX engine runtimeMaxQualityIndex parameter."
    )
    vdi_webx_engine_log_level: str = Field(
        default="debug", description="WebX engine logLevel parameter."
    )

    # --- Client configuration (GET /api/configuration) ------------------------------------
    client_config_login_issuer: str | None = Field(
        default=None, description="OIDC issuer of the portal."
    )
    client_config_login_client_id: str | None = Field(default=None, description="OIDC client id.")
    client_config_login_scope: str = Field(
        default="openid offline_access", description="OIDC scope."
    )
    client_config_login_show_debug_information: bool = Field(
        default=False, description="Show OIDC debug information in the portal."
    )
    client_config_login_session_checks_enabled: bool = Field(
        default=True, description="Portal checks the OIDC session."
    )
    client_config_analytics_enabled: bool = Field(default=False, description="Matomo analytics.")
    client_config_analytics_url: str | None = Field(default=None, description="Matomo URL.")
    client_config_analytics_site_id: str | None = Field(default=None, description="Matomo site id.")
    client_config_desktop_allowed_clipboard_url_hosts: list[ClipboardUrlHost] = Field(
        default_factory=list, description='JSON list of {"host": str, "https": bool}.'
    )
    client_config_desktop_keyboard_layouts: list[KeyboardLayout] = Field(
        default_factory=lambda: list(DEFAULT_KEYBOARD_LAYOUTS),
        description=(
            'JSON list of {"layout": str, "name": str, "selected": bool}; also the layouts an '
            "instance may use. Default: eight common layouts, en-gb-qwerty selected (VISA's "
            "default [] made every instance creation fail)."
        ),
    )
    client_config_contact_email: str | None = Field(default=None, description="Contact address.")
    client_config_include_open_data: bool = Field(
        default=False, description="Experiments whose proposal is public become usable by everyone."
    )

    # --- Admin GraphQL API ----------------------------------------------------------------
    graphql_max_depth: int = Field(
        default=12, ge=0, description="Deepest field nesting a GraphQL query may have (0 = any)."
    )
    graphql_max_cost: int = Field(
        default=20000,
        ge=0,
        description="Largest GraphQL query cost: fields, times the page size below paged "
        "fields (0 = any).",
    )
    graphql_introspection_enabled: bool = Field(
        default=True,
        description="Allow GraphQL introspection (__schema, __type) and the SDL endpoint; "
        "the admin UI's instance state filter uses it.",
    )

    # --- Sources and validators -----------------------------------------------------------

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # No .env or secrets directory. load_settings reads the environment and the config file
        # itself (to know each value's source) and passes everything as init values.
        if _INIT_VALUES_ONLY.get():
            return (init_settings,)
        return (init_settings, env_settings)

    @field_validator("plugins_allow", "plugins_deny", "accounts_oidc_algorithms", mode="before")
    @classmethod
    def _split_names(cls, value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return _json(text)
            return [item.strip() for item in text.split(",") if item.strip()]
        return value

    @field_validator(
        "client_config_desktop_allowed_clipboard_url_hosts",
        "client_config_desktop_keyboard_layouts",
        mode="before",
    )
    @classmethod
    def _decode_json_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return _json(value.strip() or "[]")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _blank_means_unset(cls, value: Any, info: ValidationInfo) -> Any:
        """``""`` unsets an optional setting; so does ``null`` for the cloud settings (as in VISA).

        Defined after the other "before" validators: pydantic runs those last-defined first.
        """
        name = info.field_name
        if isinstance(value, str) and name in _OPTIONAL_FIELDS:
            text = value.strip()
            if text == "" or (text.lower() == "null" and name in _NULL_LITERAL_FIELDS):
                return None
        return value

    @field_validator("client_config_desktop_keyboard_layouts")
    @classmethod
    def _unique_layouts(cls, value: list[KeyboardLayout]) -> list[KeyboardLayout]:
        seen: set[str] = set()
        for item in value:
            if item.layout in seen:
                raise ValueError(f"layout {item.layout!r} is listed twice")
            seen.add(item.layout)
        return value

    @field_validator("vertx_warning_exception_time", mode="before")
    @classmethod
    def _quarkus_duration(cls, value: Any) -> Any:
        """Quarkus durations: ``10`` (seconds), ``500ms``, ``10S``, ``5M``, ``1H``, ``2D``, ISO."""
        if isinstance(value, str) and (match := _DURATION.match(value.strip())):
            number, unit = float(match[1]), (match[2] or "s").lower()
            factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
            return timedelta(seconds=number * factor)
        if isinstance(value, str) and value.strip()[:1].upper() != "P":
            return "PT" + value.strip()
        return value

    @field_validator("logging_file_max_file_size", mode="before")
    @classmethod
    def _memory_size(cls, value: Any) -> Any:
        """Quarkus memory sizes: a number of bytes with an optional K, M, G or T suffix (x1024)."""
        if isinstance(value, str):
            match = _MEMORY_SIZE.match(value.strip())
            if not match:
                raise ValueError("expected a size such as 100M, 512K or 1G")
            return int(match[1]) * _MEMORY_UNITS[match[2].upper()]
        return value

    @field_validator("default_cloud_provider_type")
    @classmethod
    def _backend_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if not _BACKEND_ID.match(value):
            raise ValueError("expected a compute backend id such as openstack or web (or null)")
        return value

    @field_validator("database_schema")
    @classmethod
    def _schema_identifier(cls, value: str) -> str:
        if not _IDENTIFIER.match(value):
            raise ValueError(f"invalid schema name {value!r}: use letters, digits and _")
        return value

    @field_validator("database_url")
    @classmethod
    def _supported_database_url(cls, value: str | None) -> str | None:
        if value is not None:
            value = value.strip()
            _parse_database_url(value)  # raises ValueError with the reason
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.database_min_pool_size > self.database_max_pool_size:
            raise ValueError(
                f"VISA_DATABASE_MIN_POOL_SIZE ({self.database_min_pool_size}) is greater than "
                f"VISA_DATABASE_MAX_POOL_SIZE ({self.database_max_pool_size})"
            )
        if self.database_url:
            url_schema = _parse_database_url(self.database_url).schema
            if url_schema is not None:
                if (
                    "database_schema" in self.model_fields_set
                    and url_schema != self.database_schema
                ):
                    raise ValueError(
                        f"VISA_DATABASE_URL sets currentSchema={url_schema} but "
                        f"VISA_DATABASE_SCHEMA is {self.database_schema}; set only one"
                    )
                if not _IDENTIFIER.match(url_schema):
                    raise ValueError(f"VISA_DATABASE_URL: invalid currentSchema {url_schema!r}")
                self.database_schema = url_schema
        return self

    # --- Derived values -------------------------------------------------------------------

    def sqlalchemy_url(self) -> str:
        """The async SQLAlchemy URL with credentials merged in; unset -> SQLite in ``data_dir``."""
        return self._sqlalchemy_url().render_as_string(hide_password=False)

    def sqlalchemy_url_masked(self) -> str:
        """:meth:`sqlalchemy_url` with the password shown as ``********`` (for display and logs)."""
        return _render_masked(self._sqlalchemy_url())

    def sqlite_path(self) -> Path:
        """Where the embedded SQLite database lives when VISA_DATABASE_URL is unset."""
        return (self.data_dir / "visa.db").resolve()

    def default_cloud_type(self) -> str | None:
        """The default cloud's backend type: ``VISA_DEFAULT_CLOUD_PROVIDER_TYPE`` when set.

        Unset, it is VISA's ``openstack`` — except on the embedded defaults (no
        ``VISA_DATABASE_URL``, no ``VISA_CLOUD_*`` parameter), where it is ``local``: desktops on
        this host, so that the README's serve command gives a working platform.
        """
        if "default_cloud_provider_type" in self.model_fields_set or self.database_url:
            return self.default_cloud_provider_type
        from visa_platform.compute.clients import DEFAULT_CLOUD_PARAMETERS

        if any(getattr(self, name) for name in DEFAULT_CLOUD_PARAMETERS.values()):
            return self.default_cloud_provider_type
        return "local"

    def _sqlalchemy_url(self) -> URL:
        if not self.database_url:
            return URL.create("sqlite+aiosqlite", database=str(self.sqlite_path()))
        parsed = _parse_database_url(self.database_url)
        url = parsed.url
        if url.get_backend_name() == "postgresql":
            if self.database_username is not None:
                url = url.set(username=self.database_username)
            if self.database_password is not None:
                url = url.set(password=self.database_password.get_secret_value())
        return url

    def guacd_parameters(self) -> dict[str, str]:
        """The ``vdi.guacd.*`` connection parameters, named as guacd expects them."""
        return {
            "protocol": self.vdi_guacd_parameter_protocol,
            "ignore-cert": _display_bool(self.vdi_guacd_parameter_ignore_cert),
            "port": str(self.vdi_guacd_parameter_port),
            "color-depth": str(self.vdi_guacd_parameter_color_depth),
        }

    def webx_parameters(self) -> dict[str, str]:
        """The ``vdi.webx.*`` WebX engine parameters."""
        return {
            "runtimeMaxQualityIndex": str(self.vdi_webx_engine_runtime_max_quality_index),
            "logLevel": self.vdi_webx_engine_log_level,
        }

    def redis_connection_url(self) -> str | None:
        """``redis[s]://[:password@]host:port/db`` from the VISA_VDI_REDIS_* settings, or None.

        Unlike VISA, a password is optional. A password in the URL is kept unless
        VISA_VDI_REDIS_PASSWORD is set; the database always comes from VISA_VDI_REDIS_DATABASE.
        """
        if not self.vdi_redis_url:
            return None
        raw = self.vdi_redis_url if "://" in self.vdi_redis_url else f"redis://{self.vdi_redis_url}"
        parts = urlsplit(raw)
        scheme = "rediss" if self.vdi_redis_tls_enabled else parts.scheme
        host = parts.hostname or "localhost"
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port or 6379}"
        if self.vdi_redis_password is not None:
            password: str | None = self.vdi_redis_password.get_secret_value()
        else:
            password = parts.password
        if password:
            netloc = f"{quote(parts.username or '', safe='')}:{quote(password, safe='')}@{netloc}"
        return urlunsplit((scheme, netloc, f"/{self.vdi_redis_database}", "", ""))

    def source_of(self, name: str) -> Source:
        """Where setting ``name`` (field name) came from: default, env, file or override."""
        if name in self._sources:
            return self._sources[name]
        # Built with Settings(...) rather than load_settings: infer from the environment.
        if _env_values(os.environ).get(name) is not None:
            return "env"
        return "override" if name in self.model_fields_set else "default"

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Keep passwords embedded in URLs out of repr() and str().
        for name, value in super().__repr_args__():
            if name in _URL_FIELDS and isinstance(value, str):
                yield name, _mask_url(value)
            else:
                yield name, value


_OPTIONAL_FIELDS: frozenset[str] = frozenset(
    name
    for name, field in Settings.model_fields.items()
    if type(None) in get_args(field.annotation)
)
_NULL_LITERAL_FIELDS: frozenset[str] = frozenset(
    name for name in Settings.model_fields if name.startswith("cloud_")
) | {"default_cloud_provider_type"}
_SECRET_FIELDS: frozenset[str] = frozenset(
    name
    for name, field in Settings.model_fields.items()
    if field.annotation is SecretStr or SecretStr in get_args(field.annotation)
)
_JSON_LIST_FIELDS = frozenset(
    {"client_config_desktop_allowed_clipboard_url_hosts", "client_config_desktop_keyboard_layouts"}
)
_URL_FIELDS: frozenset[str] = frozenset(
    name for name in Settings.model_fields if name.endswith(("_url", "_endpoint"))
)

#: Settings that VISA does not have (our additions); every other setting keeps VISA's name.
OUR_SETTINGS: frozenset[str] = frozenset(
    {
        "config_file",
        "data_dir",
        "server_websocket_compression",
        "database_schema",
        "database_auto_migrate",
        "plugins_allow",
        "plugins_deny",
        "accounts_provider",
        "accounts_request_timeout_ms",
        "accounts_static_file",
        "accounts_static_allow_postgresql",
        "accounts_oidc_issuer",
        "accounts_oidc_audience",
        "accounts_oidc_jwks_url",
        "accounts_oidc_algorithms",
        "accounts_oidc_leeway_seconds",
        "accounts_oidc_user_id_claim",
        "accounts_oidc_username_claim",
        "accounts_oidc_first_name_claim",
        "accounts_oidc_last_name_claim",
        "accounts_oidc_email_claim",
        "graphql_max_depth",
        "graphql_max_cost",
        "graphql_introspection_enabled",
        "vdi_redis_channel",
    }
)


def env_var(name: str) -> str:
    """The environment variable of setting ``name``: ``server_port`` -> ``VISA_SERVER_PORT``."""
    return ENV_PREFIX + name.upper()


# ---------------------------------------------------------------------------------------------
# Database URLs
# ---------------------------------------------------------------------------------------------


class _DatabaseUrl(NamedTuple):
    url: URL  # async SQLAlchemy URL (credentials from the URL itself only)
    schema: str | None  # JDBC currentSchema, if given


_JDBC_SSL = {"true": "require", "false": "disable"}


def _parse_database_url(value: str) -> _DatabaseUrl:
    """Parse a JDBC or SQLAlchemy URL into an async SQLAlchemy URL; ValueError if unsupported."""
    if value.lower().startswith("jdbc:"):
        return _parse_jdbc_url(value)
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError(
            "not a database URL; use postgresql://, postgresql+asyncpg://, sqlite:///path "
            "or jdbc:postgresql://host:port/db"
        ) from None
    backend, _, driver = url.drivername.partition("+")
    if backend in ("postgresql", "postgres") and driver in ("", "asyncpg"):
        return _DatabaseUrl(url.set(drivername="postgresql+asyncpg"), None)
    if backend == "sqlite" and driver in ("", "aiosqlite"):
        return _DatabaseUrl(url.set(drivername="sqlite+aiosqlite"), None)
    raise ValueError(
        f"unsupported database {url.drivername!r}; use postgresql[+asyncpg]:// or "
        "sqlite[+aiosqlite]:/// (or VISA's jdbc:postgresql:// form)"
    )


def _parse_jdbc_url(value: str) -> _DatabaseUrl:
    """``jdbc:postgresql://host[:port]/db?currentSchema=s&user=u&password=p&ssl=true`` etc."""
    rest = value[len("jdbc:") :]
    if not rest.lower().startswith("postgresql:"):
        raise ValueError("only jdbc:postgresql: URLs are supported")
    rest = rest[len("postgresql:") :]
    if not rest.startswith("//"):  # jdbc:postgresql:database (localhost:5432)
        rest = "//localhost/" + rest
    if "," in rest.split("/", 3)[2]:
        raise ValueError("JDBC URLs with several hosts are not supported")
    try:
        url = make_url("postgresql+asyncpg:" + rest)
    except (ArgumentError, ValueError):
        raise ValueError("malformed JDBC URL") from None
    query = dict(url.query)
    schema = _single(query.pop("currentSchema", None))
    username = _single(query.pop("user", None))
    password = _single(query.pop("password", None))
    kept: dict[str, str] = {}
    ssl = _single(query.pop("sslmode", None)) or _single(query.pop("ssl", None))
    if ssl:
        kept["ssl"] = _JDBC_SSL.get(ssl.lower(), ssl)
    # Other JDBC driver options (ApplicationName, loggerLevel, ...) mean nothing to asyncpg.
    url = url.set(query=kept)
    if username is not None and url.username is None:
        url = url.set(username=username)
    if password is not None and url.password is None:
        url = url.set(password=password)
    return _DatabaseUrl(url, schema)


def _single(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[-1] if value else None
    return value


def _render_masked(url: URL) -> str:
    if url.password is None:
        return url.render_as_string(hide_password=False)
    return url.render_as_string(hide_password=True).replace(":***@", f":{MASK}@", 1)


def _mask_url(value: str) -> str:
    """``value`` with any password (user-info or ``password=`` query parameter) masked."""
    prefix = ""
    body = value
    if body.lower().startswith("jdbc:"):
        prefix, body = body[:5], body[5:]
    if "://" in body:
        try:
            url = make_url(body)
        except (ArgumentError, ValueError):
            url = None
        if url is not None:
            if "password" in url.query:
                url = url.update_query_dict({"password": MASK})
            if url.password is not None or "password" in url.query:
                return prefix + _render_masked(url).replace(quote(MASK, safe=""), MASK)
    return value


# ---------------------------------------------------------------------------------------------
# Loading: overrides > environment > config file > defaults
# ---------------------------------------------------------------------------------------------


def _env_values(environ: Mapping[str, str]) -> dict[str, str]:
    """The settings present in ``environ``, by field name (names are matched case-insensitively)."""
    values: dict[str, str] = {}
    for key, value in environ.items():
        if key.upper().startswith(ENV_PREFIX):
            name = key[len(ENV_PREFIX) :].lower()
            if name in Settings.model_fields:
                values[name] = value
    return values


def read_config_file(path: Path) -> dict[str, Any]:
    """Read a TOML config file into ``{field name: value}``; ConfigError on any problem.

    Keys are the variable names without ``VISA_`` in lower case (``server_port = 9000``) or the
    full names (``VISA_SERVER_PORT = 9000``). Tables group by prefix: ``[instance]`` +
    ``user_default_quota = 3`` is ``instance_user_default_quota``.
    """
    where = f"config file {path}"
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"VISA_CONFIG_FILE: {where} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"VISA_CONFIG_FILE: {where} is a directory") from None
    except OSError as exc:
        raise ConfigError(f"VISA_CONFIG_FILE: cannot read {where}: {exc.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"VISA_CONFIG_FILE: {where} is not valid TOML: {exc}") from None

    values: dict[str, Any] = {}
    written_as: dict[str, str] = {}
    problems: list[str] = []
    for key, value in _flatten(data):
        name = key.lower()
        if name.startswith(ENV_PREFIX.lower()):
            name = name[len(ENV_PREFIX) :]
        if name == "config_file":
            problems.append(f"{key}: a config file cannot name another config file ({where})")
        elif name not in Settings.model_fields:
            problems.append(f"{key}: unknown setting in {where}")
        elif name in values:
            problems.append(f"{key}: set twice in {where} (also as {written_as[name]})")
        else:
            values[name] = value
            written_as[name] = key
    if problems:
        raise ConfigError(problems)
    return values


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in data.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}_")
        else:
            yield f"{prefix}{key}", value


def load_settings(
    config_file: Path | str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Build the settings: ``overrides`` > environment > config file > defaults.

    ``overrides`` are field names (``server_port=9000``). The config file is ``config_file``, else
    ``VISA_CONFIG_FILE``. ``environ`` defaults to :data:`os.environ`. Raises :class:`ConfigError`.
    """
    environ = os.environ if environ is None else environ
    unknown = sorted(set(overrides) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(f"{name}: unknown setting (override)" for name in unknown)
    if config_file is not None:
        overrides.setdefault("config_file", Path(config_file))

    env = _env_values(environ)
    path_value = overrides.get("config_file") or env.get("config_file")
    path = Path(path_value) if path_value else None
    from_file = read_config_file(path) if path is not None else {}

    sources: dict[str, Source] = {}
    for name in Settings.model_fields:
        if name in overrides:
            sources[name] = "override"
        elif name in env:
            sources[name] = "env"
        elif name in from_file:
            sources[name] = "file"
        else:
            sources[name] = "default"
    raw = {**from_file, **env, **overrides}

    token = _INIT_VALUES_ONLY.set(True)
    try:
        settings = Settings(**raw)
    except ValidationError as exc:
        raise ConfigError(_problems(exc, raw, sources, path)) from None
    finally:
        _INIT_VALUES_ONLY.reset(token)
    if sources["database_schema"] == "default" and settings.database_schema != "visa":
        sources["database_schema"] = sources["database_url"]  # adopted from currentSchema
    settings._sources = sources
    return settings


def _problems(
    exc: ValidationError, raw: Mapping[str, Any], sources: Mapping[str, Source], path: Path | None
) -> list[str]:
    problems: list[str] = []
    for error in exc.errors(include_url=False):
        message = re.sub(r"^(Value error|Assertion failed), ", "", error["msg"])
        loc = error["loc"]
        if not loc:
            problems.append(message)
            continue
        name = str(loc[0])
        where = env_var(name)
        for part in loc[1:]:
            where += f"[{part}]" if isinstance(part, int) else f".{part}"
        if name not in _SECRET_FIELDS:
            shown = raw.get(name) if len(loc) == 1 else error.get("input")
            if name in _URL_FIELDS and isinstance(shown, str):
                shown = _mask_url(shown)
            text = repr(shown)
            message += f" (got {text if len(text) <= 80 else text[:77] + '...'})"
        source = sources.get(name)
        if source == "file":
            message += f" [in {path}]"
        elif source == "override":
            message += " [override]"
        problems.append(f"{where}: {message}")
    return problems


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON: {exc}") from None


# ---------------------------------------------------------------------------------------------
# Display
# ---------------------------------------------------------------------------------------------


class ConfigEntry(NamedTuple):
    """One row of :func:`describe`."""

    env_var: str  # e.g. VISA_SERVER_PORT
    value: str  # as it could be written in the environment; secrets are ********
    source: Source  # default | env | file | override


def describe(settings: Settings) -> list[ConfigEntry]:
    """Every setting, in declaration order, as (ENV_VAR, displayed value, source).

    Values are shown as they would be written in the environment (``true``, ``GUACD``, JSON for
    the client lists, ``a,b`` for plugin lists, empty for unset). Secrets show ``********`` when
    set; passwords inside URLs are masked too.
    """
    return [
        ConfigEntry(
            env_var(name), display_value(name, getattr(settings, name)), settings.source_of(name)
        )
        for name in Settings.model_fields
    ]


def display_value(name: str, value: Any) -> str:
    """``value`` of setting ``name`` as text, masked if it is a secret."""
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return MASK
    if isinstance(value, bool):
        return _display_bool(value)
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, timedelta):
        milliseconds = round(value.total_seconds() * 1000)
        return f"{milliseconds // 1000}S" if milliseconds % 1000 == 0 else f"{milliseconds}MS"
    if name == "logging_file_max_file_size":
        for unit in ("T", "G", "M", "K"):
            if value % _MEMORY_UNITS[unit] == 0:
                return f"{value // _MEMORY_UNITS[unit]}{unit}"
        return str(value)
    if name in _JSON_LIST_FIELDS:
        return json.dumps([item.model_dump() for item in value], separators=(",", ":"))
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    if name in _URL_FIELDS:
        return _mask_url(str(value))
    return str(value)


def _display_bool(value: bool) -> str:
    return "true" if value else "false"


__all__ = [
    "MASK",
    "OUR_SETTINGS",
    "ClipboardUrlHost",
    "ConfigEntry",
    "ConfigError",
    "DefaultVdiProtocol",
    "KeyboardLayout",
    "LogLevel",
    "OwnerDisconnectionPolicy",
    "Settings",
    "StartTls",
    "SyslogType",
    "describe",
    "display_value",
    "env_var",
    "load_settings",
    "read_config_file",
]
