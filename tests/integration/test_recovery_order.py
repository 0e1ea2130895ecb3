"""A worker that starts with a backlog processes all of it and commits to its end (streams.recovery).

Faust's own end of recovery resumes the source partitions before it empties the stream queues, so records
fetched in that window are dropped and never fetched again. The worker (tests/integration/backlog_worker.py)
widens the window to a second, as a loaded machine may; with Faust's table manager it loses records, with
ours it loses none."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.integration.test_table_writes import committed_offset

ROOT = Path(__file__).resolve().parents[2]
RECORDS = 300


def _backlog(bootstrap: str) -> str:
    topic = f"backlog-{uuid.uuid4().hex[:8]}"
    _create(bootstrap, topic)
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(RECORDS):
        producer.produce(topic, key=f"ticket-{i % 7}".encode(), value=str(i).encode())
    assert producer.flush(30) == 0
    return topic


def _create(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(30)


def _run(bootstrap: str, topic: str, manager: str, wait: float, datadir: Path) -> tuple[int, str]:
    """(records processed, group id) of one worker started on the backlog, with a table state to recover (as
    after a restart: Faust starts fetching while it reads the changelog)."""
    group = f"backlog{uuid.uuid4().hex[:8]}"
    changelog = f"{group}-state-changelog"
    _create(bootstrap, changelog)
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(changelog, key=b"ticket-0", value=b"state before the restart")
    assert producer.flush(30) == 0
    worker = subprocess.run([sys.executable, "-m", "tests.integration.backlog_worker", bootstrap, group, topic,
                             str(RECORDS), str(wait), str(datadir), manager],
                            cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert worker.returncode == 0, worker.stderr[-2000:]
    [line] = [line for line in worker.stdout.splitlines() if line.startswith("processed: ")]
    return int(line.removeprefix("processed: ")), group


def test_a_worker_started_with_a_backlog_processes_and_commits_all_of_it(services, tmp_path):
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    topic = _backlog(bootstrap)

    processed, group = _run(bootstrap, topic, "ordered", 90, tmp_path / "ordered")
    assert processed == RECORDS
    assert committed_offset(bootstrap, group, topic) == RECORDS

    # The window really is there: Faust's own order loses records (it has all of them by then if it loses none).
    processed, group = _run(bootstrap, topic, "faust", 20, tmp_path / "faust")
    assert processed < RECORDS
    assert committed_offset(bootstrap, group, topic) < RECORDS
