"""POST /webhooks/freshdesk/{tenant}: a Freshdesk automation rule's "Trigger Webhook", used as a nudge.

Freshdesk signs nothing, so the rule sends the tenant's webhook secret in `X-Copilot-Webhook-Secret`.
The body is whatever the admin typed (all values strings); only `freshdesk_webhook.ticket_id` is checked.
"""

from __future__ import annotations

from aiohttp import web

from api.errors import RequestError, error_response
from api.keys import REDIS, REGISTRY, SETTINGS
from api.validation import json_object
from copilot.errors import TenantError
from copilot.nudges import nudge


async def freshdesk_webhook(request: web.Request) -> web.Response:
    try:
        tenant = await request.app[REGISTRY].verify_webhook(
            request.match_info["tenant"], request.headers.get("X-Copilot-Webhook-Secret"))
    except TenantError as exc:
        return error_response(401, "unauthorized", str(exc))
    body = await json_object(request)
    payload = body.get("freshdesk_webhook")
    if not isinstance(payload, dict):
        raise RequestError(400, "invalid_field", "freshdesk_webhook must be an object", "freshdesk_webhook")
    ticket_id = str(payload.get("ticket_id", ""))
    if not ticket_id.isdigit():
        raise RequestError(400, "invalid_field", "freshdesk_webhook.ticket_id must be a ticket number",
                           "freshdesk_webhook.ticket_id")
    await nudge(request.app[REDIS], request.app[SETTINGS].kafka.namespace, tenant.tenant_id)
    return web.json_response({"status": "accepted", "tenant": tenant.tenant_id, "ticket_id": int(ticket_id)},
                             status=202)
