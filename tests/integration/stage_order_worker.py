"""A worker for test_stage_order (tests.integration.two_topics): a source agent that keeps the event loop busy
for each record, as merge does in a backlog, and a later agent whose topic is one of the app's `later_topics`.
The later agent prints how many source records had been handled when it took its first record, then the
worker exits."""

from __future__ import annotations

import asyncio
import os
import time

import faust

from tests.integration.two_topics import run_worker, two_topic_app

PARTITIONS = 2
WORK_SECONDS = 0.002  # the event loop's time per source record (merge: about 1 ms in a backlog)


def main() -> None:
    app, source_topic, later_topic = two_topic_app(PARTITIONS)
    app.later_topics = frozenset({later_topic.get_topic_name()})
    handled = 0

    @app.agent(source_topic)
    async def source(stream: faust.StreamT) -> None:
        nonlocal handled
        async for _event in stream.events():
            if handled == 0:
                print("source: started", flush=True)
            time.sleep(WORK_SECONDS)  # noqa: ASYNC251 - the point: the loop is busy, as with real work
            handled += 1
            await asyncio.sleep(0)

    @app.agent(later_topic)
    async def later(stream: faust.StreamT) -> None:
        async for _event in stream.events():
            print(f"later: {handled}", flush=True)
            os._exit(0)

    run_worker(app)


if __name__ == "__main__":
    main()
