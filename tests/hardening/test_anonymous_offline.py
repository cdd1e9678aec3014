"""Anonymous local mode reaches nothing outside the machine (issue 16, item 5): a request with a
Bearer token claiming one of Microsoft's issuers is answered as any anonymous request is, and the
SDK's OpenID metadata cache records no fetch (and gains no fetcher of its own for another URL)."""

from __future__ import annotations

import pytest
from botframework.connector.auth import JwtTokenExtractor

from bot.auth import SigningKeyCache
from tests.http.support import IdentityServer, message, stand_in_app

MICROSOFT_ISSUERS = [
    "https://api.botframework.com",
    "https://sts.windows.net/d6d49420-f39b-4df7-a1dc-d59a935871db/",
    "https://login.microsoftonline.com/d6d49420-f39b-4df7-a1dc-d59a935871db/v2.0",
    "https://sts.windows.net/f8cdef31-a31e-4b4a-93e4-5f571e91255a/",
    "https://login.microsoftonline.com/f8cdef31-a31e-4b4a-93e4-5f571e91255a/v2.0",
]


@pytest.mark.parametrize("issuer", MICROSOFT_ISSUERS)
async def test_a_microsoft_token_in_anonymous_mode_fetches_nothing(aiohttp_client, issuer):
    client = await aiohttp_client(stand_in_app())
    before = dict(JwtTokenExtractor.metadataCache)
    assert before and all(isinstance(cache, SigningKeyCache) for cache in before.values())
    fetches_before = {url: cache.fetch_count for url, cache in before.items()}

    token = IdentityServer().token(service_url="http://127.0.0.1:9/", issuer=issuer, audience="any-bot")
    response = await client.post(
        "/api/messages", json=message("hello", expect_replies=True), headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status == 200
    assert (await response.json())["activities"][0]["text"] == "received 5"
    assert set(JwtTokenExtractor.metadataCache) == set(before), "no fetcher for another metadata URL"
    assert {url: cache.fetch_count for url, cache in JwtTokenExtractor.metadataCache.items()} == fetches_before
