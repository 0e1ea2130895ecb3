"""The API app factory: one cleanup context per shared client, so cleanup runs iff startup succeeded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from api.agent_scope import AgentScopes
from api.auth import tenant_auth
from api.errors import json_errors, request_metrics
from api.keys import (
    AGENT_SCOPES,
    ANSWERER,
    EMBEDDER,
    FEEDBACK,
    INDEX,
    NEIGHBOURHOODS,
    PUBLISHER,
    REDIS,
    REGISTRY,
    REPLAYS,
    RESULTS,
    SEARCHES,
    SETTINGS,
    SUMMARIZER,
)
from api.openapi import OPENAPI_PATH, openapi
from api.routes.feedback import feedback
from api.routes.health import health, metrics, ready
from api.routes.init import init_ticket
from api.routes.query import query
from api.routes.sidebar import sidebar
from api.routes.webhooks import freshdesk_webhook
from api.signing import ReplayGuard
from connectors.publisher import KafkaPublisher
from copilot.feedback_store import FeedbackStore
from copilot.heap import freeze_loaded_objects
from copilot.index import CopilotIndex
from copilot.metrics import SHARED_SEARCHES
from copilot.providers.answerer import create_answerer
from copilot.providers.embeddings import create_embedder
from copilot.providers.summarizer import create_summarizer
from copilot.redis_client import connect
from copilot.result_cache import NeighbourhoodCache, ResultCache
from copilot.settings import Settings
from copilot.single_flight import SingleFlight
from copilot.tenants import TenantRegistry
from copilot.topics import ensure_topics
from copilot.vault import KeyVault


async def _redis(app: web.Application) -> AsyncIterator[None]:
    s = app[SETTINGS]
    redis = connect(s.redis)
    await redis.ping()
    vault = KeyVault.from_settings(s.security.fernet_keys, s.security.environment, s.stack.data_dir)
    app[REDIS] = redis
    app[REGISTRY] = TenantRegistry(redis, vault, s.kafka.namespace)
    app[FEEDBACK] = FeedbackStore(redis, s.kafka.namespace, s.feedback.query_ttl_seconds)
    app[REPLAYS] = ReplayGuard(redis, s.kafka.namespace, s.api.signing_window_seconds)
    app[RESULTS] = ResultCache(redis, s.kafka.namespace, s.api.result_cache_seconds)
    app[NEIGHBOURHOODS] = NeighbourhoodCache(redis, s.kafka.namespace, s.api.neighbourhood_seconds)
    app[SEARCHES] = SingleFlight(on_join=lambda key: SHARED_SEARCHES.labels(key[0]).inc())
    app[AGENT_SCOPES] = AgentScopes(redis, app[REGISTRY], s.kafka.namespace, s.api.agent_scope_seconds)
    yield
    await redis.aclose()


async def _kafka(app: web.Application) -> AsyncIterator[None]:
    await asyncio.to_thread(ensure_topics, app[SETTINGS].kafka)  # the feedback topic, if the API starts first
    publisher = KafkaPublisher(app[SETTINGS].kafka.bootstrap_servers, client_id="copilot-api")
    app[PUBLISHER] = publisher
    yield
    await asyncio.to_thread(publisher.close)


async def _search(app: web.Application) -> AsyncIterator[None]:
    s = app[SETTINGS]
    embedder = await asyncio.to_thread(create_embedder, s.providers)
    index = CopilotIndex(s.milvus.uri, s.kafka.namespace, s.milvus.index_version, embedder.dim,
                         s.milvus.token.get_secret_value())
    await asyncio.to_thread(index.ensure)
    app[EMBEDDER] = embedder
    app[INDEX] = index
    app[SUMMARIZER] = create_summarizer(s.providers)
    answerer = create_answerer(s.providers)
    if answerer is not None:
        app[ANSWERER] = answerer
    freeze_loaded_objects()
    yield
    index.close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(middlewares=[request_metrics, json_errors, tenant_auth],
                          client_max_size=settings.api.max_body_bytes)
    app[SETTINGS] = settings
    app.cleanup_ctx.extend([_redis, _kafka, _search])
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/metrics", metrics)
    app.router.add_get(OPENAPI_PATH, openapi)
    app.router.add_get("/sidebar", sidebar)
    app.router.add_get("/init/{ticket_id}", init_ticket)
    app.router.add_post("/query", query)
    app.router.add_post("/feedback", feedback)
    app.router.add_post("/webhooks/freshdesk/{tenant}", freshdesk_webhook)
    return app
