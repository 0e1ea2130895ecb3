"""Real Kafka, Redis and Milvus for a test session.

With a Docker engine, Kafka and Redis come from testcontainers; without one (these machines), the project's
own launcher starts them on free ports under a temporary data dir. Milvus Lite always runs from the launcher:
it is a local server over a data directory either way.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from copilot.settings import StackSettings
from copilot.stack.kafka import KafkaBroker
from copilot.stack.milvus import MilvusLiteServer
from copilot.stack.redis import RedisServer
from tests.helpers import free_port


def docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def real_services(data_dir: Path) -> Iterator[dict[str, str]]:
    """Yields the COPILOT_* client settings that point at the running services."""
    settings = StackSettings(
        COPILOT_DATA_DIR=data_dir, COPILOT_KAFKA_PORT=free_port(), COPILOT_KAFKA_CONTROLLER_PORT=free_port(),
        COPILOT_REDIS_PORT=free_port(), COPILOT_MILVUS_PORT=free_port(),
    )
    with ExitStack() as stack:
        env = {}
        if docker_available():
            env.update(stack.enter_context(_containers()))
        else:
            for service in (KafkaBroker(settings), RedisServer(settings)):
                service.up()
                stack.callback(service.down)
            env["COPILOT_KAFKA_BOOTSTRAP"] = f"127.0.0.1:{settings.kafka_port}"
            env["COPILOT_REDIS_URL"] = f"redis://127.0.0.1:{settings.redis_port}/0"
        milvus = MilvusLiteServer(settings)
        milvus.up()
        stack.callback(milvus.down)
        env["COPILOT_MILVUS_URI"] = milvus.address
        yield env


@contextmanager
def _containers() -> Iterator[dict[str, str]]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.redis import RedisContainer

    with KafkaContainer("confluentinc/cp-kafka:7.7.1").with_kraft() as kafka, RedisContainer("redis:7") as redis:
        host, port = redis.get_container_host_ip(), redis.get_exposed_port(6379)
        yield {"COPILOT_KAFKA_BOOTSTRAP": kafka.get_bootstrap_server(), "COPILOT_REDIS_URL": f"redis://{host}:{port}/0"}
