"""What an agent's question asks for, and an answer built only from the retrieved items, citing each one.

Offline the answer is extractive: the sentences of the retrieved resolutions and KB articles that share the
most words with the question, each followed by its citation (`[#1234]` for a ticket, `[KB-56]` for an
article). Nothing is written that an item does not say, so every claim can be checked against its source.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

CONTENT_TYPES = ("tickets", "solutions", "attachments")
_WORD = re.compile(r"[a-z0-9]+")
_CITATION = re.compile(r"\[(?:#|KB-)\d+\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_STOP = frozenset(
    "a an and are as at be but by can do does for from has have how i if in is it its me my no not of on or our "
    "please should so that the their them there they this to was we were what when where which who why will with "
    "you your".split())
_QUESTION_START = ("how", "why", "what", "when", "where", "which", "who", "can", "could", "should", "is", "are",
                   "do", "does", "did", "will", "would")
_LIST_WORDS = frozenset({"list", "show", "find", "similar", "tickets", "cases", "examples", "all"})
_KB_WORDS = frozenset({"article", "articles", "kb", "guide", "docs", "documentation", "faq", "solution",
                       "solutions", "manual", "howto"})
_ATTACHMENT_WORDS = frozenset({"attachment", "attachments", "file", "files", "screenshot", "screenshots", "log",
                               "logs", "pdf", "png", "jpg", "image", "images", "csv", "har", "zip"})
MAX_SENTENCES = 3


@dataclass(frozen=True)
class Intent:
    types: tuple[str, ...]  # which content types to retrieve
    wants_answer: bool  # a question to answer, or just a list of items


@dataclass(frozen=True)
class Source:
    """A retrieved item an answer may quote: its citation mark and the text it can be quoted from."""

    citation: str
    text: str


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


def keywords(text: str) -> str:
    """A ticket's text as a BM25 query: each word once, stop words dropped (Milvus Lite's BM25 time grows with
    every query term, and common words cost the most while ranking least)."""
    return " ".join(dict.fromkeys(words(text)))


def analyze_intent(query: str, requested: Sequence[str] | None = None) -> Intent:
    """Types the caller asked for win; otherwise the question's words pick them. Tickets are always
    searched unless the caller excluded them, since past cases are what agents use most."""
    tokens = set(_WORD.findall(query.lower()))
    if requested:
        types = tuple(t for t in CONTENT_TYPES if t in requested)
    else:
        types = ("tickets", "solutions") + (("attachments",) if tokens & _ATTACHMENT_WORDS else ())
        if tokens & _KB_WORDS and not tokens & {"ticket", "tickets", "cases"}:
            types = ("solutions", "tickets", *types[2:])
    first = query.strip().lower().split(maxsplit=1)[0] if query.strip() else ""
    question = query.strip().endswith("?") or first in _QUESTION_START
    listing = bool(tokens & _LIST_WORDS) and first in {"list", "show", "find"}
    return Intent(types=types, wants_answer=question and not listing)


def ticket_source(fields: dict[str, Any]) -> Source:
    """A past ticket is quoted for how it was solved; its result ("the customer confirmed the fix") says
    nothing an agent can act on, so it is left out."""
    return Source(f"[#{fields['ticket_id']}]", str(fields.get("solution") or fields.get("subject") or ""))


def article_source(fields: dict[str, Any]) -> Source:
    body = str(fields.get("text", "")).split("\n", 1)[-1]
    return Source(f"[KB-{fields['article_id']}]", body)


def extractive_answer(query: str, sources: Iterable[Source]) -> str:
    """Up to three sentences from the sources that best match the question, in rank order of their
    sources, each followed by its citation; an honest 'nothing found' when no source shares a word with it."""
    wanted = set(words(query))
    scored = []
    for rank, source in enumerate(sources):
        for position, sentence in enumerate(s.strip() for s in _SENTENCE.split(source.text) if s.strip()):
            overlap = len(wanted & set(words(sentence)))
            if overlap:
                scored.append((-overlap, rank, position, sentence, source.citation))
    best = sorted(scored)[:MAX_SENTENCES]
    if not best:
        return "No retrieved ticket or article answers this; try other words."
    best.sort(key=lambda s: (s[1], s[2]))
    return " ".join(f"{sentence.rstrip('.!?')}. {citation}" for _, _, _, sentence, citation in best)


def matching_attachments(query: str, tickets: Iterable[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """Attachments of the retrieved tickets, those whose name or type shares a word with the query first."""
    wanted = set(words(query))
    found = []
    for rank, fields in enumerate(tickets):
        for att in json.loads(fields.get("attachments") or "[]"):
            named = set(words(f"{att.get('name', '')} {att.get('content_type', '')}"))
            found.append((-len(wanted & named), rank, {**att, "ticket_id": fields["ticket_id"]}))
    found.sort(key=lambda f: (f[0], f[1]))
    return [att for *_, att in found[:limit]]


def cited(text: str, sources: Iterable[Source]) -> tuple[str, ...]:
    """The citation marks in a written answer that name a retrieved item, in order of first use."""
    known = {s.citation for s in sources}
    return tuple(dict.fromkeys(mark for mark in _CITATION.findall(text) if mark in known))
