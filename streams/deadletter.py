"""Bad records are data, not crashes: they go to the dead-letter topic whole, with the reason.

An agent must never raise on a message: Faust restarts a crashed agent and the message it crashed on is
acknowledged, i.e. silently lost. Every per-message failure therefore ends here instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from faust.types import EventT, TopicT

from copilot.domain import DeadLetter
from copilot.errors import CopilotError
from copilot.metrics import DEAD_LETTERS
from copilot.wire import serialize

log = logging.getLogger(__name__)


async def dead_letter(topic: TopicT, stage: str, event: EventT, error: BaseException,
                      headers: Mapping[str, bytes] | None = None) -> None:
    """Publish it, with the message's headers and `headers` (a document's revision, streams.revisions). Faust flushes
    the producer before it commits the source offset, so a crash before the letter is acknowledged replays the
    source message instead of losing it."""
    msg = event.message
    letter = DeadLetter(stage=stage, error=f"{type(error).__name__}: {error}", source_topic=msg.topic,
                        partition=msg.partition, offset=msg.offset, key=msg.key, value=msg.value,
                        headers={**(event.headers or {}), **(headers or {})})
    log.warning("dead letter from %s %s[%s]@%s: %s", stage, msg.topic, msg.partition, msg.offset, letter.error)
    DEAD_LETTERS.labels(stage).inc()
    await topic.send(key=msg.key, value=serialize(letter))


async def dead_letter_all(topic: TopicT, stage: str, events: Sequence[EventT], error: Exception,
                          headers: Mapping[str, bytes] | None = None) -> None:
    """Publish the messages a failure kept from being processed; a failure that is not ours is logged whole."""
    if not isinstance(error, CopilotError):
        log.error("unexpected failure in %s", stage, exc_info=error)
    for event in events:
        await dead_letter(topic, stage, event, error, headers)


async def or_dead_letter(topic: TopicT, stage: str, event: EventT, handle: Callable[[EventT], Awaitable[None]],
                         headers: Mapping[str, bytes] | None = None) -> None:
    """Run one message's handler; any failure sends the message, with `headers` added, to the dead-letter
    topic."""
    try:
        await handle(event)
    except Exception as exc:  # noqa: BLE001 - see the module docstring
        await dead_letter_all(topic, stage, [event], exc, headers)
