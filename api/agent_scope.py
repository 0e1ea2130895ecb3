"""The calling agent's ticket scope (`X-Freshdesk-Agent-Id`), asked of the helpdesk and cached in Redis.

Without the header a request sees what the tenant's API key sees. With it, results keep to the tickets that
agent may open in Freshdesk. Anything uncertain refuses the request rather than widen what is shown: an agent
the helpdesk does not know is a 403, a helpdesk that cannot be asked a 502. A scope changed in Freshdesk takes
effect within the cache's TTL.
"""

from __future__ import annotations

import json

from aiohttp import web
from redis.asyncio import Redis

from api.errors import RequestError
from api.helpdesk import helpdesk
from copilot.agent_scope import AgentScope, UnknownScopeError
from copilot.errors import UpstreamError
from copilot.tenants import Tenant, TenantRegistry

AGENT_HEADER = "X-Freshdesk-Agent-Id"


class AgentScopes:
    def __init__(self, redis: Redis, registry: TenantRegistry, namespace: str, ttl_seconds: int) -> None:
        self._redis = redis
        self._registry = registry
        self._ns = namespace
        self._ttl = ttl_seconds

    async def of(self, tenant: Tenant, agent_id: int) -> AgentScope:
        if cached := await self._redis.get(self._key(tenant.tenant_id, agent_id)):
            return AgentScope.load(json.loads(cached))
        try:
            async with helpdesk(tenant, self._registry) as adapter:
                scope = await adapter.fetch_agent_scope(agent_id)
        except UnknownScopeError as exc:
            raise RequestError(403, "unknown_agent_scope", str(exc), AGENT_HEADER) from exc
        except UpstreamError as exc:
            raise RequestError(502, "helpdesk_unavailable",
                               f"the helpdesk could not be asked for agent {agent_id}'s ticket scope: {exc}") from exc
        if scope is None:
            raise RequestError(403, "unknown_agent", f"the helpdesk has no agent {agent_id}", AGENT_HEADER)
        await self.remember(tenant.tenant_id, scope)
        return scope

    async def remember(self, tenant_id: str, scope: AgentScope) -> None:
        await self._redis.set(self._key(tenant_id, scope.agent_id), json.dumps(scope.dump()), ex=self._ttl)

    def _key(self, tenant_id: str, agent_id: int) -> str:
        return f"{self._ns}:agent-scope:{tenant_id}:{agent_id}"

    async def of_request(self, request: web.Request, tenant: Tenant) -> AgentScope | None:
        """The scope of the agent the request names; None when it names none."""
        agent_id = agent_of(request)
        return None if agent_id is None else await self.of(tenant, agent_id)


def agent_of(request: web.Request) -> int | None:
    """The agent id the request names (a Freshdesk agent id), or None; anything else is a 400."""
    raw = request.headers.get(AGENT_HEADER)
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise RequestError(400, "invalid_header", f"{AGENT_HEADER} must be a positive integer agent id", AGENT_HEADER)
    return int(raw)
