"""A worker prepares (loads its model) before its consumer joins the group, so it never holds partitions it
cannot process yet (streams.app.CopilotApp). Faust's own place for such work, an app task, runs after the
join and after table recovery, while the agents already take records."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.helpers import create_topic, produce

ROOT = Path(__file__).resolve().parents[2]
PREPARE = 4.0  # seconds: longer than a join on this broker, as loading the model is


def _times(bootstrap: str, where: str, tmp_path: Path) -> dict[str, float]:
    """When the worker finished preparing and when its agent took its first record."""
    topic = f"start-{uuid.uuid4().hex[:8]}"
    create_topic(bootstrap, topic, 1)
    produce(bootstrap, topic, [(b"ticket-1", b"waiting before the worker starts", 0)])
    worker = subprocess.run([sys.executable, "-m", "tests.integration.preparing_worker", bootstrap,
                             f"start{uuid.uuid4().hex[:8]}", topic, str(PREPARE), str(tmp_path / where), where],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr[-2000:]
    return {label: float(value) for label, value in re.findall(r"(prepared|first record): ([0-9.]+)", worker.stdout)}


@pytest.mark.parametrize("where", ["before-joining", "task"])
def test_a_worker_takes_records_only_once_it_has_prepared(services, tmp_path, where):
    times = _times(services["COPILOT_KAFKA_BOOTSTRAP"], where, tmp_path)
    assert set(times) == {"prepared", "first record"}, times
    if where == "before-joining":
        assert times["first record"] > times["prepared"], times
    else:  # what the worker did before: its agents ran while it prepared
        assert times["first record"] < times["prepared"], times
