"""A poll fits in what is left of an agent's queue once Faust stops fetching for it, the worker bounds its
polls when an LLM could stall a stage, and its producer lingers as configured (streams.app)."""

import pytest

from copilot.settings import Settings
from streams.app import SOURCES_PER_AGENT, STREAM_BUFFER, create_app, poll_records, pressure_mark


@pytest.mark.parametrize("partitions", [1, 4, 12])
def test_a_poll_for_every_partition_of_an_agent_never_finds_its_queue_full(partitions):
    # Faust checks the pressure before it queues each record: the last one below the mark goes in, then each
    # partition the agent reads brings at most one more poll before it is no longer fetched
    fullest = pressure_mark() + SOURCES_PER_AGENT * partitions * poll_records(partitions)
    assert fullest <= STREAM_BUFFER


@pytest.mark.parametrize(("env", "bounded"), [
    ({"COPILOT_SUMMARIZER": "local"}, False),
    ({"COPILOT_SUMMARIZER": "openai", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"}, True),
    ({"COPILOT_SUMMARIZER": "openai", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "COPILOT_BOUNDED_POLLS": "off"},
     False),
    ({"COPILOT_SUMMARIZER": "local", "COPILOT_BOUNDED_POLLS": "on"}, True),
])
def test_the_worker_bounds_its_polls_when_summaries_come_from_an_llm_unless_told(monkeypatch, tmp_path, env, bounded):
    monkeypatch.setenv("COPILOT_KAFKA_PARTITIONS", "4")
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = create_app(Settings())
    assert app.conf.broker_max_poll_records == (poll_records(4) if bounded else None)
    assert app.conf.stream_buffer_maxsize == STREAM_BUFFER


@pytest.mark.parametrize(("env", "linger"), [({}, 0.01), ({"COPILOT_PRODUCER_LINGER_MS": "0"}, 0.0),
                                             ({"COPILOT_PRODUCER_LINGER_MS": "25"}, 0.025)])
def test_the_workers_producer_lingers_as_configured(monkeypatch, tmp_path, env, linger):
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert create_app(Settings()).conf.producer_linger == linger
