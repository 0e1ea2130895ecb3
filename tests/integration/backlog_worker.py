"""A Faust worker for test_recovery_order: it starts with a backlog in its source topic and a slow agent.

Its consumer waits three seconds after seeking to the committed offsets, as a loaded machine may, which is the
window in which Faust's own end of recovery lets records reach a queue it then empties. The worker prints how
many distinct records its agent processed, after committing, once all arrived or <wait> seconds passed.

    python -m tests.integration.backlog_worker <bootstrap> <app id> <topic> <records> <wait> <data dir> \
        faust|ordered
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import faust
from faust.transport.drivers.aiokafka import Consumer

from streams.app import broker_url

SEEK_DELAY = 3.0  # seconds the consumer takes after seeking to the committed offsets
PER_RECORD = 0.02  # seconds the agent takes per record, so the queue still holds records when it is emptied
_seek_to_committed = Consumer.seek_to_committed


async def _slowly(self: Consumer) -> dict:
    offsets = await _seek_to_committed(self)
    await asyncio.sleep(SEEK_DELAY)
    return offsets


def main() -> None:
    bootstrap, app_id, topic_name, records, wait, datadir, manager = sys.argv[1:8]
    Consumer.seek_to_committed = _slowly  # type: ignore[method-assign]
    managers = {"faust": "faust.tables:TableManager", "ordered": "streams.recovery:OrderedTableManager"}
    app = faust.App(app_id, broker=broker_url(bootstrap), store="memory://", datadir=datadir, topic_partitions=1,
                    processing_guarantee="at_least_once", consumer_auto_offset_reset="earliest",
                    web_enabled=False, producer_partitioner=None, TableManager=managers[manager])
    source = app.topic(topic_name, key_serializer="raw", value_serializer="raw", partitions=1)
    app.Table("state", default=None, partitions=1, key_type=bytes, value_type=bytes)  # so recovery runs
    seen: set[bytes] = set()
    all_seen = asyncio.Event()

    @app.agent(source)
    async def process(stream: faust.StreamT) -> None:
        async for event in stream.events():
            seen.add(event.value)
            await asyncio.sleep(PER_RECORD)
            if len(seen) == int(records):
                all_seen.set()

    @app.task
    async def report() -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_seen.wait(), float(wait))
        await asyncio.sleep(0.5)  # the last record's ack
        await app.consumer.commit()
        print(f"processed: {len(seen)}", flush=True)
        os._exit(0)

    faust.Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
