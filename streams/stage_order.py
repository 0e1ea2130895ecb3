"""Polls that hand out the later stages' records first.

aiokafka keeps what it fetched per partition and hands it out oldest fetch first, so in a backlog the
documents merge emits wait behind every source record fetched before them: the summarize and index agents,
and the embedding model behind them, idled for the first 7-9 s of a 1,000-ticket backlog while merge alone
worked (session 17 probe, BENCHMARKS.md). This consumer first asks for what is waiting in the later stages'
partitions (without waiting), and only when there is none for every partition. With bounded polls
(streams.app.poll_records) a source backlog then reaches merge a poll at a time, between the later records.
A later stage cannot starve the sources for long: its records come only from them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from faust.transport.consumer import RecordMap
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

if TYPE_CHECKING:
    from streams.app import CopilotApp


class LaterStagesFirst(faust_aiokafka.Consumer):
    async def _getmany(self, active_partitions: set[TP] | None, timeout: float) -> RecordMap:  # noqa: ASYNC109 - Faust's signature
        later_topics = cast("CopilotApp", self.app).later_topics
        if active_partitions and later_topics:
            later = {tp for tp in active_partitions if tp.topic in later_topics}
            if later and later != active_partitions:
                waiting = await self._thread.getmany(later, 0.0)
                if waiting:
                    return waiting
        return await super()._getmany(active_partitions, timeout)


class StageOrderedTransport(faust_aiokafka.Transport):
    """Faust's aiokafka transport with LaterStagesFirst as its consumer (streams.app.CopilotApp)."""

    Consumer = LaterStagesFirst
