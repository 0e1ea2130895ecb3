"""A Faust worker for test_stage_order: a source agent that keeps the event loop busy for each record, as merge
does in a backlog, and a later agent whose topic is one of the app's `later_topics`. The later agent prints how
many source records had been handled when it took its first record, then the worker exits. Its polls are
bounded as the worker's are (streams.app.poll_records).

    python -m tests.integration.stage_order_worker <bootstrap> <app id> <source topic> <later topic> <data dir>
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import faust

from streams.app import faust_app, poll_records

PARTITIONS = 2
WORK_SECONDS = 0.002  # the event loop's time per source record (merge: about 1 ms in a backlog)


def main() -> None:
    bootstrap, app_id, source_name, later_name, datadir = sys.argv[1:6]
    app = faust_app(app_id, bootstrap, datadir, PARTITIONS, broker_max_poll_records=poll_records(PARTITIONS))
    app.later_topics = frozenset({later_name})
    source_topic = app.topic(source_name, key_serializer="raw", value_serializer="raw")
    later_topic = app.topic(later_name, key_serializer="raw", value_serializer="raw")
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

    faust.Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
