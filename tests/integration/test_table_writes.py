"""A table write survives a worker killed right after committing, even when Faust's producer buffer is slow.

Faust's `table[key] = value` queues the changelog record in its producer buffer, and the commit does not
wait for a record the buffer is still handing over. streams.tables.put hands the record to the Kafka client
before it returns. The worker (tests/integration/slow_buffer_worker.py) writes one event both ways, commits,
and is killed: the committed offset covers the event, so only what reached the changelog is its state."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from tests.helpers import committed_offsets, create_topic, produce, read_topic

ROOT = Path(__file__).resolve().parents[2]


def test_put_keeps_the_state_of_a_committed_event_that_assignment_loses(services, tmp_path):
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    app_id, topic = f"tables{uuid.uuid4().hex[:8]}", f"tables-in-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic)
    produce(bootstrap, topic, [(b"ticket-1", b"state after the reply", 0)])

    worker = subprocess.run([sys.executable, "-m", "tests.integration.slow_buffer_worker", bootstrap, app_id, topic,
                             str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=90)
    assert worker.returncode == -9, worker.stderr[-2000:]  # killed itself right after the commit
    assert "committed: True" in worker.stdout, worker.stderr[-2000:]
    assert committed_offsets(bootstrap, app_id, topic) == [1]  # a restart would not see the event again

    def changelog(table: str) -> list[tuple[bytes, bytes]]:
        return list(read_topic(bootstrap, f"{app_id}-{table}-changelog"))

    assert changelog("kept") == [(b"ticket-1", b"state after the reply")]
    assert changelog("assigned") == []  # the slow buffer was in effect: Faust's own write was lost
