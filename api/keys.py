"""Typed application keys for the clients the handlers share."""

from aiohttp import web
from redis.asyncio import Redis

from copilot.index import CopilotIndex
from copilot.providers.embeddings import Embedder
from copilot.settings import Settings
from copilot.tenants import Tenant, TenantRegistry

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)
REGISTRY = web.AppKey("registry", TenantRegistry)
EMBEDDER = web.AppKey("embedder", Embedder)
INDEX = web.AppKey("index", CopilotIndex)
TENANT = "tenant"  # request-scoped: set by the auth middleware


def tenant_of(request: web.Request) -> Tenant:
    tenant: Tenant = request[TENANT]
    return tenant
