"""Milvus Lite served over gRPC from one data directory, so the worker and the API share one index."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from copilot.errors import StackError
from copilot.settings import StackSettings
from copilot.stack.process import ManagedProcess, port_open, require_ready


class MilvusLiteServer:
    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.home = settings.data_dir.resolve() / "milvus"
        self.process = ManagedProcess("milvus", self.home, settings.milvus_port)

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.settings.milvus_port}"

    def up(self, timeout: float = 60.0) -> None:
        if self.process.pid() is not None:
            require_ready(self.process, self.healthy, timeout)
            return
        if port_open(self.settings.milvus_port):
            raise StackError(f"port {self.settings.milvus_port} is taken by another process; set COPILOT_MILVUS_PORT")
        project_root = str(Path(__file__).resolve().parents[2])
        self.process.start([
            sys.executable, "-m", "copilot.stack.milvus_server", "--data-dir", str(self.home / "db"),
            "--host", "127.0.0.1", "--port", str(self.settings.milvus_port),
            "--scoring", self.settings.milvus_lite_scoring,
        ], env={"PYTHONPATH": project_root})
        require_ready(self.process, self.healthy, timeout)

    def healthy(self) -> bool:
        if not port_open(self.settings.milvus_port):
            return False
        from pymilvus import MilvusClient

        try:
            client = MilvusClient(uri=self.address, timeout=2)
            client.list_collections()
            client.close()
        except Exception:  # any client error means "not yet"
            return False
        return True

    def down(self) -> bool:
        return self.process.stop()


@contextmanager
def serving(data_dir: Path, port: int, scoring: str = "array") -> Iterator[MilvusLiteServer]:
    """This project's Milvus Lite server over `data_dir` alone, stopped on leaving: for benchmarks and tests
    that compare scorings or restarts on one data directory."""
    server = MilvusLiteServer(StackSettings(COPILOT_DATA_DIR=data_dir, COPILOT_MILVUS_PORT=port,
                                            COPILOT_MILVUS_LITE_SCORING=scoring))
    server.up()
    try:
        yield server
    finally:
        server.down()
