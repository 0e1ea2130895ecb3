"""A Faust worker for test_recovery_order: it starts with a backlog in its source topic and a slow agent.

Its consumer waits three seconds after seeking to the committed offsets, as a loaded machine may, which is the
window in which Faust's own end of recovery lets records reach a queue it then empties. Once its agent has
processed <records> distinct records, or none for <idle> seconds, the worker commits and prints the values it
processed (`seen: 0,1,...`). <poll records> bounds each poll (`app`: Faust's default, which
streams.app.faust_app keeps).

    python -m tests.integration.backlog_worker <bootstrap> <app id> <topic> <partitions> <records> <idle> \
        <data dir> faust|ordered <poll records>
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import faust
from faust.transport.drivers.aiokafka import Consumer

from streams.app import faust_app

SEEK_DELAY = 3.0  # seconds the consumer takes after seeking to the committed offsets
PER_RECORD = 0.02  # seconds the agent takes per record, so the queue still holds records when it is emptied
MANAGERS = {"faust": "faust.tables:TableManager", "ordered": "streams.recovery:OrderedTableManager"}
_seek_to_committed = Consumer.seek_to_committed


async def _slowly(self: Consumer) -> dict:
    offsets = await _seek_to_committed(self)
    await asyncio.sleep(SEEK_DELAY)
    return offsets


def main() -> None:
    bootstrap, app_id, topic_name, partitions, records, idle, datadir, manager, poll = sys.argv[1:10]
    Consumer.seek_to_committed = _slowly  # type: ignore[method-assign]
    app = faust_app(app_id, bootstrap, datadir, int(partitions), broker_session_timeout=6.0,
                    broker_heartbeat_interval=1.0, TableManager=MANAGERS[manager],
                    **({} if poll == "app" else {"broker_max_poll_records": int(poll)}))
    source = app.topic(topic_name, key_serializer="raw", value_serializer="raw", partitions=int(partitions))
    app.Table("state", default=None, partitions=int(partitions), key_type=bytes, value_type=bytes)  # so recovery runs
    seen: set[str] = set()
    last_seen = time.monotonic()

    @app.agent(source)
    async def process(stream: faust.StreamT) -> None:
        nonlocal last_seen
        async for event in stream.events():
            seen.add(event.value.decode())
            last_seen = time.monotonic()
            await asyncio.sleep(PER_RECORD)

    @app.timer(0.2)
    async def report() -> None:
        if len(seen) < int(records) and time.monotonic() - last_seen < float(idle):
            return
        await asyncio.sleep(0.5)  # the last record's ack
        await app.consumer.commit()
        print(f"seen: {','.join(sorted(seen, key=int))}", flush=True)
        os._exit(0)

    faust.Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
