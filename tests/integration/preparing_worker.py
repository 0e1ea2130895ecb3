"""A Faust worker for test_worker_start: it takes <prepare> seconds to prepare, as the worker does to load its
model, either before its consumer joins the group (streams.app.CopilotApp) or in an app task, after it has
joined (Faust's own place for such work). It prints when it finished preparing and when its agent took its
first record, as Unix times, then exits.

    python -m tests.integration.preparing_worker <bootstrap> <app id> <topic> <prepare> <data dir> \
        before-joining|task
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

import faust

from streams.app import faust_app


def main() -> None:
    bootstrap, app_id, topic_name, prepare_seconds, datadir, where = sys.argv[1:7]
    app = faust_app(app_id, bootstrap, datadir, 1)
    source = app.topic(topic_name, key_serializer="raw", value_serializer="raw")

    async def prepare() -> None:
        await asyncio.sleep(float(prepare_seconds))
        print(f"prepared: {time.time()}", flush=True)

    if where == "before-joining":
        app.before_joining.append(prepare)
    else:
        app.task(prepare)

    @app.agent(source)
    async def process(stream: faust.StreamT) -> None:
        async for _event in stream.events():
            print(f"first record: {time.time()}", flush=True)
            await asyncio.sleep(float(prepare_seconds) + 1)  # so that a task's preparation gets to print
            os._exit(0)

    faust.Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
