"""A Faust worker with one agent alone (merge or summarize), wired as streams.app wires it, for the tests of
that agent: the other agents would load the embedding model and open Milvus, which those tests do not look
at. Settings come from the environment, as for `copilot worker`; the topics must exist.

    python -m tests.integration.agent_worker merge|summarize
"""

from __future__ import annotations

import sys

import faust

from copilot.settings import Settings
from copilot.topics import TopicNames
from streams.agents import merge, summarize
from streams.app import faust_app
from streams.resources import WorkerResources
from streams.tables import declare_tables
from streams.topics import declare_topics

AGENTS = {"merge": merge.register, "summarize": summarize.register}


def main(agent: str) -> None:
    settings = Settings()
    k = settings.kafka
    app = faust_app(f"{k.namespace}-worker", k.bootstrap_servers, str(settings.stack.data_dir / "faust"),
                    k.partitions, broker_session_timeout=6.0, broker_heartbeat_interval=1.0)
    topics = declare_topics(app, TopicNames(k.namespace))
    AGENTS[agent](app, topics, declare_tables(app, k.partitions), WorkerResources(settings))
    faust.Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main(sys.argv[1])
