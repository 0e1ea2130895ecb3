"""Personal data removed before text leaves for an external LLM: e-mails, phones, card numbers, API keys."""

from __future__ import annotations

import re

_PATTERNS = (
    ("[EMAIL]", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("[API_KEY]", re.compile(r"\b(?:sk|pk|rk|key|token)[-_][A-Za-z0-9_-]{12,}\b|\b[A-Za-z0-9]{32,}\b")),
    ("[CARD]", re.compile(r"\b(?:\d[ -]?){13,19}\b")),
    ("[PHONE]", re.compile(r"(?<!\w)\+?\d[\d ()-]{7,}\d\b")),
)


def redact(text: str) -> str:
    for label, pattern in _PATTERNS:
        text = pattern.sub(label, text)
    return text
