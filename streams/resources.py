"""Clients the agents share inside one worker, opened in the worker's event loop (never at import): at start by
`open`, or on first use by a process that has no start task (`copilot reindex`)."""

from __future__ import annotations

import asyncio
import time

from copilot.feedback_store import FeedbackStore
from copilot.heap import freeze_loaded_objects
from copilot.index import CopilotIndex
from copilot.metrics import WORKER_READY
from copilot.neighbourhood import SHOWN_LIMIT
from copilot.progress import PipelineProgress
from copilot.providers.embeddings import Embedder, create_embedder
from copilot.providers.summarizer import Summarizer, create_summarizer
from copilot.redis_client import connect
from copilot.result_cache import NeighbourhoodCache
from copilot.retrieval_config import RetrievalConfig
from copilot.settings import Settings
from copilot.tenants import retrieval_of
from streams.retry import with_backoff
from streams.warming import Warmer

RETRIEVAL_TTL = 10.0  # seconds a worker keeps a tenant's retrieval settings before reading them again


class WorkerResources:
    def __init__(self, settings: Settings, warm_neighbourhoods: bool = True) -> None:
        """`warm_neighbourhoods`: search open tickets' /init results once they are indexed (streams.warming);
        off for `copilot reindex`, whose rows are not served until its alias switch."""
        self.settings = settings
        self._lock = asyncio.Lock()
        self._embedder: Embedder | None = None
        self._index: CopilotIndex | None = None
        self.summarizer: Summarizer = create_summarizer(settings.providers)
        self.redis = connect(settings.redis)
        self.progress = PipelineProgress(self.redis, settings.kafka.namespace)
        self.feedback = FeedbackStore(self.redis, settings.kafka.namespace)
        self._retrieval: dict[str, tuple[float, RetrievalConfig]] = {}
        self.neighbourhoods = NeighbourhoodCache(self.redis, settings.kafka.namespace,
                                                 settings.api.neighbourhood_seconds)
        self.warmer = Warmer(self._warm_neighbourhood, self.neighbourhoods.generation,
                             enabled=warm_neighbourhoods and self.neighbourhoods.enabled)

    async def open(self) -> None:
        """Open the index now, with the model if it is not loaded yet (the worker loads it before it joins, see
        streams.app.CopilotApp), rather than in the first batch. A Milvus that is not up yet is waited for, as
        writes do."""
        await with_backoff(self.index, self.settings.worker.retry_give_up_seconds)
        WORKER_READY.set(1)

    async def embedder(self) -> Embedder:
        async with self._lock:
            if self._embedder is None:
                self._embedder = await asyncio.to_thread(create_embedder, self.settings.providers)
                freeze_loaded_objects()
            return self._embedder

    async def retrieval(self, tenant: str) -> RetrievalConfig:
        """The tenant's retrieval settings, re-read at most every RETRIEVAL_TTL seconds."""
        cached = self._retrieval.get(tenant)
        if cached is None or time.monotonic() - cached[0] > RETRIEVAL_TTL:
            cached = (time.monotonic(), await retrieval_of(self.redis, self.settings.kafka.namespace, tenant))
            self._retrieval[tenant] = cached
        return cached[1]

    async def _warm_neighbourhood(self, tenant: str, ticket_id: int) -> bool | None:
        """Searches and stores the ticket's neighbourhood (copilot.neighbourhood) as /init would."""
        hood, stored = await self.neighbourhoods.search_and_store(await self.index(), tenant, ticket_id,
                                                                  SHOWN_LIMIT, self.settings.api.init_query_chars)
        return None if hood is None else stored

    def use_index(self, index: CopilotIndex) -> None:
        """Write to `index` instead of the configured one: `copilot reindex` fills a new version this way."""
        self._index = index

    async def index(self) -> CopilotIndex:
        embedder = await self.embedder()
        async with self._lock:
            if self._index is None:
                m = self.settings.milvus
                index = CopilotIndex(m.uri, self.settings.kafka.namespace, m.index_version, embedder.dim,
                                     m.token.get_secret_value(), seal_after_seconds=m.seal_after_seconds,
                                     seal_within_seconds=m.seal_within_seconds)
                await asyncio.to_thread(index.ensure)
                self._index = index
            return self._index
