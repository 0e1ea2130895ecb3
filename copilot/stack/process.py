"""A detached service process tracked by a pid file, so `up` is idempotent and `down` stops only its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from copilot.errors import StackError


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    workdir: Path
    port: int

    @property
    def pidfile(self) -> Path:
        return self.workdir / f"{self.name}.pid"

    @property
    def logfile(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def pid(self) -> int | None:
        """The pid we started, if that process is still alive (a stale pid file counts as not running)."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        stat = Path(f"/proc/{pid}/stat")
        if stat.exists() and stat.read_text().split()[2] == "Z":
            return None
        return pid

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> int:
        """Start detached in its own session (it outlives this command); output goes to the log file."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        with self.logfile.open("ab") as log:
            proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.workdir, env={**os.environ, **(env or {})}, start_new_session=True,
            )
        self.pidfile.write_text(str(proc.pid))
        return proc.pid

    def stop(self, timeout: float = 20.0) -> bool:
        pid = self.pid()
        if pid is None:
            self.pidfile.unlink(missing_ok=True)
            return False
        os.killpg(pid, signal.SIGTERM)
        if not wait_until(lambda: self.pid() is None, timeout):
            os.killpg(pid, signal.SIGKILL)
            wait_until(lambda: self.pid() is None, 5.0)
        self.pidfile.unlink(missing_ok=True)
        return True

    def tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Poll a condition until it holds or the deadline passes; never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def require_ready(proc: ManagedProcess, healthy: Callable[[], bool], timeout: float) -> None:
    if not wait_until(lambda: proc.pid() is not None and healthy(), timeout):
        alive = "running" if proc.pid() else "exited"
        raise StackError(f"{proc.name} did not become healthy in {timeout:.0f}s ({alive}); log tail:\n{proc.tail()}")
