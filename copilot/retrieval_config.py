"""How one tenant's tickets are embedded and searched: what text the dense vector represents, how dense and
BM25 rankings are fused, and how many results a request may ask for. Stored with the tenant."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

EMBED_CHOICES = ("text", "summary", "both")


class RetrievalConfigError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class RetrievalConfig:
    """Defaults measured on ../shared/eval (BENCHMARKS.md): the ticket's own text embedded, equal weights,
    and a small RRF constant, which trusts the top of each ranking more than the classic 60. (Votes act on
    positions, api.ranking, so the constant does not change how hard they pull.) `subject_weight` weighs the
    two rankings a ticket's subject adds when /init looks for tickets like it (copilot.index.SubjectQuery)."""

    embed: str = "text"  # text: subject, description, conversations; summary: subject and summary; both
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    subject_weight: float = 1.0
    rrf_k: int = 10
    max_results: int = 50  # the largest `limit` a request may ask for

    def __post_init__(self) -> None:
        if self.embed not in EMBED_CHOICES:
            raise RetrievalConfigError("embed", f"must be one of {', '.join(EMBED_CHOICES)}")
        for name in ("dense_weight", "bm25_weight", "subject_weight"):
            if not 0 <= getattr(self, name) <= 10:
                raise RetrievalConfigError(name, "must be between 0 and 10")
        if self.dense_weight + self.bm25_weight == 0:
            raise RetrievalConfigError("dense_weight", "dense_weight and bm25_weight cannot both be 0")
        if not 1 <= self.rrf_k <= 1000:
            raise RetrievalConfigError("rrf_k", "must be between 1 and 1000")
        if not 1 <= self.max_results <= 50:
            raise RetrievalConfigError("max_results", "must be between 1 and 50")

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RetrievalConfig:
        unknown = set(data or {}) - {f.name for f in fields(cls)}
        if unknown:
            raise RetrievalConfigError(sorted(unknown)[0], "is not a retrieval setting")
        return cls(**(data or {}))

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    def weight(self, signal: str) -> float:
        """The weight of a ranking by what it searched (copilot.index.Ranking): "dense" or "sparse" (BM25) with
        the text, "subject_dense" or "subject_sparse" with a ticket's subject."""
        if signal.startswith("subject_"):
            return self.subject_weight
        return self.dense_weight if signal == "dense" else self.bm25_weight

    def changed(self, **updates: Any) -> RetrievalConfig:
        return RetrievalConfig.from_dict({**self.dump(), **{k: v for k, v in updates.items() if v is not None}})
