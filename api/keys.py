"""Typed application keys for the clients the handlers share."""

from aiohttp import web
from redis.asyncio import Redis

from api.agent_scope import AgentScopes
from api.signing import ReplayGuard
from connectors.publisher import KafkaPublisher
from copilot.feedback_store import FeedbackStore
from copilot.index import CopilotIndex
from copilot.providers.answerer import LLMAnswerer
from copilot.providers.embeddings import Embedder
from copilot.providers.summarizer import Summarizer
from copilot.result_cache import NeighbourhoodCache, ResultCache
from copilot.settings import Settings
from copilot.single_flight import SingleFlight
from copilot.tenants import Tenant, TenantRegistry

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)
REGISTRY = web.AppKey("registry", TenantRegistry)
EMBEDDER = web.AppKey("embedder", Embedder)
SUMMARIZER = web.AppKey("summarizer", Summarizer)  # for tickets not indexed yet
INDEX = web.AppKey("index", CopilotIndex)
ANSWERER = web.AppKey("answerer", LLMAnswerer)  # set only when a chat model is configured
FEEDBACK = web.AppKey("feedback", FeedbackStore)
PUBLISHER = web.AppKey("publisher", KafkaPublisher)  # the feedback topic's producer
RESULTS = web.AppKey("results", ResultCache)  # /query results, until an item they list changes
NEIGHBOURHOODS = web.AppKey("neighbourhoods", NeighbourhoodCache)  # /init's searches, per ticket
SEARCHES = web.AppKey("searches", SingleFlight)  # cache misses in progress, shared by identical requests
REPLAYS = web.AppKey("replays", ReplayGuard)  # signatures already used
AGENT_SCOPES = web.AppKey("agent_scopes", AgentScopes)  # which tickets a named agent may see
TENANT = web.RequestKey("tenant", Tenant)  # set by the auth middleware


def tenant_of(request: web.Request) -> Tenant:
    tenant: Tenant = request[TENANT]
    return tenant
