"""Replies to the channel: one pooled session (connections reused), 429 back-off, a slow channel
never delaying other conversations, fast clean failures, and no reply to a serviceUrl the bot may
not talk to (the SSRF hole of the raw SDK's anonymous mode)."""

from __future__ import annotations

import asyncio
from email.utils import format_datetime
from datetime import datetime, timedelta, timezone

import pytest
from botbuilder.schema import Activity, ConversationAccount
from botframework.connector.auth import AppCredentials, ServiceClientCredentialsFactory

from bot.http import ADAPTER
from bot.outbound import OutboundError, OutboundLimits, OutboundReplies, retry_delay
from bot.settings import Settings
from tests.http.support import ChannelRecorder, StandInBot, message, stand_in_app


async def test_replies_reuse_one_connection(aiohttp_client, channel):
    client = await aiohttp_client(stand_in_app(bot=StandInBot(replies=3)))
    for _ in range(4):
        response = await client.post("/api/messages", json=message(service_url=channel.url))
        assert response.status == 201
    assert len(channel.received) == 12
    assert len(channel.connections) == 1, "every reply after the first rides the same keep-alive connection"


async def test_429_is_retried_after_retry_after(aiohttp_client, channel):
    channel.throttle_first = 2
    channel.retry_after = "0.05"
    client = await aiohttp_client(stand_in_app())
    response = await client.post("/api/messages", json=message("hi", service_url=channel.url))
    assert response.status == 201
    assert [r["text"] for r in channel.received] == ["received 2"]


async def test_endless_429_gives_up_with_502_not_a_traceback(aiohttp_client, channel):
    channel.throttle_first = 100
    channel.retry_after = "0"
    limits = OutboundLimits(max_retries=2)
    client = await aiohttp_client(stand_in_app(outbound_limits=limits))
    response = await client.post("/api/messages", json=message(service_url=channel.url))
    assert response.status == 502
    assert (await response.json()) == {"error": "the reply could not be delivered to the channel"}
    assert channel.throttle_first == 100 - 3  # the first try and two retries, then it stops


def test_retry_after_is_honoured_but_bounded():
    assert retry_delay({"Retry-After": "2"}, 0, cap=5) == 2
    assert retry_delay({"Retry-After": "3600"}, 0, cap=5) == 5
    in_three = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=3), usegmt=True)
    assert 1 < retry_delay({"Retry-After": in_three}, 0, cap=5) <= 3
    assert retry_delay({}, 0, cap=5) == 0.5
    assert retry_delay({}, 3, cap=5) == 4
    assert retry_delay({"Retry-After": "soon"}, 1, cap=5) == 1


async def test_a_slow_channel_never_delays_another_conversation(aiohttp_client, aiohttp_server, channel):
    slow = ChannelRecorder(delay_seconds=2)
    slow_server = await aiohttp_server(slow.app())
    client = await aiohttp_client(stand_in_app())
    stuck = [
        asyncio.create_task(client.post("/api/messages", json=message(service_url=str(slow_server.make_url("/")))))
        for _ in range(24)
    ]
    await asyncio.sleep(0.1)
    response = await client.post("/api/messages", json=message("fast", service_url=channel.url))
    assert response.status == 201
    assert [r["text"] for r in channel.received] == ["received 4"]
    assert not any(task.done() for task in stuck), "the healthy reply went out while the slow ones still waited"
    assert {(await task).status for task in stuck} == {201}


async def test_a_slow_service_url_on_the_same_host_never_delays_another(aiohttp_client, channel):
    """Teams' regional serviceUrls share one host: the isolation is per serviceUrl, not per host."""
    channel.slow_path_delay_seconds = 2
    client = await aiohttp_client(stand_in_app())
    slow_url = channel.url + "slow/"
    stuck = [asyncio.create_task(client.post("/api/messages", json=message(service_url=slow_url))) for _ in range(40)]
    await asyncio.sleep(0.1)
    fast = await asyncio.gather(*[client.post("/api/messages", json=message("fast", service_url=channel.url)) for _ in range(20)])
    assert [r.status for r in fast] == [201] * 20
    assert not any(task.done() for task in stuck), "twenty healthy replies went out while the slow ones waited"
    for task in stuck:
        task.cancel()


async def test_unreachable_service_url_fails_fast_and_clean(aiohttp_client):
    bot = StandInBot()
    client = await aiohttp_client(stand_in_app(bot=bot))
    response = await client.post("/api/messages", json=message(service_url="http://127.0.0.1:9/"))
    assert response.status == 502
    assert "Traceback" not in await response.text()
    assert bot.turns == 1


async def test_hanging_channel_times_out(aiohttp_client, channel):
    channel.delay_seconds = 5
    client = await aiohttp_client(stand_in_app(outbound_limits=OutboundLimits(total_timeout_seconds=0.3)))
    response = await client.post("/api/messages", json=message(service_url=channel.url))
    assert response.status == 502


@pytest.mark.parametrize(
    "service_url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://example.com/",
        "https://smba.trafficmanager.net/uk/",
        "file:///etc/passwd",
        "http://127.0.0.1.nip.io/",
    ],
)
async def test_anonymous_mode_never_replies_outside_loopback(aiohttp_client, service_url):
    bot = StandInBot()
    client = await aiohttp_client(stand_in_app(bot=bot))
    response = await client.post("/api/messages", json=message(service_url=service_url))
    assert response.status == 400
    assert bot.turns == 0


async def test_outbound_refuses_a_disallowed_url_even_when_asked_directly():
    outbound = OutboundReplies(Settings.from_env({}))
    reply = Activity(type="message", text="x", service_url="http://169.254.169.254/", conversation=ConversationAccount(id="c"))
    with pytest.raises(OutboundError, match="service_url_not_allowed"):
        await outbound.send(reply)
    assert outbound.closed  # refused before any connection was opened


async def test_a_redirecting_channel_cannot_bounce_the_reply_elsewhere(aiohttp_client, aiohttp_server, channel):
    elsewhere = ChannelRecorder()
    elsewhere_server = await aiohttp_server(elsewhere.app())
    channel.redirect_to = str(elsewhere_server.make_url("/v3/conversations/x/activities"))
    client = await aiohttp_client(stand_in_app())
    response = await client.post("/api/messages", json=message(service_url=channel.url))
    assert response.status == 502
    assert elsewhere.received == []


async def test_the_outbound_session_closes_with_the_app(aiohttp_client, channel):
    app = stand_in_app()
    client = await aiohttp_client(app)
    await client.post("/api/messages", json=message(service_url=channel.url))
    outbound = app[ADAPTER].outbound
    assert not outbound.closed
    await client.close()
    assert outbound.closed


class CountingCredentials(AppCredentials):
    def __init__(self):
        super().__init__(app_id="bot-app", channel_auth_tenant="tenant-test", oauth_scope="https://api.botframework.com")
        self.calls = 0

    def get_access_token(self, force_refresh: bool = False) -> str:
        self.calls += 1
        return f"token-{self.calls}"


class OneCredentialsFactory(ServiceClientCredentialsFactory):
    def __init__(self):
        self.credentials = CountingCredentials()

    async def is_valid_app_id(self, app_id):
        return app_id == "bot-app"

    async def is_authentication_disabled(self):
        return False

    async def create_credentials(self, app_id, oauth_scope, login_endpoint, validate_authority):
        return self.credentials


async def test_channel_token_is_fetched_once_and_reused():
    settings = Settings(app_id="bot-app", app_password="pw", app_type="SingleTenant", app_tenant_id="tenant-test")
    factory = OneCredentialsFactory()
    outbound = OutboundReplies(settings, factory)
    tokens = await asyncio.gather(*[outbound.bearer_token("https://api.botframework.com") for _ in range(5)])
    assert tokens == ["token-1"] * 5
    assert factory.credentials.calls == 1
    assert await OutboundReplies(Settings.from_env({}), factory).bearer_token(None) is None


class LoopbackChannelSettings(Settings):
    """Credentials set, but the channel is a plain-http loopback test double."""

    def service_url_allowed(self, service_url):
        return (service_url or "").startswith("http://127.0.0.1:")

    def reply_address_allowed(self, address):
        return address == "127.0.0.1"


async def test_replies_carry_the_channel_token(channel):
    settings = LoopbackChannelSettings(app_id="bot-app", app_password="pw", app_type="SingleTenant", app_tenant_id="tenant-test")
    factory = OneCredentialsFactory()
    outbound = OutboundReplies(settings, factory)
    try:
        for _ in range(3):
            reply = Activity(type="message", text="x", service_url=channel.url, conversation=ConversationAccount(id="c"))
            await outbound.send(reply, "https://api.botframework.com")
    finally:
        await outbound.close()
    assert channel.authorizations == ["Bearer token-1"] * 3
