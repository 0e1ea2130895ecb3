"""The launcher itself: idempotent up, health, data surviving down/up, down stopping only its own."""

import asyncio

import redis

from copilot.index import CopilotIndex
from copilot.settings import StackSettings
from copilot.stack.local import LocalStack
from tests.helpers import free_port
from tests.integration.harness import ticket_row

TENANT = "stack.freshdesk.test"


def index_of(stack: LocalStack) -> CopilotIndex:
    index = CopilotIndex(stack.milvus.address, "stacktest", "v1", 8)
    index.ensure()
    return index


def test_stack_is_idempotent_and_keeps_data_across_restarts(tmp_path):
    stack = LocalStack(StackSettings(
        COPILOT_DATA_DIR=tmp_path, COPILOT_KAFKA_PORT=free_port(), COPILOT_KAFKA_CONTROLLER_PORT=free_port(),
        COPILOT_REDIS_PORT=free_port(), COPILOT_MILVUS_PORT=free_port()))
    vector = [1.0] + [0.0] * 7
    try:
        stack.up()
        first = {s.name: s.pid for s in stack.status()}
        assert all(s.healthy for s in stack.status())
        assert "array scoring: on" in stack.milvus.process.tail()
        stack.up()
        assert {s.name: s.pid for s in stack.status()} == first  # nothing restarted
        redis.Redis.from_url(stack.redis.address).set("kept", "yes")
        index = index_of(stack)
        asyncio.run(index.upsert_tickets([ticket_row(TENANT, 7, "vpn drops after sleep", vector)]))
        index.seal()
        index.close()
        assert sorted(stack.down()) == ["kafka", "milvus", "redis"]
        assert not any(s.healthy or s.pid for s in stack.status())
        assert stack.down() == []  # nothing of ours is left to stop
        stack.up()
        assert redis.Redis.from_url(stack.redis.address).get("kept") == b"yes"
        assert (tmp_path / "kafka" / "data" / "meta.properties").exists()  # storage formatted once
        index = index_of(stack)  # a restarted Milvus Lite serves its collections released until loaded
        hits = asyncio.run(index.search_tickets(TENANT, vector, "vpn", 5))
        index.close()
        assert [h.fields["ticket_id"] for h in hits] == [7]
    finally:
        stack.down()
