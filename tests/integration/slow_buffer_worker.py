"""A Faust worker for test_table_writes: its producer buffer drains slowly, as under CPU pressure.

It takes one event, writes it to two tables (one by Faust's own assignment, one with streams.tables.put),
acknowledges it, commits, and kills itself with SIGKILL before the slow buffer has drained.

    python -m tests.integration.slow_buffer_worker <bootstrap> <app id> <topic> <data dir>
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import faust
from faust.transport.producer import ProducerBuffer

from streams.app import faust_app
from streams.tables import put

BUFFER_DELAY = 2.0  # seconds each buffered record waits before it reaches the Kafka client
_send_pending = ProducerBuffer._send_pending


async def _slowly(self: ProducerBuffer, fut: faust.types.FutureMessage) -> None:
    await asyncio.sleep(BUFFER_DELAY)
    await _send_pending(self, fut)


def main() -> None:
    bootstrap, app_id, topic_name, datadir = sys.argv[1:5]
    ProducerBuffer._send_pending = _slowly  # type: ignore[method-assign]
    app = faust_app(app_id, bootstrap, datadir, 1)
    source = app.topic(topic_name, key_serializer="raw", value_serializer="raw", partitions=1)
    assigned = app.Table("assigned", default=None, partitions=1, key_type=bytes, value_type=bytes)
    kept = app.Table("kept", default=None, partitions=1, key_type=bytes, value_type=bytes)

    @app.agent(source)
    async def take(stream: faust.StreamT) -> None:
        async for event in stream.events():
            assigned[event.key] = event.value
            await put(kept, event, event.value)
            event.ack()
            committed = await app.consumer.commit()
            print(f"committed: {committed}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)

    faust.Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
