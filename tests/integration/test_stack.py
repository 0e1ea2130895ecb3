"""The launcher itself: idempotent up, health, data surviving down/up, down stopping only its own."""

import redis

from copilot.settings import StackSettings
from copilot.stack.local import LocalStack
from tests.helpers import free_port


def test_stack_is_idempotent_and_keeps_data_across_restarts(tmp_path):
    stack = LocalStack(StackSettings(
        COPILOT_DATA_DIR=tmp_path, COPILOT_KAFKA_PORT=free_port(), COPILOT_KAFKA_CONTROLLER_PORT=free_port(),
        COPILOT_REDIS_PORT=free_port(), COPILOT_MILVUS_PORT=free_port()))
    try:
        stack.up()
        first = {s.name: s.pid for s in stack.status()}
        assert all(s.healthy for s in stack.status())
        stack.up()
        assert {s.name: s.pid for s in stack.status()} == first  # nothing restarted
        redis.Redis.from_url(stack.redis.address).set("kept", "yes")
        assert sorted(stack.down()) == ["kafka", "milvus", "redis"]
        assert not any(s.healthy or s.pid for s in stack.status())
        assert stack.down() == []  # nothing of ours is left to stop
        stack.up()
        assert redis.Redis.from_url(stack.redis.address).get("kept") == b"yes"
        assert (tmp_path / "kafka" / "data" / "meta.properties").exists()  # storage formatted once
    finally:
        stack.down()
