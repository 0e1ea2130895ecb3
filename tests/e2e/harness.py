"""Runs copilot commands as real subprocesses, as an operator would, and talks HTTP to them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Processes:
    env: dict[str, str]
    logs: Path
    running: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, *args: str, extra_env: dict[str, str] | None = None) -> None:
        log = (self.logs / f"{name}.log").open("ab")  # a restarted process appends
        self.running[name] = subprocess.Popen(
            [sys.executable, "-m", "copilot", *args], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
            env={**self.env, **(extra_env or {})}, start_new_session=True)

    def run(self, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "copilot", *args], cwd=ROOT, env=self.env, check=True,
                              capture_output=True, text=True, timeout=120).stdout

    def alive(self, name: str) -> bool:
        return self.running[name].poll() is None

    def stop_all(self) -> None:
        for proc in self.running.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.running.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)

    def tail(self, lines: int = 40) -> str:
        out = []
        for name in self.running:
            text = (self.logs / f"{name}.log").read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {name} ---\n" + "\n".join(text))
        return "\n".join(out)


def http(method: str, url: str, headers: dict[str, str] | None = None, body: Any = None,
         raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - http://127.0.0.1 only
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - 127.0.0.1 only
            payload = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    return status, json.loads(payload) if payload else None


def answering(url: str) -> bool:
    """True once an HTTP server answers at url (connection refused while it starts is not an error)."""
    try:
        return http("GET", url)[0] == 200
    except urllib.error.URLError:
        return False


def http_text(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - http://127.0.0.1 only
        return resp.status, resp.read().decode()
