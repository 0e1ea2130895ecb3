"""Async Freshdesk API v2 client: Basic auth, Link-header paging, retries with backoff that honour Retry-After."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type
from tenacity.wait import wait_exponential_jitter

from connectors.freshdesk.rate_budget import RateBudget
from copilot.errors import UpstreamError

log = logging.getLogger(__name__)
MAX_PER_PAGE = 100
MAX_THROTTLES = 30  # 429s in a row for one call before giving up: with Retry-After, about half an hour


class RetryableError(UpstreamError):
    """A 429, a 5xx or a transport failure: worth another try after a delay."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FreshdeskHTTPError(UpstreamError):
    """A 4xx other than 429: retrying will not help."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"Freshdesk answered {status}: {body}")
        self.status = status
        self.body = body


@dataclass
class RateLimitState:
    """What the last response said about this account's per-minute budget."""

    total: int | None = None
    remaining: int | None = None
    calls: int = 0
    throttled: int = 0


def base_url_for(domain: str) -> str:
    host = domain if "." in domain else f"{domain}.freshdesk.com"
    return f"https://{host}"


class RetryAfterOrBackoff:
    """Wait what a 429's Retry-After says; otherwise capped exponential backoff with jitter."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0) -> None:
        self._backoff = wait_exponential_jitter(initial=initial, max=maximum)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            return exc.retry_after
        return float(self._backoff(state))


class GiveUp:
    """Tenacity stop condition: after `failures` 5xx or transport errors, or `throttles` 429s.

    A 429 with Retry-After is the account saying when to come back, not a fault: counting it against the
    failure budget made a busy account (the customer's own integrations using the limit) fail whole polls."""

    def __init__(self, failures: int, throttles: int) -> None:
        self._failures = failures
        self._throttles = throttles
        self._failed = 0
        self._throttled = 0

    def __call__(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryableError) and exc.retry_after is not None:
            self._throttled += 1
            return self._throttled > self._throttles
        self._failed += 1
        return self._failed > self._failures


class FreshdeskClient:
    def __init__(self, base_url: str, api_key: str, *, timeout: float = 30.0, max_retries: int = 6,
                 max_throttles: int = MAX_THROTTLES, backoff: RetryAfterOrBackoff | None = None,
                 budget: RateBudget | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._wait = backoff or RetryAfterOrBackoff()
        self._budget = budget
        self._auth = aiohttp.BasicAuth(api_key, "X")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_retries = max_retries
        self._max_throttles = max_throttles
        self._session: aiohttp.ClientSession | None = None
        self.rate = RateLimitState()

    async def __aenter__(self) -> FreshdeskClient:
        self._session = aiohttp.ClientSession(auth=self._auth, timeout=self._timeout)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session:
            await self._session.close()

    async def get(self, path_or_url: str, params: dict[str, Any] | None = None) -> tuple[Any, Any]:
        """GET with retries. Returns (json body, headers); raises FreshdeskHTTPError on a 4xx."""
        url = path_or_url if path_or_url.startswith("http") else f"{self.base_url}/api/v2{path_or_url}"
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(RetryableError), wait=self._wait,
            stop=GiveUp(self._max_retries, self._max_throttles), reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._get_once(url, params)
        raise AssertionError("unreachable: tenacity reraises")

    async def _get_once(self, url: str, params: dict[str, Any] | None) -> tuple[Any, Any]:
        assert self._session is not None, "use the client as an async context manager"
        if self._budget:
            await self._budget.acquire()
        try:
            async with self._session.get(url, params=params) as resp:
                self._observe(resp)
                if self._budget:
                    await self._budget.observe(_int(resp.headers.get("X-RateLimit-Total")),
                                               _int(resp.headers.get("X-RateLimit-Remaining")))
                if resp.status == 429:
                    self.rate.throttled += 1
                    raise RetryableError("429 Too Many Requests", _float(resp.headers.get("Retry-After")))
                if resp.status >= 500:
                    raise RetryableError(f"Freshdesk answered {resp.status}")
                body = await resp.json(content_type=None) if resp.content_length != 0 else None
                if resp.status >= 400:
                    raise FreshdeskHTTPError(resp.status, body)
                return body, resp.headers
        except (TimeoutError, aiohttp.ClientConnectionError) as exc:
            raise RetryableError(f"transport error: {exc!r}") from exc

    def _observe(self, resp: aiohttp.ClientResponse) -> None:
        self.rate.calls += 1
        self.rate.total = _int(resp.headers.get("X-RateLimit-Total")) or self.rate.total
        remaining = _int(resp.headers.get("X-RateLimit-Remaining"))
        self.rate.remaining = remaining if remaining is not None else self.rate.remaining

    async def pages(self, path: str, params: dict[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of a list endpoint, following the Link header until the last page."""
        url: str | None = path
        query: dict[str, Any] | None = {**params, "per_page": MAX_PER_PAGE}
        while url:
            body, headers = await self.get(url, query)
            yield list(body or [])
            url, query = _next_link(headers.get("Link", "")), None

    async def tickets_updated_since(self, since: str, feed: str | None = None
                                    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Pages of tickets changed at or after `since`, oldest first, across Freshdesk's 300-page cap.

        When a window reaches the cap, a new window starts at the last `updated_at` seen (inclusive, so
        the overlap repeats tickets; the caller absorbs them). If a whole window sat in one second, the
        next window starts one second later, since restarting there could never make progress.
        """
        while True:
            params = {"updated_since": since, "order_by": "updated_at", "order_type": "asc",
                      "include": "description"}
            if feed:
                params["filter"] = feed
            last = since
            try:
                async for page in self.pages("/tickets", params):
                    if page:
                        last = page[-1]["updated_at"]
                    yield page
                return
            except FreshdeskHTTPError as exc:
                if not _is_page_cap(exc):
                    raise
            since = last if last != since else _next_second(since)

    async def ticket(self, ticket_id: int) -> dict[str, Any] | None:
        """The ticket, from the archive if Freshdesk archived it (closed and idle for 120 days); None if unknown."""
        for path in (f"/tickets/{ticket_id}", f"/tickets/archived/{ticket_id}"):
            try:
                body, _ = await self.get(path)
                return dict(body)
            except FreshdeskHTTPError as exc:
                if exc.status != 404:
                    raise
        return None

    async def agent(self, agent_id: int) -> dict[str, Any] | None:
        """GET /agents/{id}: the agent's ticket_scope and group_ids; None if the account has no such agent."""
        try:
            body, _ = await self.get(f"/agents/{agent_id}")
            return dict(body)
        except FreshdeskHTTPError as exc:
            if exc.status != 404:
                raise
        return None

    async def conversations(self, ticket_id: int) -> list[dict[str, Any]]:
        """Every page; a ticket archived since it was listed is read from the archive."""
        try:
            return await self._all(f"/tickets/{ticket_id}/conversations")
        except FreshdeskHTTPError as exc:
            if exc.status != 404:
                raise
        return await self._all(f"/tickets/archived/{ticket_id}/conversations")

    async def _all(self, path: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        async for page in self.pages(path, {}):
            result.extend(page)
        return result

    async def solution_articles(self) -> list[dict[str, Any]]:
        """Every article of every folder of every category (the API has no updated_since here)."""
        articles: list[dict[str, Any]] = []
        categories, _ = await self.get("/solutions/categories")
        for category in categories or []:
            folders, _ = await self.get(f"/solutions/categories/{category['id']}/folders")
            for folder in folders or []:
                async for page in self.pages(f"/solutions/folders/{folder['id']}/articles", {}):
                    articles.extend({**a, "category_id": a.get("category_id", category["id"])} for a in page)
        return articles


def _is_page_cap(exc: FreshdeskHTTPError) -> bool:
    errors = exc.body.get("errors", []) if exc.status == 400 and isinstance(exc.body, dict) else []
    return any(e.get("field") == "page" for e in errors)


def _next_second(stamp: str) -> str:
    from datetime import timedelta

    from connectors.freshdesk.timefmt import format_ts, parse

    log.warning("more than a whole window of tickets changed at %s; continuing one second later", stamp)
    return format_ts(parse(stamp) + timedelta(seconds=1))


def _next_link(header: str) -> str | None:
    for part in header.split(","):
        section = part.split(";")
        if len(section) >= 2 and 'rel="next"' in section[1]:
            return section[0].strip().strip("<>")
    return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
