"""Index hits -> the JSON the sidebar reads."""

from __future__ import annotations

import json
from typing import Any

from copilot.answering import words
from copilot.index import Hit
from copilot.neighbourhood import summary_of

MAX_MATCHED_TERMS = 12
STATUS = {2: "open", 3: "pending", 4: "resolved", 5: "closed"}


def ticket_hit(hit: Hit, query_words: set[str] | None = None) -> dict[str, Any]:
    """`query_words` given: the hit also says which of them its subject and summary share (why it matched)."""
    row = hit.fields
    shown = {
        "ticket_id": row["ticket_id"], "subject": row["subject"], "summary": summary_of(row),
        "resolution": row.get("solution", ""), "status": STATUS.get(row["status"], str(row["status"])),
        "tags": json.loads(row.get("tags") or "[]"), "score": round(hit.score, 6),
        "feedback_boost": round(hit.feedback, 4),
    }
    if query_words is not None:
        text = " ".join(str(row.get(k) or "") for k in ("subject", "problem", "cause", "solution"))
        shown["matched_terms"] = sorted(query_words & set(words(text)))[:MAX_MATCHED_TERMS]
    return shown


def article_hit(hit: Hit) -> dict[str, Any]:
    row = hit.fields
    body = row.get("text", "").split("\n", 1)[-1]
    return {"article_id": row["article_id"], "title": row["title"], "snippet": body[:300],
            "score": round(hit.score, 6), "feedback_boost": round(hit.feedback, 4)}
