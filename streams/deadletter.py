"""Bad records are data, not crashes: they go to the dead-letter topic whole, with the reason."""

from __future__ import annotations

import logging

from faust.types import EventT, TopicT

from copilot.domain import DeadLetter
from copilot.metrics import DEAD_LETTERS
from copilot.wire import serialize

log = logging.getLogger(__name__)


async def dead_letter(topic: TopicT, stage: str, event: EventT, error: BaseException) -> None:
    """Publish and wait for the acknowledgement, so the source offset is committed only after it."""
    msg = event.message
    letter = DeadLetter(stage=stage, error=f"{type(error).__name__}: {error}", source_topic=msg.topic,
                        partition=msg.partition, offset=msg.offset, key=msg.key, value=msg.value)
    log.warning("dead letter from %s %s[%s]@%s: %s", stage, msg.topic, msg.partition, msg.offset, letter.error)
    DEAD_LETTERS.labels(stage).inc()
    await (await topic.send(key=msg.key, value=serialize(letter)))
