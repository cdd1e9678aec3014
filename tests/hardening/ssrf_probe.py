"""Run inside a private network namespace by test_ssrf_netns.py (never on its own): real TCP
listeners on private, loopback and link-local addresses, port 443; the bot in auth mode with a
local identity server; one genuinely signed activity per attacking serviceUrl. Prints one JSON
line: what the control connections reached, each serviceUrl's status, what the bot connected to."""

from __future__ import annotations

import asyncio
import json
import socket
import sys

import aiohttp

from tests.http.support import (
    HardenedTestServer,
    IdentityServer,
    LocalChannelCredentials,
    authenticated_settings,
    message,
    stand_in_app,
)

ADDRESSES = ["169.254.169.254", "10.1.2.3", "172.16.0.9", "192.168.1.10", "100.64.0.1", "127.0.0.1", "::1"]
SERVICE_URLS = [
    "https://169.254.169.254/",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.1.2.3/",
    "https://172.16.0.9/",
    "https://192.168.1.10/",
    "https://100.64.0.1/",
    "https://127.0.0.1/",
    "https://127.1/",
    "https://[::1]/",
    "https://[::ffff:169.254.169.254]/",
    "https://[::ffff:a9fe:a9fe]/",
    "https://2852039166/",  # 169.254.169.254 as one number
    "https://localhost/",
    "https://metadata.attacker.test/",  # names in this namespace's /etc/hosts
    "https://ten.attacker.test/",
    "https://loop.attacker.test/",
    "https://six.attacker.test/",
]


async def main() -> dict:
    accepted: list[str] = []

    async def on_connect(reader, writer):
        accepted.append(writer.get_extra_info("sockname")[0])
        writer.close()

    listeners = [
        await asyncio.start_server(on_connect, "0.0.0.0", 443, reuse_address=True),
        await asyncio.start_server(on_connect, "::", 443, family=socket.AF_INET6, reuse_address=True),
    ]
    control = []
    for address in ADDRESSES:
        _, writer = await asyncio.open_connection(address, 443)
        control.append(address)
        writer.close()
    for _ in range(200):  # readiness: every control connection was accepted
        if len(accepted) >= len(ADDRESSES):
            break
        await asyncio.sleep(0.01)
    reached_by_control = sorted(set(accepted))
    accepted.clear()

    identity = IdentityServer()
    identity_runner = aiohttp.web.AppRunner(identity.app())
    await identity_runner.setup()
    site = aiohttp.web.TCPSite(identity_runner, "127.0.0.1", 0)
    await site.start()
    identity.base_url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
    app = stand_in_app(authenticated_settings(identity.base_url), credentials_factory=LocalChannelCredentials())
    bot = HardenedTestServer(app)
    await bot.start_server()
    statuses = {}
    try:
        async with aiohttp.ClientSession() as session:
            for url in SERVICE_URLS:
                token = identity.token(service_url=url)
                async with session.post(
                    f"http://127.0.0.1:{bot.port}/api/messages",
                    json=message("hello", service_url=url),
                    headers={"Authorization": f"Bearer {token}"},
                ) as response:
                    statuses[url] = response.status
    finally:
        await bot.close()
        await identity_runner.cleanup()
        for listener in listeners:
            listener.close()
    return {"reached_by_control": reached_by_control, "statuses": statuses, "bot_connected_to": accepted}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
    sys.exit(0)
