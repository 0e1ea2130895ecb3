"""A Faust worker with the summarize agent alone, wired as streams.app wires it, for test_summarize_agent: the
other agents would load the embedding model and open Milvus, which those tests do not look at. Settings come
from the environment, as for `copilot worker`; the topics must exist.

    python -m tests.integration.summarize_worker
"""

from __future__ import annotations

import faust

from copilot.settings import Settings
from copilot.topics import TopicNames
from streams.agents import summarize
from streams.app import faust_app
from streams.resources import WorkerResources
from streams.tables import declare_tables
from streams.topics import declare_topics


def main() -> None:
    settings = Settings()
    k = settings.kafka
    app = faust_app(f"{k.namespace}-worker", k.bootstrap_servers, str(settings.stack.data_dir / "faust"),
                    k.partitions, broker_session_timeout=6.0, broker_heartbeat_interval=1.0)
    topics = declare_topics(app, TopicNames(k.namespace))
    summarize.register(app, topics, declare_tables(app, k.partitions), WorkerResources(settings))
    faust.Worker(app, loglevel="warning", redirect_stdouts=False).execute_from_commandline()


if __name__ == "__main__":
    main()
