"""The tenant registry in Redis: one Freshdesk account per tenant, its API key encrypted at rest."""

from __future__ import annotations

import hmac
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from copilot.errors import TenantError
from copilot.retrieval_config import RetrievalConfig
from copilot.vault import KeyVault

_DOMAIN = re.compile(r"^[a-z0-9][a-z0-9.-]{0,252}$")


def normalize_domain(domain: str) -> str:
    """The tenant id: the lower-cased domain. The strict pattern also makes it safe inside Milvus filters."""
    value = domain.strip().lower()
    if not _DOMAIN.match(value):
        raise TenantError(f"invalid Freshdesk domain {domain!r}")
    return value


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    base_url: str
    platform: str = "freshdesk"
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)


def registry_key(namespace: str) -> str:
    return f"{namespace}:tenants"


async def retrieval_of(redis: Redis, namespace: str, tenant_id: str) -> RetrievalConfig:
    """A tenant's retrieval settings, for the worker (which needs no API keys, hence no vault)."""
    raw = await redis.hget(registry_key(namespace), tenant_id)
    return _tenant(json.loads(raw)).retrieval if raw else RetrievalConfig()


class TenantRegistry:
    def __init__(self, redis: Redis, vault: KeyVault, namespace: str) -> None:
        self._redis = redis
        self._vault = vault
        self._key = registry_key(namespace)

    async def add(self, domain: str, api_key: str, base_url: str | None = None) -> tuple[Tenant, str]:
        """Register (or update, keeping its retrieval settings) a tenant; returns it with its new webhook
        secret, shown only this once."""
        from connectors.freshdesk.client import base_url_for

        tenant_id = normalize_domain(domain)
        previous = await self._record(tenant_id)
        tenant = Tenant(tenant_id, base_url or base_url_for(tenant_id),
                        retrieval=_tenant(previous).retrieval if previous else RetrievalConfig())
        webhook_secret = secrets.token_urlsafe(24)
        await self._save(tenant, {"api_key": self._vault.encrypt(api_key),
                                  "webhook_secret": self._vault.encrypt(webhook_secret)})
        return tenant, webhook_secret

    async def configure(self, domain: str, **updates: Any) -> RetrievalConfig:
        """Change some of a tenant's retrieval settings (None leaves one as it is); RetrievalConfigError if
        a value is out of range."""
        record = await self._record(normalize_domain(domain))
        if record is None:
            raise TenantError(f"tenant {domain} is not registered")
        tenant = _tenant(record)
        config = tenant.retrieval.changed(**updates)
        await self._save(Tenant(tenant.tenant_id, tenant.base_url, tenant.platform, config),
                         {"api_key": record["api_key"], "webhook_secret": record["webhook_secret"]})
        return config

    async def _save(self, tenant: Tenant, secrets_: dict[str, str]) -> None:
        record = {"tenant_id": tenant.tenant_id, "base_url": tenant.base_url, "platform": tenant.platform,
                  "retrieval": tenant.retrieval.dump(), **secrets_}
        await self._redis.hset(self._key, tenant.tenant_id, json.dumps(record))

    async def _record(self, tenant_id: str) -> dict[str, Any] | None:
        raw = await self._redis.hget(self._key, tenant_id)
        return json.loads(raw) if raw else None

    async def all(self) -> list[Tenant]:
        records = await self._redis.hvals(self._key)
        return [_tenant(json.loads(r)) for r in records]

    async def api_key(self, tenant: Tenant) -> str:
        record = await self._record(tenant.tenant_id)
        if record is None:
            raise TenantError(f"tenant {tenant.tenant_id} is not registered")
        return self._vault.decrypt(record["api_key"]).get_secret_value()

    async def verify_webhook(self, tenant_id: str, secret: str | None) -> Tenant:
        """The tenant whose webhook secret matches (constant-time); TenantError otherwise."""
        try:
            record = await self._record(normalize_domain(tenant_id))
        except TenantError:
            record = None
        stored = self._vault.decrypt(record["webhook_secret"]).get_secret_value() if record else ""
        if record is None or not secret or not hmac.compare_digest(stored.encode(), secret.encode()):
            raise TenantError("unknown tenant or wrong webhook secret")
        return _tenant(record)

    async def authenticate(self, domain: str | None, api_key: str | None) -> Tenant:
        """The tenant whose stored key equals the given one (constant-time); TenantError otherwise."""
        if not domain or not api_key:
            raise TenantError("X-Freshdesk-Domain and X-Freshdesk-Api-Key are required")
        try:
            record = await self._record(normalize_domain(domain))
        except TenantError:
            record = None
        stored = self._vault.decrypt(record["api_key"]).get_secret_value() if record else ""
        if not hmac.compare_digest(stored.encode(), api_key.encode()) or record is None:
            raise TenantError("unknown domain or wrong API key")
        return _tenant(record)


def _tenant(record: dict[str, Any]) -> Tenant:
    return Tenant(record["tenant_id"], record["base_url"], record.get("platform", "freshdesk"),
                  RetrievalConfig.from_dict(record.get("retrieval")))
