"""A real redis-server (Debian's package, installed when missing), persisted under the data dir."""

from __future__ import annotations

import os
import shutil
import subprocess

from copilot.errors import StackError
from copilot.settings import StackSettings
from copilot.stack.process import ManagedProcess, port_open, require_ready


class RedisServer:
    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self.home = settings.data_dir.resolve() / "redis"
        self.process = ManagedProcess("redis", self.home, settings.redis_port)

    @property
    def address(self) -> str:
        return f"redis://127.0.0.1:{self.settings.redis_port}/0"

    def _binary(self) -> str:
        binary = shutil.which("redis-server")
        if binary:
            return binary
        if os.geteuid() != 0:
            raise StackError("redis-server is missing; install Debian's redis-server package")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        return shutil.which("redis-server") or "redis-server"

    def up(self, timeout: float = 30.0) -> None:
        if self.process.pid() is not None:
            require_ready(self.process, self.healthy, timeout)
            return
        if port_open(self.settings.redis_port):
            raise StackError(f"port {self.settings.redis_port} is taken by another process; set COPILOT_REDIS_PORT")
        self.home.mkdir(parents=True, exist_ok=True)
        self.process.start([
            self._binary(), "--bind", "127.0.0.1", "--port", str(self.settings.redis_port),
            "--dir", str(self.home), "--appendonly", "yes", "--save", "60 1",
            "--daemonize", "no", "--protected-mode", "yes",
        ])
        require_ready(self.process, self.healthy, timeout)

    def healthy(self) -> bool:
        import redis

        try:
            return bool(redis.Redis.from_url(self.address, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def down(self) -> bool:
        return self.process.stop()
