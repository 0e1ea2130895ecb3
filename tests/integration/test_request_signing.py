"""Signed requests through the real API and Redis: required signatures, tampering, staleness and replays."""

import json
import time

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from api.app import create_app
from api.signing import TIMESTAMP_HEADER, signed_headers
from copilot.settings import Settings
from copilot.tenants import TenantRegistry
from copilot.vault import KeyVault

DOMAIN, KEY = "signed.freshdesk.test", "signed-key"


async def test_signing_required_refuses_unsigned_tampered_stale_and_replayed_requests(service_env, monkeypatch):
    monkeypatch.setenv("COPILOT_API_SIGNING", "required")
    settings = Settings()
    redis = Redis.from_url(settings.redis.url, decode_responses=True)
    vault = KeyVault.from_settings(settings.security.fernet_keys, "test", settings.stack.data_dir)
    await TenantRegistry(redis, vault, settings.kafka.namespace).add(DOMAIN, KEY, "http://127.0.0.1:9")
    api = TestClient(TestServer(create_app(settings)))
    await api.start_server()
    auth = {"X-Freshdesk-Domain": DOMAIN, "X-Freshdesk-Api-Key": KEY}
    body = json.dumps({"query": "SSO login fails"}).encode()

    async def post(headers: dict[str, str], data: bytes = body) -> tuple[int, dict]:
        response = await api.post("/query", data=data, headers={**auth, **headers})
        return response.status, await response.json()

    try:
        status, error = await post({})
        assert (status, error["error"]) == (401, "bad_signature")
        signed = signed_headers(KEY, "POST", "/query", body)
        status, answer = await post(signed)
        assert status == 200 and answer["query"] == "SSO login fails"  # the handler still reads the body
        status, error = await post(signed)
        assert status == 401 and "replay" in error["message"]
        status, error = await post(signed_headers(KEY, "POST", "/query", body), b'{"query": "billing"}')
        assert status == 401 and "does not match" in error["message"]
        stale = signed_headers(KEY, "POST", "/query", body, now=time.time() - 301)
        status, error = await post(stale)
        assert status == 401 and TIMESTAMP_HEADER in error["message"]
        status, _ = await post(signed_headers("not-the-key", "POST", "/query", body))
        assert status == 401
        bad_body = b'{"query": ""}'
        status, error = await post(signed_headers(KEY, "POST", "/query", bad_body), bad_body)
        assert (status, error["field"]) == (400, "query")  # signature fine: validation answers
    finally:
        await api.close()
        await redis.aclose()
