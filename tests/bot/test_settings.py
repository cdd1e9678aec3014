"""Configuration that is half set or unsafe stops start-up with a message that says what to fix."""

import pytest

from pathlib import Path

from bot.settings import Settings, SettingsError

CREDS = {"MicrosoftAppId": "11111111-1111-1111-1111-111111111111", "MicrosoftAppPassword": "s3cret"}


def test_defaults_are_local_anonymous_in_memory_on_loopback():
    settings = Settings.from_env({})
    assert settings.anonymous
    assert (settings.host, settings.port, settings.storage) == ("127.0.0.1", 3978, "memory")


@pytest.mark.parametrize(
    "env, names",
    [
        ({"MicrosoftAppId": CREDS["MicrosoftAppId"], "MicrosoftAppType": "MultiTenant"}, "MicrosoftAppPassword"),
        ({**CREDS, "MicrosoftAppType": "Multi"}, "MicrosoftAppType"),
        ({"MicrosoftAppPassword": "x"}, "MicrosoftAppId"),
        ({**CREDS, "MicrosoftAppType": "SingleTenant"}, "MicrosoftAppTenantId"),
        ({**CREDS}, "MicrosoftAppTenantId"),  # SingleTenant is the default type
        ({"BOT_ENVIRONMENT": "production"}, "credentials"),
        ({"BOT_HOST": "0.0.0.0"}, "loopback"),
        ({"BOT_STORAGE": "blob"}, "BOT_BLOB_CONNECTION_STRING"),
        ({"BOT_STORAGE": "redis"}, "BOT_STORAGE"),
        ({"BOT_PORT": "eighty"}, "BOT_PORT"),
        (
            {**CREDS, "MicrosoftAppType": "UserAssignedMSI", "MicrosoftAppTenantId": "t"},
            "managed identity",
        ),
    ],
)
def test_half_set_configuration_is_refused_with_a_clear_message(env, names):
    with pytest.raises(SettingsError, match=names):
        Settings.from_env(env)


def test_production_needs_a_tenant_allow_list():
    env = {**CREDS, "MicrosoftAppTenantId": "t", "BOT_ENVIRONMENT": "production", "BOT_HOST": "0.0.0.0"}
    with pytest.raises(SettingsError, match="BOT_ALLOWED_TENANTS"):
        Settings.from_env(env)
    settings = Settings.from_env({**env, "BOT_ALLOWED_TENANTS": "t1, t2"})
    assert settings.allowed_tenants == frozenset({"t1", "t2"})
    assert settings.channels_allowed() == frozenset({"msteams"})


@pytest.mark.parametrize(
    "url, allowed",
    [
        ("http://127.0.0.1:9/", True),
        ("http://localhost:3978", True),
        ("http://[::1]:80/", True),
        ("http://169.254.169.254/latest/meta-data", False),
        ("https://smba.trafficmanager.net/uk/", False),
        ("file:///etc/passwd", False),
        ("", False),
    ],
)
def test_anonymous_mode_replies_only_to_loopback(url, allowed):
    assert Settings.from_env({}).service_url_allowed(url) is allowed


def test_with_credentials_replies_go_only_over_https_to_allowed_hosts():
    settings = Settings.from_env(
        {**CREDS, "MicrosoftAppTenantId": "t", "BOT_ALLOWED_SERVICE_URL_HOSTS": "trafficmanager.net"}
    )
    assert settings.service_url_allowed("https://smba.trafficmanager.net/uk/")
    assert not settings.service_url_allowed("http://smba.trafficmanager.net/uk/")
    assert not settings.service_url_allowed("https://evil.example/")


def test_the_classifier_model_is_kept_in_the_users_cache_unless_told_otherwise():
    assert Settings.from_env({"HOME": "/home/dsl"}).model_cache_dir == Path("/home/dsl/.cache/ocsa-safeguarding-bot")
    assert Settings.from_env({"HOME": "/home/dsl", "XDG_CACHE_HOME": "/var/cache/u"}).model_cache_dir == Path(
        "/var/cache/u/ocsa-safeguarding-bot"
    )
    assert Settings.from_env({"BOT_MODEL_CACHE_DIR": "/app/model-cache"}).model_cache_dir == Path("/app/model-cache")
    assert Settings.from_env({"HOME": "/home/dsl", "BOT_MODEL_CACHE_DIR": "off"}).model_cache_dir is None
    assert Settings.from_env({}).model_cache_dir is None
