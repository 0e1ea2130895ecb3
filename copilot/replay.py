"""`copilot replay --stage S --from T`: re-drive one stage by re-publishing its source topic from T.

Every stage is idempotent: the join re-emits only changed state, the summarizer reuses its cache while the
content and the summarizer are unchanged (a new model or prompt misses the cache and re-summarizes), and the
indexer upserts by key. So a replay with nothing changed leaves every result as it was.
"""

from __future__ import annotations

from datetime import datetime

from connectors.publisher import KafkaPublisher, OutgoingMessage
from copilot.settings import KafkaSettings
from copilot.topic_reader import read_topic
from copilot.topics import ALL, TopicNames

STAGES = ("merge", "summarize", "index")


def source_topics(names: TopicNames, stage: str) -> list[str]:
    return {"merge": [names.tickets, names.conversations], "summarize": [names.documents],
            "index": [names.summaries]}[stage]


async def replay(settings: KafkaSettings, stage: str, since: datetime | None) -> int:
    names = TopicNames(settings.namespace)
    compacted = {names(spec) for spec in ALL if spec.compacted}
    publisher = KafkaPublisher(settings.bootstrap_servers, client_id="copilot-replay")
    try:
        total = 0
        for topic in source_topics(names, stage):
            messages = list(read_topic(settings.bootstrap_servers, topic, since))
            if topic in compacted:  # the latest state per key is what counts; older versions would be re-done
                messages = list({m.key(): m for m in messages}.values())
            batch = [OutgoingMessage(topic, (m.key() or b"").decode(), m.value()) for m in messages]
            if batch:
                await publisher.publish(batch)
            total += len(batch)
        return total
    finally:
        publisher.close()
