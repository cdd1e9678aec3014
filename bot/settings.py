"""Configuration, read once from the environment at start-up and validated there.

Nothing is read at import time: ``Settings.from_env()`` is called by ``app.main()`` (and by tests
with their own mapping), so two apps with different settings can run side by side.
A half-set configuration stops start-up with a message that says what to fix.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse


class SettingsError(ValueError):
    """Configuration that must not start: the message names the setting and what to do."""


APP_TYPES = ("SingleTenant", "MultiTenant", "UserAssignedMSI")
STORAGE_KINDS = ("memory", "blob", "cosmos")
ENVIRONMENTS = ("local", "production")
LOOPBACK_HOSTS = ("localhost",)

# Where Teams' Bot Connector lives: the serviceUrl hosts Microsoft documents for Teams (the
# Microsoft 365 Agents SDK's TeamsServiceEndpoints: public cloud, GCC, GCC High, DoD). Production
# uses these when BOT_ALLOWED_SERVICE_URL_HOSTS is not set; a host matches itself and its
# subdomains. Regional serviceUrls (…/uk/, …/emea/, …/amer/) share smba.trafficmanager.net.
DEFAULT_TEAMS_SERVICE_URL_HOSTS = frozenset(
    {
        "smba.trafficmanager.net",
        "smba.infra.gcc.teams.microsoft.com",
        "smba.infra.gov.teams.microsoft.us",
        "smba.infra.dod.teams.microsoft.us",
    }
)


def as_ip_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address ``host`` names by itself (no DNS), or None for a name. Includes the shorthand
    forms the C resolver accepts as IPv4 ("127.1", "0x7f.1", "2130706433")."""
    host = (host or "").strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_public_address(address: str) -> bool:
    """True for an address on the public internet; False for private, loopback, link-local
    (169.254.169.254, the cloud metadata service), shared, reserved, multicast or unspecified
    ones, IPv4-mapped IPv6 included. Not an address at all: False."""
    ip = as_ip_address(address)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def is_ip_literal(host: str) -> bool:
    return as_ip_address(host) is not None


def is_loopback_host(host: str) -> bool:
    host = (host or "").strip("[]").lower()
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _csv(value: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (value or "").split(",") if part.strip())


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


def _model_cache_dir(env: Mapping[str, str]) -> Path | None:
    """BOT_MODEL_CACHE_DIR, "off" for none; by default the user's cache directory (XDG)."""
    chosen = (env.get("BOT_MODEL_CACHE_DIR") or "").strip()
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = (env.get("XDG_CACHE_HOME") or "").strip()
    home = (env.get("HOME") or "").strip()
    if base:
        return Path(base) / "ocsa-safeguarding-bot"
    return Path(home) / ".cache" / "ocsa-safeguarding-bot" if home else None


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 3978
    environment: str = "local"

    # Bot identity (standard Bot Framework settings). No app id = anonymous local mode.
    app_id: str = ""
    app_password: str = field(default="", repr=False)
    app_type: str = ""
    app_tenant_id: str = ""

    # Request limits
    max_body_bytes: int = 256 * 1024
    max_message_chars: int = 4000
    body_timeout_seconds: float = 10.0  # from headers read to the whole body in hand

    # State
    storage: str = "memory"
    state_ttl_seconds: int = 4 * 60 * 60
    blob_connection_string: str = field(default="", repr=False)
    blob_container: str = "bot-state"
    cosmos_endpoint: str = ""
    cosmos_key: str = field(default="", repr=False)
    cosmos_database: str = "safeguarding-bot"
    cosmos_container: str = "bot-state"

    # Who may talk to the bot
    allowed_tenants: frozenset[str] = frozenset()
    allowed_channels: frozenset[str] = frozenset()
    allowed_service_url_hosts: frozenset[str] = frozenset()

    # Where channel tokens' signing keys come from. Empty = the Bot Framework's public cloud.
    # Set for a sovereign/private cloud, or to a local identity server in tests.
    channel_openid_metadata_url: str = ""
    channel_token_issuer: str = ""
    signing_key_timeout_seconds: float = 5.0

    # Organisation's own contacts (see deployment/local-contacts.example.yaml)
    local_contacts_path: Path | None = None

    # Where the FAQ classifier's fitted model is kept between starts (no message text, only what
    # was learned from the content files). None = train at every start (a few seconds).
    model_cache_dir: Path | None = None

    log_level: str = "INFO"
    log_salt: str = field(default="", repr=False)
    # With credentials, GET /feedback needs "Authorization: Bearer <this>"; unset = not served.
    feedback_token: str = field(default="", repr=False)

    @property
    def anonymous(self) -> bool:
        return not self.app_id

    @property
    def effective_app_type(self) -> str:
        return self.app_type or "SingleTenant"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        get = lambda name, default="": (env.get(name) or default).strip()  # noqa: E731

        environment = get("BOT_ENVIRONMENT", "local").lower()
        if environment not in ENVIRONMENTS:
            raise SettingsError(f"BOT_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}")

        storage = get("BOT_STORAGE", "memory").lower()
        if storage not in STORAGE_KINDS:
            raise SettingsError(f"BOT_STORAGE must be one of {', '.join(STORAGE_KINDS)}, got {storage!r}")

        local_contacts = get("LOCAL_CONTACTS_PATH")
        settings = cls(
            model_cache_dir=_model_cache_dir(env),
            host=get("BOT_HOST", "127.0.0.1"),
            port=_int(env, "BOT_PORT", 3978),
            environment=environment,
            app_id=get("MicrosoftAppId"),
            app_password=get("MicrosoftAppPassword"),
            app_type=get("MicrosoftAppType"),
            app_tenant_id=get("MicrosoftAppTenantId"),
            max_body_bytes=_int(env, "BOT_MAX_BODY_BYTES", 256 * 1024, minimum=1024),
            max_message_chars=_int(env, "BOT_MAX_MESSAGE_CHARS", 4000, minimum=100),
            storage=storage,
            state_ttl_seconds=_int(env, "BOT_STATE_TTL_SECONDS", 4 * 60 * 60),
            blob_connection_string=get("BOT_BLOB_CONNECTION_STRING"),
            blob_container=get("BOT_BLOB_CONTAINER", "bot-state"),
            cosmos_endpoint=get("BOT_COSMOS_ENDPOINT"),
            cosmos_key=get("BOT_COSMOS_KEY"),
            cosmos_database=get("BOT_COSMOS_DATABASE", "safeguarding-bot"),
            cosmos_container=get("BOT_COSMOS_CONTAINER", "bot-state"),
            allowed_tenants=_csv(env.get("BOT_ALLOWED_TENANTS")),
            allowed_channels=_csv(env.get("BOT_ALLOWED_CHANNELS")),
            allowed_service_url_hosts=_csv(env.get("BOT_ALLOWED_SERVICE_URL_HOSTS")),
            channel_openid_metadata_url=get("BOT_CHANNEL_OPENID_METADATA_URL"),
            channel_token_issuer=get("BOT_CHANNEL_TOKEN_ISSUER"),
            signing_key_timeout_seconds=float(_int(env, "BOT_SIGNING_KEY_TIMEOUT_SECONDS", 5)),
            local_contacts_path=Path(local_contacts) if local_contacts else None,
            log_level=get("BOT_LOG_LEVEL", "INFO").upper(),
            log_salt=get("BOT_LOG_SALT"),
            feedback_token=get("BOT_FEEDBACK_TOKEN"),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        """Refuse configurations that are half set or unsafe; say exactly what to fix."""
        if self.app_type and self.app_type not in APP_TYPES:
            raise SettingsError(
                f"MicrosoftAppType {self.app_type!r} is not supported: use one of {', '.join(APP_TYPES)}"
            )
        if self.anonymous:
            if self.app_password or self.app_type or self.app_tenant_id:
                raise SettingsError(
                    "MicrosoftAppPassword/MicrosoftAppType/MicrosoftAppTenantId are set but MicrosoftAppId "
                    "is empty: set MicrosoftAppId too, or unset them all for anonymous local mode"
                )
            if self.environment == "production":
                raise SettingsError(
                    "BOT_ENVIRONMENT=production needs credentials: set MicrosoftAppId and its "
                    "MicrosoftAppType (SingleTenant or UserAssignedMSI)"
                )
            if not is_loopback_host(self.host):
                raise SettingsError(
                    f"anonymous local mode (no MicrosoftAppId) only binds to loopback; BOT_HOST is {self.host!r}"
                )
        else:
            app_type = self.effective_app_type
            if app_type in ("SingleTenant", "MultiTenant") and not self.app_password:
                raise SettingsError(f"MicrosoftAppId is set but MicrosoftAppPassword is empty ({app_type})")
            if app_type in ("SingleTenant", "UserAssignedMSI") and not self.app_tenant_id:
                raise SettingsError(f"MicrosoftAppType {app_type} needs MicrosoftAppTenantId")
            if app_type == "UserAssignedMSI" and self.app_password:
                raise SettingsError("UserAssignedMSI uses a managed identity: leave MicrosoftAppPassword empty")
        if self.storage == "blob" and not self.blob_connection_string:
            raise SettingsError("BOT_STORAGE=blob needs BOT_BLOB_CONNECTION_STRING")
        if self.storage == "cosmos" and not (self.cosmos_endpoint and self.cosmos_key):
            raise SettingsError("BOT_STORAGE=cosmos needs BOT_COSMOS_ENDPOINT and BOT_COSMOS_KEY")
        if bool(self.channel_openid_metadata_url) != bool(self.channel_token_issuer):
            raise SettingsError("set BOT_CHANNEL_OPENID_METADATA_URL and BOT_CHANNEL_TOKEN_ISSUER together, or neither")
        if self.environment == "production" and not self.allowed_tenants:
            raise SettingsError("BOT_ENVIRONMENT=production needs BOT_ALLOWED_TENANTS (your Entra tenant ids)")

    def channels_allowed(self) -> frozenset[str]:
        if self.allowed_channels:
            return self.allowed_channels
        return frozenset({"msteams"}) if self.environment == "production" else frozenset()

    def service_url_allowed(self, service_url: str | None) -> bool:
        """Where replies may be sent. Anonymous mode: loopback only (no SSRF through serviceUrl)."""
        parsed = urlparse(service_url or "")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            return False
        if self.anonymous:
            return is_loopback_host(parsed.hostname)
        if parsed.scheme != "https":
            return False
        host = parsed.hostname.lower().rstrip(".")
        # An address written into the URL must be a public one; a name is checked again by the
        # address it resolves to, when the reply connects (bot.outbound.refuse_private_addresses).
        if is_ip_literal(host) and not is_public_address(host):
            return False
        if host in LOOPBACK_HOSTS or host.endswith(".localhost"):
            return False
        hosts = self.service_url_hosts()
        if not hosts:
            return True
        return any(host == allowed or host.endswith("." + allowed) for allowed in hosts)

    def reply_address_allowed(self, address: str) -> bool:
        """Whether a reply may connect to this IP address (checked as each connection is made,
        after DNS): loopback only in anonymous mode, public addresses only with credentials."""
        ip = as_ip_address(address)
        if ip is None:
            return False
        if self.anonymous:
            return ip.is_loopback or (isinstance(ip, ipaddress.IPv6Address) and bool(ip.ipv4_mapped) and ip.ipv4_mapped.is_loopback)
        return is_public_address(address)

    def service_url_hosts(self) -> frozenset[str]:
        """The serviceUrl hosts replies may go to: BOT_ALLOWED_SERVICE_URL_HOSTS, else in
        production Teams' own hosts (DEFAULT_TEAMS_SERVICE_URL_HOSTS); empty = any public host."""
        if self.allowed_service_url_hosts:
            return frozenset(host.lower().rstrip(".") for host in self.allowed_service_url_hosts)
        return DEFAULT_TEAMS_SERVICE_URL_HOSTS if self.environment == "production" else frozenset()
