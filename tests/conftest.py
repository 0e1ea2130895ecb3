"""Session-wide real services and per-test namespaces (topics, consumer groups, collections, Redis keys)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import real_services

os.environ.setdefault("COPILOT_ENV", "test")


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    data_dir = tmp_path_factory.mktemp("stack")
    with real_services(data_dir) as env:
        yield {**env, "COPILOT_DATA_DIR": str(data_dir)}


@pytest.fixture
def namespace() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def service_env(services: dict[str, str], namespace: str, monkeypatch: pytest.MonkeyPatch,
                tmp_path: Path) -> dict[str, str]:
    """Points Settings() at the session's services under this test's own namespace."""
    env = {**services, "COPILOT_NAMESPACE": namespace, "COPILOT_KAFKA_PARTITIONS": "2",
           "COPILOT_FERNET_KEYS": "", "COPILOT_DATA_DIR": str(tmp_path)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
