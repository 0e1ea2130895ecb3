"""A later stage's record does not wait behind a source backlog (streams.stage_order).

aiokafka hands out what it fetched oldest fetch first, so a record of a later topic fetched while a source
backlog is buffered waited until the whole backlog had been handed to its agent: in a 1,000-ticket backlog the
summarize and index agents took nothing for the first 7-9 s. The worker's consumer asks for the later
topics' records first."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

from tests.helpers import create_topic, produce
from tests.integration.stage_order_worker import PARTITIONS

ROOT = Path(__file__).resolve().parents[2]
BACKLOG = 3000  # source records waiting when the later record comes: about 6 s of the source agent's work


def test_a_later_stages_record_is_taken_before_the_source_backlog_is_worked_off(services, tmp_path):
    bootstrap, run = services["COPILOT_KAFKA_BOOTSTRAP"], uuid.uuid4().hex[:8]
    source, later = f"source-{run}", f"later-{run}"
    create_topic(bootstrap, source, PARTITIONS)
    create_topic(bootstrap, later, PARTITIONS)
    produce(bootstrap, source, [(f"ticket-{n}".encode(), b"a source record", n % PARTITIONS) for n in range(BACKLOG)])
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", "tests.integration.stage_order_worker", bootstrap,
                                   f"order{run}", source, later, str(tmp_path / "data")],
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert worker.stdout is not None
        for line in worker.stdout:  # Faust's own start-up output comes first
            if line.startswith("source: started"):
                break
        else:
            raise AssertionError(log.read_text()[-2000:])
        produce(bootstrap, later, [(b"ticket-x", b"a document of a later stage", 0)])
        out = worker.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        raise AssertionError("the later agent took no record in 60 s") from None
    handled = [int(n) for n in out.split("later: ")[1:]]
    assert handled, log.read_text()[-2000:]
    assert handled[0] < BACKLOG / 3, f"the later record waited for {handled[0]} of {BACKLOG} source records"
