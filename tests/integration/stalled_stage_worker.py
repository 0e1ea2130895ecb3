"""A worker for test_stalled_stage (tests.integration.two_topics): one agent stalls on its first record, as a
stage does behind an LLM that stops answering, with a backlog behind it; another agent reads the second topic.
The worker prints when the stalled agent took its record and when the other agent took one, as Unix times; it
exits after the latter. Its polls are bounded as a worker's are with an LLM summarizer
(streams.app.bounds_polls)."""

from __future__ import annotations

import asyncio
import os
import time

import faust

from tests.integration.two_topics import run_worker, two_topic_app

PARTITIONS = 4  # of each topic: the worker's default


def main() -> None:
    app, stalled_topic, other_topic = two_topic_app(PARTITIONS)

    @app.agent(stalled_topic)
    async def stalled(stream: faust.StreamT) -> None:
        async for _event in stream.events():
            print(f"stalled: {time.time()}", flush=True)
            await asyncio.Event().wait()  # never set

    @app.agent(other_topic)
    async def other(stream: faust.StreamT) -> None:
        async for _event in stream.events():
            print(f"other: {time.time()}", flush=True)
            os._exit(0)

    run_worker(app)


if __name__ == "__main__":
    main()
