"""The tenant's helpdesk, for the few things the API asks of it directly (tickets not indexed yet, agents'
scopes): few retries, because an agent is waiting."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from connectors.base import PlatformAdapter
from connectors.freshdesk.adapter import FreshdeskAdapter
from connectors.freshdesk.client import FreshdeskClient
from copilot.tenants import Tenant, TenantRegistry


@asynccontextmanager
async def helpdesk(tenant: Tenant, registry: TenantRegistry) -> AsyncIterator[PlatformAdapter]:
    async with FreshdeskClient(tenant.base_url, await registry.api_key(tenant), max_retries=2) as client:
        yield FreshdeskAdapter(tenant.tenant_id, client)
