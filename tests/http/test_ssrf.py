"""Reply targets by address (issue 16, item 4), on loopback: with credentials, a serviceUrl whose
address (written in the URL, or resolved from its name) is private, loopback or link-local gets no
connection; production replies only to Teams' own hosts unless told otherwise; expectReplies
refuses a non-http(s) serviceUrl instead of echoing it. The same in a private network namespace,
with real listeners on the private addresses: tests/hardening/test_ssrf_netns.py."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp.abc import AbstractResolver
from botbuilder.schema import Activity, ConversationAccount

from bot.outbound import OutboundError, OutboundReplies
from bot.settings import DEFAULT_TEAMS_SERVICE_URL_HOSTS, Settings
from tests.http.support import APP_ID, message, stand_in_app

AUTH = dict(app_id=APP_ID, app_password="x", app_type="SingleTenant", app_tenant_id="tenant-test")

REFUSED_URLS = [
    "https://169.254.169.254/",
    "https://169.254.169.254:443/latest/meta-data/",
    "https://10.1.2.3/",
    "https://172.16.0.9/",
    "https://192.168.1.10/",
    "https://100.64.0.1/",
    "https://127.0.0.1/",
    "https://127.1/",
    "https://0.0.0.0/",
    "https://[::1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[fe80::1]/",
    "https://[fd00::1]/",
    "https://224.0.0.1/",
    "https://localhost/",
    "https://LOCALHOST./",
    "https://bot.localhost/",
    "http://smba.trafficmanager.net/uk/",
    "file:///etc/passwd",
    "gopher://smba.trafficmanager.net/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_auth_mode_refuses_private_loopback_and_link_local_targets(url):
    assert not Settings(**AUTH).service_url_allowed(url)


def test_auth_mode_accepts_public_targets():
    settings = Settings(**AUTH)
    assert settings.service_url_allowed("https://smba.trafficmanager.net/uk/")
    assert settings.service_url_allowed("https://8.8.8.8/")  # a public address, no allow-list set


def test_production_replies_only_to_teams_hosts_by_default():
    production = Settings(**AUTH, environment="production", allowed_tenants=frozenset({"t"}))
    production.validate()
    assert production.service_url_hosts() == DEFAULT_TEAMS_SERVICE_URL_HOSTS
    assert production.service_url_allowed("https://smba.trafficmanager.net/emea/")
    assert production.service_url_allowed("https://smba.infra.gcc.teams.microsoft.com/teams/")
    assert not production.service_url_allowed("https://attacker.example/")
    assert not production.service_url_allowed("https://smba.trafficmanager.net.attacker.example/")
    configured = Settings(**AUTH, environment="production", allowed_tenants=frozenset({"t"}),
                          allowed_service_url_hosts=frozenset({"bots.example.org"}))
    assert configured.service_url_allowed("https://eu.bots.example.org/")
    assert not configured.service_url_allowed("https://smba.trafficmanager.net/uk/")


class FixedResolver(AbstractResolver):
    """DNS that answers every name with one address: an attacker's name pointing at loopback."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.asked: list[str] = []

    async def resolve(self, host, port=0, family=socket.AF_INET):
        self.asked.append(host)
        return [{"hostname": host, "host": self.address, "port": port, "family": socket.AF_INET, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        pass


@pytest.fixture
async def listener():
    """A TCP listener on 127.0.0.1 that counts the connections it accepts."""
    accepted: list[int] = []

    async def on_connect(reader, writer):
        accepted.append(1)
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port, accepted
    server.close()
    await server.wait_closed()


def reply(service_url: str) -> Activity:
    return Activity(type="message", text="hi", service_url=service_url, conversation=ConversationAccount(id="a:c"))


async def test_a_public_name_that_resolves_to_loopback_gets_no_connection(listener):
    """The re-check after DNS: the name passes the URL check, its address does not."""
    port, accepted = listener
    resolver = FixedResolver("127.0.0.1")
    outbound = OutboundReplies(Settings(**AUTH), resolver=resolver)
    try:
        with pytest.raises(OutboundError, match="service_url_address_refused"):
            await outbound.send(reply(f"https://replies.attacker.example:{port}/"))
    finally:
        await outbound.close()
    assert resolver.asked == ["replies.attacker.example"], "the name was resolved..."
    assert accepted == [], "...and its loopback address never connected to"


async def test_the_same_listener_is_reachable_without_the_guard(listener):
    """Control: anonymous mode (loopback replies allowed) does connect to the same listener."""
    port, accepted = listener
    outbound = OutboundReplies(Settings())
    try:
        with pytest.raises(OutboundError):
            await outbound.send(reply(f"http://127.0.0.1:{port}/"))  # the listener hangs up
    finally:
        await outbound.close()
    assert accepted == [1]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)", "gopher://x/", "ftp://x/"])
async def test_expect_replies_refuses_a_non_http_service_url(aiohttp_client, url):
    client = await aiohttp_client(stand_in_app())
    response = await client.post("/api/messages", json=message("hello", expect_replies=True, service_url=url))
    assert response.status == 400
    assert (await response.json()) == {"error": "serviceUrl must be an http(s) URL"}
