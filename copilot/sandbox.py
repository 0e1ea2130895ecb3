"""A throwaway stack and pipeline processes (same launcher and commands as production), for `copilot eval`
and the benchmarks: nothing of a running `copilot stack` is touched."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from copilot.settings import StackSettings
from copilot.stack.local import LocalStack

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def poll(condition: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"condition not met in {timeout}s")


class Sandbox:
    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work = work
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, *args: str, extra: dict[str, str] | None = None) -> None:
        log = (self.work / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen([sys.executable, "-m", "copilot", *args], cwd=ROOT, stdout=log,
                                            stderr=subprocess.STDOUT, env={**self.env, **(extra or {})},
                                            start_new_session=True)

    def run(self, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "copilot", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True).stdout

    def write_jsonl(self, name: str, rows: list[dict[str, Any]]) -> Path:
        path = self.work / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
        return path

    def alive(self, name: str) -> bool:
        return self.procs[name].poll() is None

    def tail(self, lines: int = 40) -> str:
        return "\n".join(f"--- {name} ---\n" + "\n".join(
            (self.work / f"{name}.log").read_text(errors="replace").splitlines()[-lines:]) for name in self.procs)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs.values():
            _reap(proc)

    def stop_one(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        _reap(proc)


def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Wait for a process asked to stop; kill it if it does not within 30 s."""
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@contextmanager
def sandbox(**overrides: str) -> Iterator[Sandbox]:
    """A stack and process environment under a new temporary directory, removed afterwards (a run over
    20,000 tickets leaves ~0.5 GB) unless COPILOT_KEEP_SANDBOX=1 asks to keep it for inspection."""
    work = Path(tempfile.mkdtemp(prefix="copilot-sandbox-"))
    stack_settings = StackSettings(
        COPILOT_DATA_DIR=work / "stack", COPILOT_KAFKA_PORT=free_port(), COPILOT_KAFKA_CONTROLLER_PORT=free_port(),
        COPILOT_REDIS_PORT=free_port(), COPILOT_MILVUS_PORT=free_port())
    stack = LocalStack(stack_settings)
    stack.up()
    env = {**os.environ, **stack.environment(), "PYTHONPATH": str(ROOT), "COPILOT_ENV": "test",
           "COPILOT_NAMESPACE": "sandbox", "COPILOT_DATA_DIR": str(work), "HF_HUB_OFFLINE": "1",
           "COPILOT_FERNET_KEYS": Fernet.generate_key().decode(), "COPILOT_KAFKA_PARTITIONS": "2",
           "COPILOT_SUMMARIZER": "local", "COPILOT_EMBEDDER": "local", "COPILOT_KAFKA_SESSION_TIMEOUT": "6",
           **overrides}
    r = Sandbox(work, env)
    try:
        yield r
    finally:
        r.stop()
        stack.down()
        if os.environ.get("COPILOT_KEEP_SANDBOX") == "1":
            print(f"sandbox kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    return f"{os.cpu_count()} cores, {cpu}"
