"""A local OpenAI-compatible HTTP server for tests: the real `openai` client talks to it over 127.0.0.1.

Chat answers are summaries built from the prompt (or scripted replies); embeddings are deterministic
bag-of-words vectors, so similar texts get similar vectors.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

from copilot.tokens import tokenizer_for


@dataclass
class StubState:
    scripted: list[str] = field(default_factory=list)  # replies used first, in order
    prompts: list[list[dict[str, str]]] = field(default_factory=list)
    embedding_inputs: list[str] = field(default_factory=list)
    delay: float = 0.0  # seconds each chat answer takes
    holds: dict[str, asyncio.Event] = field(default_factory=dict)  # a label's (below) answers wait for its event
    in_flight: Counter[str] = field(default_factory=Counter)  # chat calls being answered, by the subject's 1st word
    peak: Counter[str] = field(default_factory=Counter)  # the most at once, by the same label ("*": all)


def bag_of_words(text: str, dim: int = 64) -> list[float]:
    vec = [0.0] * dim
    for word in re.findall(r"[a-z]+", text.lower()):
        vec[int(hashlib.sha256(word.encode()).hexdigest(), 16) % dim] += 1.0
    return vec


def _summary_from(messages: list[dict[str, str]]) -> str:
    text = messages[-1]["content"]
    first = text.strip().splitlines()[0][:200] if text.strip() else "empty"
    return json.dumps({"problem": first, "cause": "stub cause", "solution": "stub solution",
                       "result": "stub result", "language": "en", "confidence": 0.9})


STATE = web.AppKey("state", StubState)


async def chat(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    body = await request.json()
    state.prompts.append(body["messages"])
    content = state.scripted.pop(0) if state.scripted else _summary_from(body["messages"])
    subject = re.search(r"Subject: (\S+)", body["messages"][-1]["content"])
    label = subject.group(1) if subject else ""
    for key in (label, "*"):
        state.in_flight[key] += 1
        state.peak[key] = max(state.peak[key], state.in_flight[key])
    try:
        await asyncio.sleep(state.delay)
        if label in state.holds:
            await state.holds[label].wait()
    finally:
        for key in (label, "*"):
            state.in_flight[key] -= 1
    if body.get("stream"):
        return await _stream_chat(request, body["model"], content)
    return web.json_response({
        "id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": body["model"],
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        "usage": usage(body["model"], body["messages"], content),
    })


def usage(model: str, messages: list[dict[str, str]], answer: str) -> dict[str, int]:
    """Token counts as OpenAI reports them: each message costs 3 tokens besides its role and content, and
    the reply is primed with 3 more."""
    count = tokenizer_for(model).count
    prompt = sum(3 + count(m["role"]) + count(m["content"]) for m in messages) + 3
    completion = count(answer)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


async def _stream_chat(request: web.Request, model: str, content: str) -> web.StreamResponse:
    """The content in word-sized chunks, as OpenAI streams them (data lines, then [DONE])."""
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for piece in re.findall(r"\S+\s*", content):
        chunk = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": model,
                 "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
        await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
    await response.write(b"data: [DONE]\n\n")
    await response.write_eof()
    return response


async def embeddings(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body: dict[str, Any] = await request.json()
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    state.embedding_inputs += inputs
    data = [{"object": "embedding", "index": i, "embedding": bag_of_words(t)} for i, t in enumerate(inputs)]
    return web.json_response({"object": "list", "data": data, "model": body["model"],
                              "usage": {"prompt_tokens": 1, "total_tokens": 1}})


async def start_stub() -> tuple[TestServer, StubState]:
    app = web.Application()
    state = StubState()
    app[STATE] = state
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/embeddings", embeddings)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server, state
