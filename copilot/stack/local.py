"""The whole local topology: up in dependency order, down in reverse, status of each service."""

from __future__ import annotations

from dataclasses import dataclass

from copilot.settings import StackSettings
from copilot.stack.kafka import KafkaBroker
from copilot.stack.milvus import MilvusLiteServer
from copilot.stack.redis import RedisServer


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    address: str
    pid: int | None
    healthy: bool


class LocalStack:
    def __init__(self, settings: StackSettings) -> None:
        self.kafka = KafkaBroker(settings)
        self.redis = RedisServer(settings)
        self.milvus = MilvusLiteServer(settings)

    @property
    def services(self) -> tuple[KafkaBroker | RedisServer | MilvusLiteServer, ...]:
        return (self.redis, self.milvus, self.kafka)

    def up(self) -> None:
        for service in self.services:
            service.up()

    def down(self) -> list[str]:
        return [service.process.name for service in reversed(self.services) if service.down()]

    def status(self) -> list[ServiceStatus]:
        return [
            ServiceStatus(s.process.name, s.address, s.process.pid(), s.process.pid() is not None and s.healthy())
            for s in self.services
        ]

    def environment(self) -> dict[str, str]:
        """The client-side settings that point the copilot processes at this stack."""
        return {
            "COPILOT_KAFKA_BOOTSTRAP": self.kafka.address,
            "COPILOT_REDIS_URL": self.redis.address,
            "COPILOT_MILVUS_URI": self.milvus.address,
        }
