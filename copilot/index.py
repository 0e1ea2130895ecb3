"""The Milvus index of tickets and KB articles, and the one place where every access is scoped to a tenant.

Tenancy uses Milvus's partition key on `tenant`: rows of one tenant live in the partitions its key hashes
to, and every read below goes through `_scope`, which adds the tenant filter. Collections are versioned
(`..._v1`) behind an alias, so a rebuild can switch atomically.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pymilvus import DataType, Function, FunctionType, MilvusClient, MilvusException

from copilot.agent_scope import AgentScope
from copilot.coalescing import Coalescer
from copilot.documents import clip_bytes
from copilot.errors import ConfigurationError, TenantError
from copilot.fusion import fuse
from copilot.retrieval_config import RetrievalConfig

log = logging.getLogger(__name__)
_TENANT = re.compile(r"^[a-z0-9][a-z0-9.-]{0,252}$")
NUM_PARTITIONS = 64
TICKET_FIELDS = [
    "tenant", "ticket_id", "subject", "problem", "cause", "solution", "result", "summarizer", "status", "priority",
    "tags", "attachments", "content_hash", "source_updated_at", "seen_at", "indexed_at", "group_id", "responder_id",
]
ARTICLE_FIELDS = ["tenant", "article_id", "title", "text", "status", "updated_at"]
VECTOR_FIELDS = ("dense", "subject_dense")
DEFAULT_RETRIEVAL = RetrievalConfig()
SearchKind = tuple[str, str, str, int, tuple[str, ...]]  # collection, vector field, filter, limit, output fields


@dataclass(frozen=True)
class Hit:
    score: float
    fields: dict[str, Any]
    feedback: float = 1.0  # the factor agents' votes applied to the score (api.ranking)

    def dump(self) -> list[Any]:
        return [self.score, self.fields]

    @classmethod
    def load(cls, dumped: list[Any]) -> Hit:
        return cls(float(dumped[0]), dict(dumped[1]))


@dataclass(frozen=True)
class Ranking:
    """One search's hits in rank order. `signal` names what was searched: "dense" (the text's vector) or
    "sparse" (BM25 over the text's words), and for a ticket's neighbours "subject_dense" (the subject's vector
    against other subjects') or "subject_sparse" (BM25 with the subject's words)."""

    signal: str
    hits: list[Hit]


@dataclass(frozen=True)
class SubjectQuery:
    """A ticket's subject as two more rankings when looking for tickets like it. Reports of the same problem
    are often told apart by their titles, which the text's vector dilutes with the body: on ../shared/eval
    these rankings lift Recall@10 of the fused list by about three points (BENCHMARKS.md)."""

    vector: list[float]
    terms: str


def hybrid_depth(limit: int) -> int:
    """How deep each ranking is searched for a fused list of `limit`."""
    return max(limit * 4, 20)


def fused(rankings: list[Ranking], fusion: RetrievalConfig, limit: int) -> list[Hit]:
    """Weighted reciprocal-rank fusion of the rankings the tenant's settings weigh (dense alone when BM25 is
    weighed but had no words to search with); the score is the fused one."""
    weighed = [(r, fusion.weight(r.signal)) for r in rankings if fusion.weight(r.signal) > 0]
    weighed = weighed or [(r, 1.0) for r in rankings if r.signal == "dense"]
    by_pk = {hit.fields["pk"]: hit.fields for ranking, _ in weighed for hit in ranking.hits}
    scored = fuse([([h.fields["pk"] for h in ranking.hits], weight) for ranking, weight in weighed],
                  fusion.rrf_k, limit)
    return [Hit(score, by_pk[pk]) for pk, score in scored]


def _scope(tenant: str, extra: str = "") -> str:
    """The tenant filter every read carries. The strict tenant pattern rules out filter injection."""
    if not _TENANT.match(tenant):
        raise TenantError(f"invalid tenant id {tenant!r}")
    clause = f'tenant == "{tenant}"'
    return f"{clause} and ({extra})" if extra else clause


class CopilotIndex:
    def __init__(self, uri: str, namespace: str, version: str, dim: int, token: str = "",
                 seal_after_seconds: float = 0.0, seal_within_seconds: float = 300.0) -> None:
        """`seal_after_seconds` > 0: flush the collections written to once writes pause that long. Milvus Lite
        searches rows not yet flushed by brute force (20,000 tickets: 490 ms for a dense search before a flush,
        20 ms after); a Milvus server does not need it."""
        self.client = MilvusClient(uri=uri, token=token)
        self.dim = dim
        self._sealer = Sealer(self.client.flush, seal_after_seconds, seal_within_seconds)
        self.tickets_alias = f"{namespace}_tickets"
        self.articles_alias = f"{namespace}_articles"
        self.version = version
        self._searches: Coalescer[SearchKind, list[float] | str, list[Hit]] = Coalescer(self._search_together)
        self._reads: Coalescer[tuple[str, tuple[str, ...]], list[str], dict[str, dict[str, Any]]] = \
            Coalescer(self._read_together)

    def rebuilding(self) -> CopilotIndex:
        """The same index writing to and reading from this version's own collections instead of the aliases:
        what `copilot reindex` fills while the aliases keep serving the old version."""
        rebuild = copy.copy(self)
        rebuild.tickets_alias = self.collection(self.tickets_alias)
        rebuild.articles_alias = self.collection(self.articles_alias)
        return rebuild

    def collection(self, alias: str) -> str:
        return f"{alias}_{self.version}"

    def switch_aliases(self) -> None:
        """Point both aliases at this version's collections; each switch is atomic in Milvus."""
        for alias in (self.tickets_alias, self.articles_alias):
            self.client.alter_alias(collection_name=self.collection(alias), alias=alias)

    def check_can_copy(self, target: CopilotIndex) -> None:
        """ConfigurationError when the serving rows lack a vector the target's schema needs for every row (a
        version that adds one cannot carry other tenants' rows over: they must be rebuilt too)."""
        for source, dest in ((self.tickets_alias, target.tickets_alias), (self.articles_alias, target.articles_alias)):
            if lacking := self._field_names(dest) & set(VECTOR_FIELDS) - self._field_names(source):
                raise ConfigurationError(
                    f"{source} has no {', '.join(sorted(lacking))}, which the new version needs for every row: "
                    f"rebuild all tenants (`copilot reindex --index-version <new version>` without --tenant)")

    def copy_other_tenants(self, tenant: str, target: CopilotIndex) -> int:
        """Copy every row but `tenant`'s, vectors included, from the serving collections into `target`'s: a
        rebuild of one tenant into a new version keeps everyone else as they are (`check_can_copy` first, before
        the rebuild's work). Returns the rows copied."""
        copied = 0
        for source, dest in ((self.tickets_alias, target.tickets_alias), (self.articles_alias, target.articles_alias)):
            rows = self.client.query_iterator(source, batch_size=1000, filter=f"not ({_scope(tenant)})",
                                              output_fields=["*"])
            while batch := rows.next():
                self.client.upsert(dest, [{k: v for k, v in row.items() if k != "sparse"} for row in batch])
                copied += len(batch)
            rows.close()
        return copied

    def seal(self) -> None:
        for alias in (self.tickets_alias, self.articles_alias):
            self.client.flush(alias)

    # -- schema -------------------------------------------------------------------------------------------
    def ensure(self, serving: bool = True) -> None:
        """Create this version's collections and point the aliases at them if no alias exists yet.

        `serving`: this process reads and writes through the aliases, so the collections behind them must have
        every field this code writes (a rebuild, which writes its own collections, passes False)."""
        self._ensure_one(self.tickets_alias, self._ticket_schema)
        self._ensure_one(self.articles_alias, self._article_schema)
        for alias in (self.tickets_alias, self.articles_alias):
            self.client.load_collection(alias)  # a restarted Milvus Lite serves its collections released
        if serving:
            for alias, build in ((self.tickets_alias, self._ticket_schema),
                                 (self.articles_alias, self._article_schema)):
                self._check_fields(alias, build()[0])

    def _field_names(self, collection: str) -> set[str]:
        return {f["name"] for f in self.client.describe_collection(collection)["fields"]}

    def _check_fields(self, alias: str, wanted: Any) -> None:
        described = self.client.describe_collection(alias)
        missing = {f.name for f in wanted.fields} - {f["name"] for f in described["fields"]}
        if missing:
            raise ConfigurationError(
                f"{alias} serves {described['collection_name']}, which has no field {', '.join(sorted(missing))}: "
                f"rebuild it with `copilot reindex --index-version <new version>` (see the README's upgrades)")

    def _ensure_one(self, alias: str, build: Callable[[], tuple[Any, Any]]) -> None:
        name = self.collection(alias)
        if not self.client.has_collection(name):
            schema, index = build()
            _tolerate_race(lambda: self.client.create_collection(
                name, schema=schema, index_params=index, num_partitions=NUM_PARTITIONS),
                lambda: self.client.has_collection(name))
        if alias not in self.client.list_aliases().get("aliases", []):
            _tolerate_race(lambda: self.client.create_alias(collection_name=name, alias=alias),
                           lambda: alias in self.client.list_aliases().get("aliases", []))

    def _base_schema(self, id_field: str) -> Any:
        schema = self.client.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("pk", DataType.VARCHAR, max_length=300, is_primary=True)
        schema.add_field("tenant", DataType.VARCHAR, max_length=256, is_partition_key=True)
        schema.add_field(id_field, DataType.INT64)
        schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True)
        schema.add_field("status", DataType.INT64)
        schema.add_field("indexed_at", DataType.INT64)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self.dim)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                     input_field_names=["text"], output_field_names=["sparse"]))
        return schema

    def _index_params(self, vectors: tuple[str, ...] = ("dense",)) -> Any:
        params = self.client.prepare_index_params()
        for name in vectors:
            params.add_index(name, index_type="FLAT", metric_type="COSINE")
        params.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
        return params

    def _ticket_schema(self) -> tuple[Any, Any]:
        schema = self._base_schema("ticket_id")
        for name in ("subject", "problem", "cause", "solution", "result"):
            schema.add_field(name, DataType.VARCHAR, max_length=4096)
        schema.add_field("summarizer", DataType.VARCHAR, max_length=128)
        schema.add_field("priority", DataType.INT64)
        schema.add_field("tags", DataType.VARCHAR, max_length=2048)
        schema.add_field("attachments", DataType.VARCHAR, max_length=8192)
        schema.add_field("content_hash", DataType.VARCHAR, max_length=64)
        for name in ("source_updated_at", "seen_at"):
            schema.add_field(name, DataType.INT64)
        for name in ("group_id", "responder_id"):  # agent scope; the default keeps older writers' rows valid
            schema.add_field(name, DataType.INT64, default_value=0)
        schema.add_field("embedded_as", DataType.VARCHAR, max_length=16, default_value="")
        schema.add_field("subject_dense", DataType.FLOAT_VECTOR, dim=self.dim)
        return schema, self._index_params(("dense", "subject_dense"))

    def _article_schema(self) -> tuple[Any, Any]:
        schema = self._base_schema("article_id")
        schema.add_field("title", DataType.VARCHAR, max_length=1024)
        schema.add_field("updated_at", DataType.INT64)
        return schema, self._index_params()

    # -- writes -------------------------------------------------------------------------------------------
    async def upsert_tickets(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await asyncio.to_thread(self.client.upsert, self.tickets_alias, [_fit(r) for r in rows])
            self._sealer.written(self.tickets_alias)

    async def upsert_articles(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await asyncio.to_thread(self.client.upsert, self.articles_alias, [_fit(r) for r in rows])
            self._sealer.written(self.articles_alias)

    async def delete(self, collection: str, pks: list[str]) -> None:
        if pks:
            await asyncio.to_thread(self.client.delete, collection, ids=pks)
            self._sealer.written(collection)

    async def stored_tickets(self, pks: list[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        """The stored rows of these primary keys (the worker's own writes, so no tenant scope), by key."""
        return await self._by_key(self.tickets_alias, pks, fields)

    # -- reads (always through _scope) --------------------------------------------------------------------
    async def get_ticket(self, tenant: str, ticket_id: int, with_vector: bool = False) -> dict[str, Any] | None:
        fields = TICKET_FIELDS + ["text"] + (["dense", "subject_dense"] if with_vector else [])
        rows = await asyncio.to_thread(self.client.query, self.tickets_alias,
                                       filter=_scope(tenant, f"ticket_id == {int(ticket_id)}"),
                                       output_fields=fields, limit=1)
        return dict(rows[0]) if rows else None

    async def search_tickets(self, tenant: str, vector: list[float], text: str, limit: int,
                             exclude_ticket: int | None = None, mode: str = "hybrid",
                             with_attachments: bool = False, visible_to: AgentScope | None = None,
                             fusion: RetrievalConfig = DEFAULT_RETRIEVAL, subject: SubjectQuery | None = None
                             ) -> list[Hit]:
        """`mode` "hybrid" is what the API serves; "dense" and "bm25" are the evaluation's baselines.
        `visible_to` keeps to the tickets that agent may see in the helpdesk; `fusion` weighs the hybrid's
        rankings (the tenant's retrieval settings); `subject` adds a ticket's subject rankings to them."""
        scope = self._ticket_scope(tenant, exclude_ticket, with_attachments, visible_to)
        if mode == "hybrid":
            return await self._fused(self.tickets_alias, tenant, scope, vector, text, limit, TICKET_FIELDS, fusion,
                                     subject)
        field, query = ("dense", vector) if mode == "dense" else ("sparse", text)
        return await self._search(self.tickets_alias, field, query, scope, limit, TICKET_FIELDS)

    async def ticket_rankings(self, tenant: str, vector: list[float], text: str, depth: int,
                              exclude_ticket: int, subject: SubjectQuery | None = None) -> list[Ranking]:
        """Every ranking a hybrid search of tickets fuses, `depth` deep, whatever the tenant's weights, for
        the whole tenant (copilot.neighbourhood filters them by agent scope and fuses them later)."""
        scope = self._ticket_scope(tenant, exclude_ticket, False, None)
        return await self._rankings(self.tickets_alias, scope, vector, text, depth, TICKET_FIELDS, None, subject)

    async def article_rankings(self, tenant: str, vector: list[float], text: str, depth: int) -> list[Ranking]:
        scope = _scope(tenant, "status == 2")  # published only
        return await self._rankings(self.articles_alias, scope, vector, text, depth, ARTICLE_FIELDS, None)

    async def search_articles(self, tenant: str, vector: list[float], text: str, limit: int,
                              fusion: RetrievalConfig = DEFAULT_RETRIEVAL) -> list[Hit]:
        scope = _scope(tenant, "status == 2")  # published only
        return await self._fused(self.articles_alias, tenant, scope, vector, text, limit, ARTICLE_FIELDS, fusion)

    async def count(self, tenant: str, collection: str) -> int:
        rows = await asyncio.to_thread(self.client.query, collection, filter=_scope(tenant),
                                       output_fields=["count(*)"])
        return int(rows[0]["count(*)"]) if rows else 0

    async def _search(self, collection: str, field: str, query: list[float] | str, scope: str, limit: int,
                      fields: list[str]) -> list[Hit]:
        return await self._searches.submit((collection, field, scope, limit, tuple(fields)), query)

    async def _search_together(self, kind: SearchKind, queries: list[list[float] | str]) -> list[list[Hit]]:
        """One Milvus search for queries that differ only in what they look for."""
        collection, field, scope, limit, fields = kind
        result = await asyncio.to_thread(self.client.search, collection, data=queries, anns_field=field,
                                         filter=scope, limit=limit, output_fields=["pk", *fields])
        return [[Hit(float(hit["distance"]), dict(hit["entity"])) for hit in hits] for hits in result]

    async def _fused(self, collection: str, tenant: str, scope: str, vector: list[float], text: str, limit: int,
                     fields: list[str], fusion: RetrievalConfig, subject: SubjectQuery | None = None) -> list[Hit]:
        """A hybrid search in two steps: rankings of primary keys, then the fields of the fused `limit` read by
        key. Sending a hit's fields costs Milvus Lite more than ranking it, and a 100-deep ranking's hits are
        mostly never shown. A row that left the tenant's scope between the two steps (deleted, or changed so
        that the scope's filter no longer holds) is as stale as a cached result; one of another tenant is
        never returned."""
        rankings = await self._rankings(collection, scope, vector, text, hybrid_depth(limit), [], fusion, subject)
        top = fused(rankings, fusion, limit)
        rows = await self._by_key(collection, [hit.fields["pk"] for hit in top], fields)
        return [Hit(hit.score, row) for hit in top
                if (row := rows.get(hit.fields["pk"])) is not None and row["tenant"] == tenant]

    async def _by_key(self, collection: str, pks: list[str], fields: list[str]) -> dict[str, dict[str, Any]]:
        if not pks:
            return {}
        return await self._reads.submit((collection, tuple(fields)), pks)

    async def _read_together(self, kind: tuple[str, tuple[str, ...]], asked: list[list[str]]
                             ) -> list[dict[str, dict[str, Any]]]:
        """One Milvus read by key for the rows several callers asked for meanwhile."""
        collection, fields = kind
        wanted = list(dict.fromkeys(pk for pks in asked for pk in pks))
        rows = await asyncio.to_thread(self.client.get, collection, ids=wanted, output_fields=["pk", *fields])
        by_pk = {str(row["pk"]): dict(row) for row in rows}
        return [{pk: by_pk[pk] for pk in pks if pk in by_pk} for pks in asked]

    @staticmethod
    def _ticket_scope(tenant: str, exclude_ticket: int | None, with_attachments: bool,
                      visible_to: AgentScope | None) -> str:
        conditions = [f"ticket_id != {int(exclude_ticket)}"] if exclude_ticket is not None else []
        if with_attachments:
            conditions.append('attachments != "[]"')
        if visible_to is not None and (seen := visible_to.condition()):
            conditions.append(seen)
        return _scope(tenant, " and ".join(conditions))

    async def _rankings(self, collection: str, scope: str, vector: list[float], text: str, depth: int,
                        fields: list[str], fusion: RetrievalConfig | None, subject: SubjectQuery | None = None
                        ) -> list[Ranking]:
        """The dense ranking and, when there are words, the BM25 one, plus the subject's two when given,
        searched side by side. With `fusion`, only the rankings it gives a weight; without, all."""
        queries: list[tuple[str, str, list[float] | str]] = [("dense", "dense", vector)]
        if text.strip():
            queries.append(("sparse", "sparse", text))
        if subject is not None:
            queries.append(("subject_dense", "subject_dense", subject.vector))
            if subject.terms.strip():
                queries.append(("subject_sparse", "sparse", subject.terms))
        if fusion is not None:
            queries = [q for q in queries if fusion.weight(q[0]) > 0] or [("dense", "dense", vector)]
        found = await asyncio.gather(*(self._search(collection, field, query, scope, depth, fields)
                                       for _, field, query in queries))
        return [Ranking(signal, hits) for (signal, _, _), hits in zip(queries, found, strict=True)]

    def close(self) -> None:
        self._sealer.cancel()
        self.client.close()


class Sealer:
    """Flushes the collections written to once writes have paused for `after` seconds, or once the oldest
    unflushed write is `longest` seconds old (steady writes never pause).

    Waiting for a pause rather than flushing on a short timer matters for ranking: Milvus Lite keeps BM25
    statistics per segment, so many small segments (a flush every few seconds during a backfill) score the
    same text differently; on ../shared/eval that cost 2.4 points of Recall@10. A backfill ends as one
    segment. The longest wait keeps a live stream of writes from being searched by brute force forever."""

    def __init__(self, flush: Callable[[str], object], after: float, longest: float = 300.0) -> None:
        self._flush = flush
        self._after = after
        self._longest = longest
        self._unsealed: set[str] = set()
        self._last_write = self._oldest_write = 0.0
        self._task: asyncio.Task[None] | None = None

    def written(self, collection: str) -> None:
        if self._after <= 0:
            return
        now = time.monotonic()
        if not self._unsealed:
            self._oldest_write = now
        self._unsealed.add(collection)
        self._last_write = now
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._seal_when_quiet())

    def _wait(self) -> float:
        """Seconds until the next flush is due: the pause, or the oldest write's age, whichever comes first."""
        now = time.monotonic()
        return min(self._after - (now - self._last_write), self._longest - (now - self._oldest_write))

    async def _seal_when_quiet(self) -> None:
        while self._unsealed:  # writes made while flushing are sealed by the next round
            while (wait := self._wait()) > 0:  # noqa: ASYNC110 - debounce
                await asyncio.sleep(wait)
            collections, self._unsealed = self._unsealed, set()
            for collection in sorted(collections):
                try:
                    await asyncio.to_thread(self._flush, collection)
                    log.info("sealed %s", collection)
                except MilvusException as exc:  # searches stay right, only slower: try again next round
                    log.warning("could not flush %s: %s", collection, exc)
                    self.written(collection)

    async def drained(self) -> None:
        """Returns once every write so far is sealed (or could not be, after a failed flush)."""
        if self._task is not None:
            await asyncio.shield(self._task)

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


def _tolerate_race(create: Callable[[], object], exists: Callable[[], bool]) -> None:
    """Worker and API start together and both ensure the schema: losing the race to create is fine."""
    try:
        create()
    except MilvusException:
        if not exists():
            raise


def _fit(row: dict[str, Any]) -> dict[str, Any]:
    """Clip strings to their VARCHAR limits (in bytes) and encode lists as JSON."""
    fitted = dict(row)
    for name, value in row.items():
        if isinstance(value, list | tuple) and name not in VECTOR_FIELDS:
            value = json.dumps(list(value))
        if isinstance(value, str):
            fitted[name] = clip_bytes(value, 65535 if name == "text" else 2000)
    return fitted
