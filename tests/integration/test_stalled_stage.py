"""A stage that stops (its LLM hangs) with a backlog behind it does not stop the worker's other stages.

Faust hands every record to its agent's queue from one loop, and waits there while that queue is full, so
with its defaults one stalled agent with more than 4,096 records waiting stops every other agent of the
worker (a test with Faust's default polls: the other agent took nothing in 60 s). A worker whose summaries
come from an LLM bounds each poll so that Faust stops fetching the partitions of a filling queue before it is
full (streams.app.poll_records, bounds_polls)."""

from __future__ import annotations

import re

from tests.integration.stalled_stage_worker import PARTITIONS
from tests.integration.two_topics import after_backlog

BACKLOG = 6000  # records waiting for the stalled agent: more than Faust's default queue of 4,096


def test_a_stalled_agent_with_a_backlog_does_not_stop_the_others(services, tmp_path):
    outcome = after_backlog(services["COPILOT_KAFKA_BOOTSTRAP"], tmp_path, "tests.integration.stalled_stage_worker",
                            PARTITIONS, BACKLOG, "stalled:", b"a change for the other stage",
                            "the other agent took no record while the first one was stalled")
    taken = [float(t) for t in re.findall(r"other: ([0-9.]+)", outcome.output)]
    assert taken, outcome.log
    assert taken[0] - outcome.sent < 10, taken[0] - outcome.sent
