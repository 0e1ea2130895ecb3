"""Token counts and token-sized chunks for the OpenAI path, with the model's own tokenizer and no network.

tiktoken would download its vocabularies at run time; `scripts/tokenizer_data.py` installs them at setup time
into the directory below, under the names tiktoken's cache uses, and this module points tiktoken there only
once it has checked the file is present. Without them, counts are estimated (4 characters a token) and a
warning says so.
"""

from __future__ import annotations

import hashlib
import logging
import os
from functools import cache
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
BLOBS = "https://openaipublic.blob.core.windows.net/encodings/{}.tiktoken"  # tiktoken's cache key, never fetched
DEFAULT_ENCODING = "o200k_base"  # current OpenAI models; also the guess for models tiktoken does not know
CHARS_PER_TOKEN = 4


def tokenizer_dir() -> Path:
    cache_dir = os.environ.get("COPILOT_CACHE") or str(Path.home() / ".cache" / "freshdesk-copilot")
    return Path(os.environ.get("COPILOT_TOKENIZER_DIR") or Path(cache_dir) / "tiktoken")


def cache_name(encoding: str) -> str:
    return hashlib.sha1(BLOBS.format(encoding).encode()).hexdigest()  # noqa: S324 - tiktoken's cache key


class Tokenizer:
    """Counts with tiktoken's encoding for the model, or estimates when the vocabulary is not installed."""

    def __init__(self, encoding: Any | None) -> None:
        self._encoding = encoding
        self.exact = encoding is not None

    def count(self, text: str) -> int:
        if self._encoding is None:
            return -(-len(text) // CHARS_PER_TOKEN)
        return len(self._encoding.encode(text, disallowed_special=()))

    def cut(self, text: str, max_tokens: int) -> list[str]:
        """Consecutive pieces of at most `max_tokens` tokens each."""
        if self._encoding is None:
            step = max_tokens * CHARS_PER_TOKEN
            return [text[i:i + step] for i in range(0, len(text), step)] or [""]
        tokens = self._encoding.encode(text, disallowed_special=())
        return [self._encoding.decode(tokens[i:i + max_tokens]) for i in range(0, len(tokens), max_tokens)] or [""]

    def chunks(self, text: str, max_tokens: int) -> list[str]:
        """Whole paragraphs packed into chunks of at most `max_tokens`; a longer paragraph is cut."""
        chunks: list[str] = []
        current: list[str] = []
        size = 0
        for paragraph in text.split("\n\n"):
            for piece in self.cut(paragraph, max_tokens) if self.count(paragraph) > max_tokens else [paragraph]:
                cost = self.count(piece) + 1  # the blank line that joins it
                if current and size + cost > max_tokens:
                    chunks.append("\n\n".join(current))
                    current, size = [], 0
                current.append(piece)
                size += cost
        if current:
            chunks.append("\n\n".join(current))
        return chunks


@cache
def tokenizer_for(model: str) -> Tokenizer:
    import tiktoken

    try:
        name = tiktoken.encoding_name_for_model(model)
    except KeyError:  # a model behind an OpenAI-compatible server: the current OpenAI encoding is the guess
        name = DEFAULT_ENCODING
    directory = tokenizer_dir()
    if not (directory / cache_name(name)).exists():
        log.warning("no %s vocabulary in %s (scripts/tokenizer_data.py installs it): token counts for %s are "
                    "estimated", name, directory, model)
        return Tokenizer(None)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(directory)  # where tiktoken finds the file without downloading
    return Tokenizer(tiktoken.get_encoding(name))
