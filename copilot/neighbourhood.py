"""A ticket's neighbourhood: what /init shows about one ticket that does not depend on who asks.

/init costs four Milvus searches of tickets (the text's and the subject's vectors and words) and two of
articles (Milvus Lite answers a few a second). Its answer depends on the ticket, the tenant's retrieval
settings and the asking agent's scope, but the searches underneath depend on the ticket alone when they are
made for the whole tenant and unweighted. So the raw rankings (of tickets and of articles) are searched once,
kept in Redis (copilot.result_cache), and each request filters them by the agent's scope and fuses them with
the tenant's weights itself. That is exactly what scoped searches would return whenever the filtered
rankings are still as deep as those searches would go; when they are not, `similar` says so and the caller
searches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from copilot.agent_scope import AgentScope
from copilot.answering import keywords
from copilot.feedback import candidates
from copilot.index import CopilotIndex, Hit, Ranking, SubjectQuery, fused, hybrid_depth
from copilot.retrieval_config import RetrievalConfig

SHOWN_LIMIT = 5  # the similar tickets /init shows by default: a neighbourhood is searched at least this deep
ARTICLES = 3  # related articles /init shows


FORMAT = 2  # of a dumped neighbourhood; 2 added the subject's rankings: entries of another format are misses


@dataclass(frozen=True)
class Neighbourhood:
    ticket_id: int
    subject: str
    summary: dict[str, str]
    indexed: dict[str, Any] | None  # None: summarized on demand, the pipeline has not indexed the ticket yet
    assignment: tuple[int, int]  # (group_id, responder_id), 0 for none: who may see the ticket itself
    vector: list[float]
    subject_vector: list[float]
    query_text: str  # the part of the ticket's text searched with (its keywords went to BM25)
    depth: int  # how deep the ticket rankings were searched
    tickets: list[Ranking]
    articles: list[Ranking]

    @property
    def terms(self) -> str:
        """What BM25 searched with."""
        return keywords(self.query_text)

    @property
    def subject_query(self) -> SubjectQuery | None:
        return subject_query(self.subject, self.subject_vector)

    def deep_enough(self, limit: int) -> bool:
        return hybrid_depth(candidates(limit)) <= self.depth

    def similar(self, limit: int, scope: AgentScope | None, fusion: RetrievalConfig) -> list[Hit] | None:
        """The candidates a hybrid search limited to `scope` would return for `limit` results, or None when
        these rankings cannot tell (too shallow for the limit, or the scope filtered a truncated ranking
        below the depth that search would use)."""
        if not self.deep_enough(limit):
            return None
        need = hybrid_depth(candidates(limit))
        visible = []
        for ranking in self.tickets:
            hits = [h for h in ranking.hits
                    if scope is None or scope.allows(h.fields["group_id"], h.fields["responder_id"])]
            if len(hits) < need and len(ranking.hits) >= self.depth:
                return None
            visible.append(Ranking(ranking.signal, hits[:need]))
        return fused(visible, fusion, candidates(limit))

    def related_articles(self, fusion: RetrievalConfig) -> list[Hit]:
        return fused(self.articles, fusion, candidates(ARTICLES))

    def listed(self) -> set[str]:
        """Primary keys of every ticket and article in the rankings: a change to any of them makes this stale."""
        return {str(h.fields["pk"]) for r in (*self.tickets, *self.articles) for h in r.hits}

    def dump(self) -> dict[str, Any]:
        rows = {h.fields["pk"]: h.fields for r in (*self.tickets, *self.articles) for h in r.hits}

        def ranked(rankings: list[Ranking]) -> list[Any]:
            return [[r.signal, [[h.fields["pk"], h.score] for h in r.hits]] for r in rankings]

        return {"format": FORMAT, "ticket_id": self.ticket_id, "subject": self.subject, "summary": self.summary,
                "indexed": self.indexed, "assignment": list(self.assignment), "vector": self.vector,
                "subject_vector": self.subject_vector, "query_text": self.query_text, "depth": self.depth, "rows": rows,
                "tickets": ranked(self.tickets), "articles": ranked(self.articles)}

    @classmethod
    def load(cls, data: dict[str, Any]) -> Neighbourhood:
        rows = data["rows"]

        def rankings(dumped: list[Any]) -> list[Ranking]:
            return [Ranking(signal, [Hit(float(score), dict(rows[pk])) for pk, score in hits])
                    for signal, hits in dumped]

        group_id, responder_id = data["assignment"]
        return cls(int(data["ticket_id"]), data["subject"], data["summary"], data["indexed"],
                   (int(group_id), int(responder_id)), [float(x) for x in data["vector"]],
                   [float(x) for x in data["subject_vector"]], data["query_text"], int(data["depth"]),
                   rankings(data["tickets"]), rankings(data["articles"]))


@dataclass(frozen=True)
class TicketInHand:
    """What the neighbourhood search starts from: an indexed row, or a ticket summarized on demand."""

    ticket_id: int
    subject: str
    summary: dict[str, str]
    indexed: dict[str, Any] | None
    assignment: tuple[int, int]
    vector: list[float]
    subject_vector: list[float]
    text: str

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TicketInHand:
        """An index row read with its text and vector."""
        indexed = {"source_updated_at": _iso(row.get("source_updated_at")), "content_hash": row.get("content_hash"),
                   "indexed_at": _iso(row.get("indexed_at")), "seen_at": _iso(row.get("seen_at"))}
        return cls(int(row["ticket_id"]), row["subject"], summary_of(row), indexed,
                   (int(row.get("group_id") or 0), int(row.get("responder_id") or 0)),
                   [float(x) for x in row["dense"]], [float(x) for x in row["subject_dense"]], row["text"])


def subject_query(subject: str, vector: list[float]) -> SubjectQuery | None:
    """The subject's rankings, unless the ticket has no subject to tell it by."""
    return SubjectQuery(vector, keywords(subject)) if subject.strip() else None


def summary_of(row: dict[str, Any]) -> dict[str, str]:
    return {name: row.get(name, "") for name in ("problem", "cause", "solution", "result", "summarizer")}


def _iso(ms: int | None) -> str | None:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat() if ms else None


async def search_neighbourhood(index: CopilotIndex, tenant: str, ticket: TicketInHand, limit: int,
                               query_chars: int) -> Neighbourhood:
    """Searches the rankings deep enough for `limit` similar tickets (at least SHOWN_LIMIT)."""
    query_text = ticket.text[:query_chars]
    terms = keywords(query_text)
    depth = hybrid_depth(candidates(max(limit, SHOWN_LIMIT)))
    tickets = await index.ticket_rankings(tenant, ticket.vector, terms, depth, exclude_ticket=ticket.ticket_id,
                                          subject=subject_query(ticket.subject, ticket.subject_vector))
    articles = await index.article_rankings(tenant, ticket.vector, terms, hybrid_depth(candidates(ARTICLES)))
    return Neighbourhood(ticket.ticket_id, ticket.subject, ticket.summary, ticket.indexed, ticket.assignment,
                         ticket.vector, ticket.subject_vector, query_text, depth, tickets, articles)
