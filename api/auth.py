"""Tenant authentication: the Freshdesk domain must be registered and the API key must match its stored key;
with request signing on, the request must also carry a fresh, unused signature made with that key."""

from __future__ import annotations

from aiohttp import web

from api.errors import Handler, error_response
from api.keys import REGISTRY, REPLAYS, SETTINGS, TENANT
from api.openapi import OPENAPI_PATH
from api.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, SignatureError, check_signature
from copilot.errors import TenantError

PUBLIC_PATHS = frozenset({"/health", "/ready", "/metrics", OPENAPI_PATH, "/sidebar"})
SECRET_AUTHENTICATED = ("/webhooks/",)  # these check their own per-tenant secret


@web.middleware
async def tenant_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PUBLIC_PATHS or request.path.startswith(SECRET_AUTHENTICATED):
        return await handler(request)
    api_key = request.headers.get("X-Freshdesk-Api-Key")
    try:
        tenant = await request.app[REGISTRY].authenticate(request.headers.get("X-Freshdesk-Domain"), api_key)
    except TenantError as exc:
        return error_response(401, "unauthorized", str(exc))
    api = request.app[SETTINGS].api
    signed = SIGNATURE_HEADER in request.headers or TIMESTAMP_HEADER in request.headers
    if api.signing == "required" or (api.signing == "optional" and signed):
        try:
            check_signature(str(api_key), request.method, request.path_qs, await request.read(),
                            request.headers.get(TIMESTAMP_HEADER), request.headers.get(SIGNATURE_HEADER),
                            api.signing_window_seconds)
            await request.app[REPLAYS].first_use(tenant.tenant_id, request.headers[SIGNATURE_HEADER])
        except SignatureError as exc:
            return error_response(401, "bad_signature", str(exc))
    request[TENANT] = tenant
    return await handler(request)
