"""A poll fits in what is left of an agent's queue once Faust stops fetching for it (streams.app)."""

import pytest

from streams.app import SOURCES_PER_AGENT, STREAM_BUFFER, poll_records, pressure_mark


@pytest.mark.parametrize("partitions", [1, 4, 12])
def test_a_poll_for_every_partition_of_an_agent_never_finds_its_queue_full(partitions):
    # Faust checks the pressure before it queues each record: the last one below the mark goes in, then each
    # partition the agent reads brings at most one more poll before it is no longer fetched
    fullest = pressure_mark() + SOURCES_PER_AGENT * partitions * poll_records(partitions)
    assert fullest <= STREAM_BUFFER
