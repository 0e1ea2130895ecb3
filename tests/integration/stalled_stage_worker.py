"""A Faust worker for test_stalled_stage: one agent stalls on its first record, as a stage does behind an LLM
that stops answering, with a backlog behind it; another agent reads a second topic. The worker prints when the
stalled agent took its record and when the other agent took one, as Unix times; it exits after the latter.
Its polls are bounded as a worker's are with an LLM summarizer (streams.app.bounds_polls).

    python -m tests.integration.stalled_stage_worker <bootstrap> <app id> <stalled topic> <other topic> \
        <data dir>
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import faust

from streams.app import faust_app, poll_records

PARTITIONS = 4  # of each topic: the worker's default


def main() -> None:
    bootstrap, app_id, stalled_name, other_name, datadir = sys.argv[1:6]
    app = faust_app(app_id, bootstrap, datadir, PARTITIONS, broker_max_poll_records=poll_records(PARTITIONS))
    stalled_topic = app.topic(stalled_name, key_serializer="raw", value_serializer="raw")
    other_topic = app.topic(other_name, key_serializer="raw", value_serializer="raw")

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

    faust.Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
