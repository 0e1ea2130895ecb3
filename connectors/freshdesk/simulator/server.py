"""HTTP face of the simulator: Freshdesk API v2 routes, Basic auth, pagination, rate-limit headers, faults."""

from __future__ import annotations

import base64
import binascii
import copy
import math
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.timefmt import format_ts, parse

MAX_PER_PAGE = 100
MAX_PAGE = 300
DEFAULT_WINDOW = timedelta(days=30)
CONVERSATIONS_EMBEDDED = 10
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class SimulatorConfig:
    domain: str
    api_key: str
    rate_limit_per_minute: int = 400
    error_rate: float = 0.0
    seed: int = 0
    max_page: int = MAX_PAGE  # Freshdesk's cap; smaller in tests to reach it cheaply
    rate_window_seconds: float = 60.0  # Freshdesk's is a minute; shorter in tests to see 429s cheaply


@dataclass
class RateWindow:
    """Freshdesk's per-account, per-minute credit window; failed calls count too."""

    limit: int
    seconds: float = 60.0
    started: datetime | None = None
    used: int = 0
    closed: list[int] = field(default_factory=list)  # calls made in each finished window, for benchmarks

    def spend(self, now: datetime, credits: int = 1) -> int | None:
        """Returns seconds to wait when the minute's credits are gone, else None."""
        if self.started is None or now - self.started >= timedelta(seconds=self.seconds):
            if self.started is not None:
                self.closed.append(self.used)
            self.started, self.used = now, 0
        self.used += credits
        if self.used > self.limit:
            return max(1, math.ceil(self.seconds - (now - self.started).total_seconds()))
        return None

    def remaining(self) -> int:
        return max(0, self.limit - self.used)


@dataclass
class Simulator:
    account: SimulatedAccount
    config: SimulatorConfig
    window: RateWindow = field(init=False)
    calls: int = 0
    throttled: int = 0  # 429s answered
    failed: int = 0  # 5xx injected

    def __post_init__(self) -> None:
        self.window = RateWindow(self.config.rate_limit_per_minute, self.config.rate_window_seconds)
        self._random = random.Random(self.config.seed)  # noqa: S311 - fault injection, not security


SIMULATOR = web.AppKey("simulator", Simulator)


def _error(status: int, body: dict[str, Any] | None) -> web.Response:
    return web.json_response(body, status=status) if body is not None else web.Response(status=status)


def _validation(field_name: str, message: str, code: str = "invalid_value") -> web.Response:
    return _error(400, {"description": "Validation failed",
                        "errors": [{"field": field_name, "message": message, "code": code}]})


@web.middleware
async def freshdesk_edge(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Auth, rate limit, fault injection and the rate-limit headers every response carries."""
    sim = request.app[SIMULATOR]
    sim.calls += 1
    sim.account.archive_idle_closed()
    wait = sim.window.spend(sim.account.clock())
    response: web.StreamResponse
    if not _authorized(request, sim.config.api_key):
        response = _error(401, {"code": "invalid_credentials",
                                "message": "You have to be logged in to perform this action."})
    elif wait is not None:
        sim.throttled += 1
        response = _error(429, {"message": "You have exceeded the limit of requests per minute"})
        response.headers["Retry-After"] = str(wait)
    elif sim.config.error_rate and sim._random.random() < sim.config.error_rate:
        sim.failed += 1
        response = _error(503, None)
    else:
        response = await handler(request)
    response.headers["X-RateLimit-Total"] = str(sim.window.limit)
    response.headers["X-RateLimit-Remaining"] = str(sim.window.remaining())
    response.headers["X-RateLimit-Used-CurrentRequest"] = "1"
    return response


def _authorized(request: web.Request, api_key: str) -> bool:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return False
    try:
        user, _, _ = base64.b64decode(header[6:]).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return user == api_key


def _int_param(request: web.Request, name: str, default: int) -> int | web.Response:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        return _validation(name, "It should be a Positive Number", "datatype_mismatch")
    if value < 1:
        return _validation(name, "It should be a Positive Number", "datatype_mismatch")
    return value


def _paginate(request: web.Request, items: list[Any], page: int, per_page: int,
              present: Callable[[Any], Any] = lambda item: item) -> web.Response:
    """One page of `items` (each shaped by `present`) with a Link header to the next page if there is one."""
    start = (page - 1) * per_page
    response = web.json_response([present(item) for item in items[start:start + per_page]])
    if start + per_page < len(items):
        query = dict(request.query)
        query.update(page=str(page + 1), per_page=str(per_page))
        response.headers["Link"] = f'<{request.url.with_query(query)}>; rel="next"'
    return response


def _page_params(request: web.Request) -> tuple[int, int] | web.Response:
    per_page = _int_param(request, "per_page", 30)
    if isinstance(per_page, web.Response):
        return per_page
    if per_page > MAX_PER_PAGE:
        return _validation("per_page", "Has to be less than or equal to 100")
    page = _int_param(request, "page", 1)
    if isinstance(page, web.Response):
        return page
    return page, per_page


_ORDER_KEYS = {"created_at", "updated_at", "due_by", "status"}


async def list_tickets(request: web.Request) -> web.Response:
    sim = request.app[SIMULATOR]
    paging = _page_params(request)
    if isinstance(paging, web.Response):
        return paging
    page, per_page = paging
    if page > sim.config.max_page:
        return _validation("page", "You cannot access tickets beyond the 300th page. "
                                   "Please provide a smaller page number.")
    order_by = request.query.get("order_by", "created_at")
    order_type = request.query.get("order_type", "desc")
    filter_name = request.query.get("filter")
    if order_by not in _ORDER_KEYS:
        return _validation("order_by", f"It should be one of these values: '{','.join(sorted(_ORDER_KEYS))}'")
    if order_type not in {"asc", "desc"}:
        return _validation("order_type", "It should be one of these values: 'asc,desc'")
    if filter_name not in {None, "deleted", "spam", "new_and_my_open", "watching"}:
        return _validation("filter", "It should be one of these values: 'new_and_my_open,watching,spam,deleted'")
    tickets = sim.account.list_tickets(filter_name if filter_name in {"deleted", "spam"} else None)
    if "updated_since" in request.query:
        try:
            since = parse(request.query["updated_since"])
        except ValueError:
            return _validation("updated_since", "It should be in the 'valid date' format", "invalid_date")
        bound = format_ts(since)  # stored stamps share this format, so strings compare as instants
        tickets = [t for t in tickets if t["updated_at"] >= bound]  # inclusive, like Freshdesk
    elif filter_name is None:
        cutoff = format_ts(sim.account.clock() - DEFAULT_WINDOW)
        tickets = [t for t in tickets if t["created_at"] >= cutoff]
    tickets.sort(key=lambda t: (t.get(order_by) or "", t["id"]), reverse=order_type == "desc")
    with_description = "description" in request.query.get("include", "").split(",")

    def present(ticket: dict[str, Any]) -> dict[str, Any]:
        shown = copy.deepcopy(ticket)
        if not with_description:
            shown.pop("description", None)
            shown.pop("description_text", None)
        return shown

    return _paginate(request, tickets, page, per_page, present)


def _ticket_id(request: web.Request) -> int | None:
    try:
        return int(request.match_info["ticket_id"])
    except ValueError:
        return None


def _not_found() -> web.Response:
    return _error(404, {"code": "access_denied", "message": "The requested resource was not found"})


def _ticket_reads(archived: bool) -> tuple[Callable[[web.Request], Awaitable[web.Response]], ...]:
    """GET /tickets/{id} and its conversations, or the same under /tickets/archived/ for archived tickets."""

    async def get_ticket(request: web.Request) -> web.Response:
        sim = request.app[SIMULATOR]
        tid = _ticket_id(request)
        ticket = sim.account.ticket(tid, archived) if tid is not None else None
        if ticket is None:
            return _not_found()
        if "conversations" in request.query.get("include", "").split(","):
            ticket["conversations"] = sim.account.conversations_of(ticket["id"])[:CONVERSATIONS_EMBEDDED]
        return web.json_response(ticket)

    async def list_conversations(request: web.Request) -> web.Response:
        sim = request.app[SIMULATOR]
        tid = _ticket_id(request)
        if tid is None or sim.account.ticket(tid, archived) is None:
            return _not_found()
        paging = _page_params(request)
        if isinstance(paging, web.Response):
            return paging
        return _paginate(request, sim.account.conversations_of(tid), *paging)

    return get_ticket, list_conversations


async def _json_body(request: web.Request, required: str | None = None) -> dict[str, Any] | web.Response:
    """The JSON object body, or Freshdesk's 400 for bad JSON or a missing `required` attribute."""
    try:
        body = await request.json()
    except ValueError:
        return _error(400, {"description": "Validation failed", "errors": [
            {"field": "body", "message": "Request body has invalid json format", "code": "invalid_json"}]})
    if not isinstance(body, dict):
        return _validation("body", "It should be a JSON object", "datatype_mismatch")
    if required and not body.get(required):
        return _validation(required, "Mandatory attribute missing", "missing_field")
    return body


async def create_ticket(request: web.Request) -> web.Response:
    body = await _json_body(request, required="subject")
    if isinstance(body, web.Response):
        return body
    return web.json_response(request.app[SIMULATOR].account.create_ticket(body), status=201)


async def update_ticket(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    tid = _ticket_id(request)
    ticket = request.app[SIMULATOR].account.update_ticket(tid, body) if tid is not None else None
    return web.json_response(ticket) if ticket else _not_found()


def _conversation_handler(private: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        body = await _json_body(request, required="body")
        if isinstance(body, web.Response):
            return body
        tid = _ticket_id(request)
        conv = None
        if tid is not None:
            incoming = bool(body.get("incoming", False)) if private else False
            conv = request.app[SIMULATOR].account.add_conversation(
                tid, str(body["body"]), private=private, incoming=incoming, user_id=body.get("user_id"))
        return web.json_response(conv, status=201) if conv else _not_found()

    return handler


async def delete_ticket(request: web.Request) -> web.Response:
    tid = _ticket_id(request)
    ok = tid is not None and request.app[SIMULATOR].account.set_deleted(tid, True)
    return web.Response(status=204) if ok else _not_found()


async def restore_ticket(request: web.Request) -> web.Response:
    tid = _ticket_id(request)
    ok = tid is not None and request.app[SIMULATOR].account.set_deleted(tid, False)
    return web.Response(status=204) if ok else _not_found()


def _agent_id(request: web.Request) -> int | None:
    raw = request.match_info["agent_id"]
    return int(raw) if raw.isdigit() else None


async def get_agent(request: web.Request) -> web.Response:
    agent_id = _agent_id(request)
    agent = request.app[SIMULATOR].account.agents.get(agent_id) if agent_id is not None else None
    return web.json_response(agent) if agent else _not_found()


async def create_agent(request: web.Request) -> web.Response:
    body = await _json_body(request, required="email")
    if isinstance(body, web.Response):
        return body
    if body.get("ticket_scope") not in (1, 2, 3):
        return _validation("ticket_scope", "It should be one of these values: '1,2,3'", "invalid_value")
    return web.json_response(request.app[SIMULATOR].account.create_agent(body), status=201)


async def update_agent(request: web.Request) -> web.Response:
    body = await _json_body(request)
    if isinstance(body, web.Response):
        return body
    if "ticket_scope" in body and body["ticket_scope"] not in (1, 2, 3):
        return _validation("ticket_scope", "It should be one of these values: '1,2,3'", "invalid_value")
    agent_id = _agent_id(request)
    agent = request.app[SIMULATOR].account.update_agent(agent_id, body) if agent_id is not None else None
    return web.json_response(agent) if agent else _not_found()


async def list_categories(request: web.Request) -> web.Response:
    articles = request.app[SIMULATOR].account.articles.values()
    ids = sorted({a["category_id"] for a in articles})
    return web.json_response([{"id": cid, "name": f"Category {cid}", "description": None} for cid in ids])


async def list_folders(request: web.Request) -> web.Response:
    cid = int(request.match_info["category_id"])
    articles = request.app[SIMULATOR].account.articles.values()
    ids = sorted({a["folder_id"] for a in articles if a["category_id"] == cid})
    return web.json_response([{"id": fid, "name": f"Folder {fid}", "description": None} for fid in ids])


async def list_articles(request: web.Request) -> web.Response:
    fid = int(request.match_info["folder_id"])
    paging = _page_params(request)
    if isinstance(paging, web.Response):
        return paging
    articles = sorted((a for a in request.app[SIMULATOR].account.articles.values() if a["folder_id"] == fid),
                      key=lambda a: a["id"])
    return _paginate(request, articles, *paging)


def create_simulator_app(account: SimulatedAccount, config: SimulatorConfig) -> web.Application:
    app = web.Application(middlewares=[freshdesk_edge])
    app[SIMULATOR] = Simulator(account, config)
    r = app.router
    get_ticket, list_conversations = _ticket_reads(archived=False)
    get_archived, list_archived_conversations = _ticket_reads(archived=True)
    r.add_get("/api/v2/tickets/archived/{ticket_id}", get_archived)
    r.add_get("/api/v2/tickets/archived/{ticket_id}/conversations", list_archived_conversations)
    r.add_get("/api/v2/tickets", list_tickets)
    r.add_post("/api/v2/tickets", create_ticket)
    r.add_get("/api/v2/tickets/{ticket_id}", get_ticket)
    r.add_put("/api/v2/tickets/{ticket_id}", update_ticket)
    r.add_delete("/api/v2/tickets/{ticket_id}", delete_ticket)
    r.add_put("/api/v2/tickets/{ticket_id}/restore", restore_ticket)
    r.add_get("/api/v2/tickets/{ticket_id}/conversations", list_conversations)
    r.add_post("/api/v2/tickets/{ticket_id}/reply", _conversation_handler(private=False))
    r.add_post("/api/v2/tickets/{ticket_id}/notes", _conversation_handler(private=True))
    r.add_post("/api/v2/agents", create_agent)
    r.add_get("/api/v2/agents/{agent_id}", get_agent)
    r.add_put("/api/v2/agents/{agent_id}", update_agent)
    r.add_get("/api/v2/solutions/categories", list_categories)
    r.add_get("/api/v2/solutions/categories/{category_id}/folders", list_folders)
    r.add_get("/api/v2/solutions/folders/{folder_id}/articles", list_articles)
    return app
