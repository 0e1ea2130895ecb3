"""The bare Kafka hop the poller's records take, without the worker: the poller's publisher sends a change's
records in one batch, a plain aiokafka consumer (Faust's client) reads them, and each record's time from its
Kafka timestamp to being read is kept. What `copilot_kafka_transit_seconds{stage="merge"}` measures beyond
this is the wait inside the worker.

    python -m bench.kafka_hop --changes 20 --records 15
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaConsumer
from confluent_kafka.admin import AdminClient, NewTopic

from bench.pipeline import percentile
from connectors.publisher import KafkaPublisher, OutgoingMessage
from copilot.sandbox import free_port, machine
from copilot.settings import StackSettings
from copilot.stack.kafka import KafkaBroker

TOPIC = "hop"
WARM_UP = 2  # changes before the measured ones: the producer's first batch waits for its idempotence id
PAUSE = 0.3  # seconds between changes, so each is read alone, as single changes are in bench.pipeline


async def measure(bootstrap: str, changes: int, records: int) -> list[float]:
    consumer = AIOKafkaConsumer(TOPIC, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None)
    await consumer.start()
    publisher = KafkaPublisher(bootstrap)
    transits: list[float] = []
    try:
        for change in range(WARM_UP + changes):
            await publisher.publish([OutgoingMessage(TOPIC, str(change), b"x" * 2000) for _ in range(records)])
            got: list[float] = []
            while len(got) < records:
                for batch in (await consumer.getmany(timeout_ms=1000)).values():
                    got.extend(time.time() - r.timestamp / 1000 for r in batch)
            if change >= WARM_UP:
                transits.extend(got)
            await asyncio.sleep(PAUSE)
    finally:
        publisher.close()
        await consumer.stop()
    return transits


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=20)
    parser.add_argument("--records", type=int, default=15, help="records per change (bench.pipeline: about 15)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        broker = KafkaBroker(StackSettings(COPILOT_DATA_DIR=Path(work), COPILOT_KAFKA_PORT=free_port(),
                                           COPILOT_KAFKA_CONTROLLER_PORT=free_port()))
        broker.up()
        try:
            admin = AdminClient({"bootstrap.servers": broker.address})  # kept alive until the topic exists
            admin.create_topics([NewTopic(TOPIC, 2, 1)])[TOPIC].result()
            ms = sorted(t * 1000 for t in asyncio.run(measure(broker.address, args.changes, args.records)))
        finally:
            broker.down()
    print(f"machine: {machine()}; {args.changes} changes of {args.records} records, one batch each")
    print(f"producer -> consumer per record: mean {statistics.mean(ms):.1f} ms, p50 {statistics.median(ms):.1f} ms, "
          f"p95 {percentile(ms, 95):.1f} ms, max {ms[-1]:.1f} ms; {sum(m < 50 for m in ms) / len(ms):.0%} under 50 ms")


if __name__ == "__main__":
    main()
