"""`copilot run`: the simulator (for demos), the poller, the worker and the API as child processes.

Each child is the same command an operator would run on its own; if one dies, `run` stops them all and
exits non-zero rather than serving half a pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Child:
    name: str
    args: list[str]


async def supervise(children: list[Child], env: dict[str, str]) -> int:
    procs = {
        child.name: await asyncio.create_subprocess_exec(sys.executable, "-m", "copilot", *child.args,
                                                         env={**os.environ, **env})
        for child in children
    }
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    waits = {asyncio.create_task(p.wait()): name for name, p in procs.items()}
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([*waits, stopper], return_when=asyncio.FIRST_COMPLETED)
    code = 0
    for task in done:
        if task in waits:
            log.error("%s exited with %s; stopping the rest", waits[task], task.result())
            code = 1
    for proc in procs.values():
        if proc.returncode is None:
            proc.terminate()
    await asyncio.gather(*(asyncio.wait_for(p.wait(), 30) for p in procs.values()), return_exceptions=True)
    for proc in procs.values():
        if proc.returncode is None:
            proc.kill()
    stopper.cancel()
    return code
