"""The served OpenAPI document matches the routes and what their validators demand."""

from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from api.app import create_app
from copilot.settings import Settings
from copilot.tenants import TenantRegistry
from copilot.vault import KeyVault

DOMAIN, KEY = "spec.freshdesk.test", "spec-key"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


async def test_openapi_describes_every_route_and_the_required_fields_the_validators_enforce(service_env):
    settings = Settings()
    redis = Redis.from_url(settings.redis.url, decode_responses=True)
    vault = KeyVault.from_settings(settings.security.fernet_keys, "test", settings.stack.data_dir)
    await TenantRegistry(redis, vault, settings.kafka.namespace).add(DOMAIN, KEY, "http://127.0.0.1:9")
    app = create_app(settings)
    api = TestClient(TestServer(app))
    await api.start_server()
    try:
        response = await api.get("/openapi.json")  # public, like /health
        assert response.status == 200
        spec = await response.json()
        assert spec["openapi"].startswith("3.")
        routed = {(r.resource.canonical, r.method.lower()) for r in app.router.routes()
                  if r.resource is not None and r.method != "HEAD"}
        described = {(path, method) for path, ops in spec["paths"].items() for method in ops}
        assert routed == described
        schemas = spec["components"]["schemas"]
        assert all(ref.removeprefix("#/components/schemas/") in schemas for ref in _refs(spec))

        auth = {"X-Freshdesk-Domain": DOMAIN, "X-Freshdesk-Api-Key": KEY}
        checked = []
        for path, ops in spec["paths"].items():
            body = ops.get("post", {}).get("requestBody", {}).get("content", {}).get("application/json")
            if not body or "$ref" not in body["schema"]:
                continue
            required = schemas[body["schema"]["$ref"].rsplit("/", 1)[1]]["required"]
            refused = await api.post(path, json={}, headers=auth)
            assert refused.status == 400 and (await refused.json())["field"] in required, path
            checked.append(path)
        assert sorted(checked) == ["/feedback", "/query"]  # the loop above really checked the JSON bodies
    finally:
        await api.close()
        await redis.aclose()
