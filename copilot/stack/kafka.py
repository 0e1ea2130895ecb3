"""Apache Kafka in KRaft mode from the broker jars on Maven Central, resolved once into a cache."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

from copilot.errors import StackError
from copilot.settings import StackSettings
from copilot.stack.process import ManagedProcess, port_open, require_ready

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>freshdesk-copilot</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{version}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
"""

LOG4J = """log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaServer=INFO
log4j.logger.kafka.server.BrokerServer=INFO
"""


class KafkaBroker:
    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.home = settings.data_dir.resolve() / "kafka"
        self.process = ManagedProcess("kafka", self.home, settings.kafka_port)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.settings.kafka_port}"

    @property
    def libs(self) -> Path:
        return self.settings.cache_dir / f"kafka-{self.settings.kafka_version}" / "libs"

    def resolve_jars(self) -> Path:
        """Resolve the broker and its dependencies with Maven once; later starts need no network."""
        marker = self.libs / ".complete"
        if marker.exists():
            return self.libs
        if shutil.which("mvn") is None:
            raise StackError("Maven (mvn) is needed once to fetch the Kafka jars; run `make system`")
        build = self.libs.parent
        build.mkdir(parents=True, exist_ok=True)
        (build / "pom.xml").write_text(POM.format(version=self.settings.kafka_version))
        result = subprocess.run(
            ["mvn", "-q", "-B", "dependency:copy-dependencies", f"-DoutputDirectory={self.libs}"],
            cwd=build, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise StackError(f"resolving Kafka {self.settings.kafka_version} failed:\n{result.stdout[-2000:]}")
        marker.touch()
        return self.libs

    def _write_config(self) -> Path:
        s = self.settings
        config = self.home / "server.properties"
        config.write_text("\n".join([
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{s.kafka_controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{s.kafka_port},CONTROLLER://127.0.0.1:{s.kafka_controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{s.kafka_port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            f"log.dirs={self.home / 'data'}",
            "auto.create.topics.enable=false",
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "num.partitions=1",
            # the controller's no-op metadata record every 5 s, not 0.5: a one-node broker has no one to fence;
            # it takes the raft I/O thread out of the idle broker's CPU (bench.idle_cost, BENCHMARKS.md)
            "metadata.max.idle.interval.ms=5000",
            "",
        ]))
        (self.home / "log4j.properties").write_text(LOG4J)
        return config

    def _java(self, main: str, *args: str) -> list[str]:
        return [
            "java", f"-Xmx{self.settings.kafka_heap}", f"-Xms{self.settings.kafka_heap}",
            f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
            "-cp", f"{self.libs}/*", main, *args,
        ]

    def _format_storage(self, config: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster_id = uuid.uuid4().hex[:22]
        result = subprocess.run(
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config)),
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise StackError(f"formatting Kafka storage failed: {result.stderr[-2000:]}")

    def up(self, timeout: float = 90.0) -> None:
        if self.process.pid() is not None:
            require_ready(self.process, self.healthy, timeout)
            return
        if shutil.which("java") is None:
            raise StackError("a Java runtime is needed for the Kafka broker; run `make system`")
        if port_open(self.settings.kafka_port):
            raise StackError(f"port {self.settings.kafka_port} is taken by another process; set COPILOT_KAFKA_PORT")
        self.resolve_jars()
        self.home.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        self._format_storage(config)
        self.process.start(self._java("kafka.Kafka", str(config)))
        require_ready(self.process, self.healthy, timeout)

    def healthy(self) -> bool:
        if not port_open(self.settings.kafka_port):
            return False
        from confluent_kafka.admin import AdminClient

        try:
            metadata = AdminClient({"bootstrap.servers": self.address}).list_topics(timeout=2)
        except Exception:  # any client error means "not yet"
            return False
        return bool(metadata.brokers)

    def down(self) -> bool:
        return self.process.stop()
