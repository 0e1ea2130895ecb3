"""A later stage's record does not wait behind a source backlog (streams.stage_order).

aiokafka hands out what it fetched oldest fetch first, so a record of a later topic fetched while a source
backlog is buffered waited until the whole backlog had been handed to its agent: in a 1,000-ticket backlog the
summarize and index agents took nothing for the first 7-9 s. The worker's consumer asks for the later
topics' records first."""

from __future__ import annotations

from tests.integration.stage_order_worker import PARTITIONS
from tests.integration.two_topics import after_backlog

BACKLOG = 3000  # source records waiting when the later record comes: about 6 s of the source agent's work


def test_a_later_stages_record_is_taken_before_the_source_backlog_is_worked_off(services, tmp_path):
    outcome = after_backlog(services["COPILOT_KAFKA_BOOTSTRAP"], tmp_path, "tests.integration.stage_order_worker",
                            PARTITIONS, BACKLOG, "source: started", b"a document of a later stage",
                            "the later agent took no record in 60 s")
    handled = [int(n) for n in outcome.output.split("later: ")[1:]]
    assert handled, outcome.log
    assert handled[0] < BACKLOG / 3, f"the later record waited for {handled[0]} of {BACKLOG} source records"
