"""One running pipeline for the module: two simulated Freshdesk accounts, then sync, worker and API
processes exactly as `copilot run` starts them."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from connectors.freshdesk.simulator.demo import generate_articles, generate_tickets
from copilot.sandbox import Sandbox
from copilot.settings import Settings
from copilot.status import pipeline_status
from tests.e2e.harness import answering, http, http_text
from tests.helpers import free_port, wait_for

PIPELINE_DEADLINE = 180.0


@dataclass
class Tenant:
    domain: str
    api_key: str
    simulator: str
    tickets: list[dict[str, Any]]

    @property
    def headers(self) -> dict[str, str]:
        return {"X-Freshdesk-Domain": self.domain, "X-Freshdesk-Api-Key": self.api_key}

    def simulator_call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        token = base64.b64encode(f"{self.api_key}:X".encode()).decode()
        return http(method, f"{self.simulator}/api/v2{path}", {"Authorization": f"Basic {token}"}, body)


@dataclass
class Pipeline:
    api: str
    acme: Tenant
    bravo: Tenant
    procs: Sandbox
    settings_env: dict[str, str]

    def metric(self, name: str, labels: str) -> float:
        """A sample from the worker's Prometheus endpoint (0 when the series does not exist yet)."""
        return worker_metric(int(self.settings_env["COPILOT_METRICS_PORT"]), name, labels)

    def status(self) -> dict[str, Any]:
        return asyncio.run(_status(self.settings_env))

    def caught_up(self) -> bool:
        report = self.status()
        tenants = report["tenants"]
        expected = {self.acme.domain: len(self.acme.tickets), self.bravo.domain: len(self.bravo.tickets)}
        return report["total_lag"] == 0 and all(
            tenants.get(d, {}).get("documents_indexed") == n for d, n in expected.items())


def worker_metric(port: int, name: str, labels: str = "") -> float:
    """A sample from a worker's Prometheus endpoint on `port` (0 when the series does not exist yet)."""
    _, text = http_text(f"http://127.0.0.1:{port}/metrics")
    prefix = f"{name}{{{labels}}} " if labels else f"{name} "
    return next((float(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix)), 0.0)


async def _status(env: dict[str, str]) -> dict[str, Any]:
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return await pipeline_status(Settings())
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _write(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _bravo_tickets() -> list[dict[str, Any]]:
    """A second company whose ticket ids overlap acme's but whose content is marked as its own."""
    tickets = generate_tickets(24, seed=99)
    for t in tickets:
        t["subject"] = f"Bravo: {t['subject']}"
    return tickets


@pytest.fixture(scope="module")
def pipeline(services: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    work = tmp_path_factory.mktemp("e2e")
    api_port = free_port()
    env = {
        **os.environ, **services, "COPILOT_ENV": "test", "COPILOT_NAMESPACE": f"e2e{uuid.uuid4().hex[:8]}",
        "COPILOT_DATA_DIR": str(work), "COPILOT_FERNET_KEYS": Fernet.generate_key().decode(),
        "COPILOT_KAFKA_PARTITIONS": "2", "COPILOT_POLL_INTERVAL": "0.5", "COPILOT_KB_INTERVAL": "2",
        "COPILOT_API_PORT": str(api_port), "COPILOT_INDEX_BATCH_SECONDS": "0.1",
        "COPILOT_SUMMARIZER": "local", "COPILOT_EMBEDDER": "local", "HF_HUB_OFFLINE": "1",
        "COPILOT_METRICS_PORT": str(free_port()), "COPILOT_KAFKA_SESSION_TIMEOUT": "6",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    procs = Sandbox(work, env)
    tenants = []
    for name, tickets in (("acme", generate_tickets(60, seed=11)), ("bravo", _bravo_tickets())):
        port, key = free_port(), f"{name}-key-{uuid.uuid4().hex[:8]}"
        data = _write(work / f"{name}.jsonl", tickets)
        articles = _write(work / f"{name}-kb.jsonl", generate_articles())
        procs.start(f"simulator-{name}", "simulator", "--port", str(port), "--domain", f"{name}.freshdesk.test",
                    "--tickets", str(data), "--articles", str(articles), extra={"COPILOT_SIMULATOR_API_KEY": key})
        procs.run("tenant", "add", "--domain", f"{name}.freshdesk.test", "--api-key", key,
                  "--base-url", f"http://127.0.0.1:{port}")
        tenants.append(Tenant(f"{name}.freshdesk.test", key, f"http://127.0.0.1:{port}", tickets))
    for name, args in (("sync", ["sync"]), ("worker", ["worker"]), ("api", ["api"])):
        procs.start(name, *args)
    pipe = Pipeline(f"http://127.0.0.1:{api_port}", tenants[0], tenants[1], procs,
                    {k: v for k, v in env.items() if k.startswith("COPILOT_")})
    try:
        wait_for(lambda: answering(f"{pipe.api}/health") if procs.alive("api") else _died(procs),
                 PIPELINE_DEADLINE, what="the API to answer")
        wait_for(lambda: pipe.caught_up() or _check_alive(procs), PIPELINE_DEADLINE, interval=1.0,
                 what="both tenants to be fully indexed")
        yield pipe
    except AssertionError:
        print(procs.tail())
        raise
    finally:
        procs.stop()


def _check_alive(procs: Sandbox) -> bool:
    dead = [name for name in procs.procs if not procs.alive(name)]
    if dead:
        raise AssertionError(f"{dead} exited early:\n{procs.tail()}")
    return False


def _died(procs: Sandbox) -> bool:
    raise AssertionError(f"the API exited:\n{procs.tail()}")
