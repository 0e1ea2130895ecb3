"""A stage that stops (its LLM hangs) with a backlog behind it does not stop the worker's other stages.

Faust hands every record to its agent's queue from one loop, and waits there while that queue is full, so
with its defaults one stalled agent with more than 4,096 records waiting stops every other agent of the
worker (a test with Faust's default polls: the other agent took nothing in 60 s). A worker whose summaries
come from an LLM bounds each poll so that Faust stops fetching the partitions of a filling queue before it is
full (streams.app.poll_records, bounds_polls)."""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

from tests.helpers import create_topic, produce
from tests.integration.stalled_stage_worker import PARTITIONS

ROOT = Path(__file__).resolve().parents[2]
BACKLOG = 6000  # records waiting for the stalled agent: more than Faust's default queue of 4,096


def test_a_stalled_agent_with_a_backlog_does_not_stop_the_others(services, tmp_path):
    bootstrap, run = services["COPILOT_KAFKA_BOOTSTRAP"], uuid.uuid4().hex[:8]
    stalled, other = f"stalled-{run}", f"other-{run}"
    create_topic(bootstrap, stalled, PARTITIONS)
    create_topic(bootstrap, other, PARTITIONS)
    produce(bootstrap, stalled, [(f"ticket-{n}".encode(), b"waits for an LLM", n % PARTITIONS)
                                 for n in range(BACKLOG)])
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", "tests.integration.stalled_stage_worker", bootstrap,
                                   f"stalled{run}", stalled, other, str(tmp_path / "data")],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert worker.stdout is not None
        for line in worker.stdout:  # Faust's own start-up output comes first
            if line.startswith("stalled:"):
                break
        else:
            raise AssertionError(log.read_text()[-2000:])
        produce(bootstrap, other, [(b"ticket-x", b"a change for the other stage", 0)])
        sent = time.time()
        out = worker.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        raise AssertionError("the other agent took no record while the first one was stalled") from None
    taken = [float(t) for t in re.findall(r"other: ([0-9.]+)", out)]
    assert taken, log.read_text()[-2000:]
    assert taken[0] - sent < 10, taken[0] - sent
