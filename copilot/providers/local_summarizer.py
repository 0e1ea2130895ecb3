"""The offline summarizer: problem from the customer's words, cause and solution from the agents' replies.

Extractive on purpose: with no model it never invents anything, and every sentence it returns can be found
in the ticket.
"""

from __future__ import annotations

import re

from copilot.domain import MergedDocument, Summary

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_CAUSE = re.compile(r"\b(cause|caused|because|due to|root cause|the issue was|the problem was|turned out)\b", re.I)
_SOLUTION = re.compile(
    r"\b(fix|fixed|resolv\w*|solution|workaround|refund\w*|updat\w*|upload\w*|enabl\w*|disabl\w*|reinstall\w*|"
    r"configur\w*|restart\w*|clear\w*|re-?sync\w*|changed|set up|please try|try to|go to|under admin)\b", re.I)
_CONFIRM = re.compile(r"\b(works?|worked|fixed|resolved|thank|thanks|all good|confirmed)\b", re.I)
_STATUS = {2: "Open", 3: "Pending", 4: "Resolved", 5: "Closed"}
MAX_FIELD = 600


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if len(s.strip()) > 2]


def _first(parts: list[str], pattern: re.Pattern[str]) -> str:
    return next((s for s in parts if pattern.search(s)), "")


def summarize_locally(doc: MergedDocument) -> Summary:
    customer = [doc.description_text] + [c.body_text for c in doc.conversations if c.author == "customer"]
    agent = [c.body_text for c in doc.conversations if c.author == "agent"]
    agent_sentences = [s for text in agent for s in sentences(text)]
    problem = " ".join([doc.subject.rstrip(".") + "."] + sentences(doc.description_text)[:2])
    cause = _first(agent_sentences, _CAUSE)
    solution = _solution(agent_sentences, cause)
    confirmed = any(_CONFIRM.search(t) for t in customer[1:][-1:])
    result = _result(doc.status, confirmed, bool(solution))
    return Summary(
        problem=_clip(problem), cause=_clip(_strip_lead(cause)) or "Not identified in the conversation.",
        solution=_clip(solution) or "No solution recorded yet.", result=result, language=_language(doc),
        confidence=round(0.3 + 0.2 * bool(cause) + 0.3 * bool(solution) + 0.2 * confirmed, 2), summarizer="local",
    )


def _solution(agent_sentences: list[str], cause: str) -> str:
    """The agents' latest sentence with a fix cue; else their latest statement (a final reply usually is the fix)."""
    candidates = [s for s in reversed(agent_sentences) if s != cause and not s.endswith("?")]
    return next((s for s in candidates if _SOLUTION.search(s)), candidates[0] if candidates else "")


def _result(status: int, confirmed: bool, has_solution: bool) -> str:
    label = _STATUS.get(status, f"Status {status}")
    if status in (4, 5):
        return f"{label}; the customer confirmed the fix." if confirmed else f"{label}."
    return f"{label}; a solution was proposed, awaiting confirmation." if has_solution else f"{label}; unresolved."


def _strip_lead(sentence: str) -> str:
    return re.sub(r"^(we found the cause:\s*)", "", sentence, flags=re.I)


def _clip(text: str) -> str:
    return text if len(text) <= MAX_FIELD else text[: MAX_FIELD - 1].rsplit(" ", 1)[0] + "…"


def _language(doc: MergedDocument) -> str:
    sample = doc.subject + doc.description_text[:500]
    if re.search(r"[\uac00-\ud7a3]", sample):
        return "ko"
    if re.search(r"[\u3040-\u30ff]", sample):
        return "ja"
    return "en"
