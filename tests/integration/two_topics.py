"""Tests of which record a worker takes while a backlog waits: a worker with two raw topics and the worker's
bounded polls, started with a backlog in the first topic, and given one record in the second once it says it
is busy with the first (test_stalled_stage, test_stage_order).

The worker modules are run as `python -m <module> <bootstrap> <app id> <first topic> <second topic> <data dir>`.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import faust
from faust.types import TopicT

from streams.app import CopilotApp, faust_app, poll_records
from tests.helpers import create_topic, produce

ROOT = Path(__file__).resolve().parents[2]


def two_topic_app(partitions: int) -> tuple[CopilotApp, TopicT, TopicT]:
    """The worker's app (from its command line) and its first and second topic."""
    bootstrap, app_id, first, second, datadir = sys.argv[1:6]
    app = faust_app(app_id, bootstrap, datadir, partitions, broker_max_poll_records=poll_records(partitions))
    return (app, app.topic(first, key_serializer="raw", value_serializer="raw"),
            app.topic(second, key_serializer="raw", value_serializer="raw"))


def run_worker(app: faust.App) -> None:
    faust.Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


@dataclass(frozen=True)
class Outcome:
    output: str  # what the worker printed after its busy line
    sent: float  # when the record in the second topic was sent (Unix time)
    log: str  # the end of the worker's log, for failure messages


def after_backlog(bootstrap: str, tmp_path: Path, module: str, partitions: int, backlog: int, busy: str,
                  record: bytes, silent: str) -> Outcome:
    """Runs `module` with `backlog` records waiting in its first topic; once it prints a line starting with
    `busy`, sends `record` to its second topic and waits (60 s at most; else fails with `silent`) for it to
    exit."""
    run = uuid.uuid4().hex[:8]
    first, second = f"first-{run}", f"second-{run}"
    create_topic(bootstrap, first, partitions)
    create_topic(bootstrap, second, partitions)
    produce(bootstrap, first, [(f"ticket-{n}".encode(), b"a backlog record", n % partitions) for n in range(backlog)])
    log = tmp_path / "worker.log"
    with log.open("w") as stderr:
        worker = subprocess.Popen([sys.executable, "-m", module, bootstrap, f"app{run}", first, second,
                                   str(tmp_path / "data")], cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        assert worker.stdout is not None
        for line in worker.stdout:  # Faust's own start-up output comes first
            if line.startswith(busy):
                break
        else:
            raise AssertionError(log.read_text()[-2000:])
        produce(bootstrap, second, [(b"ticket-x", record, 0)])
        sent = time.time()
        out = worker.communicate(timeout=60)[0]
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.communicate()
        raise AssertionError(silent) from None
    return Outcome(out, sent, log.read_text()[-2000:])
