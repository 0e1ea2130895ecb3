"""Faust's table recovery, ending in an order that cannot lose the records waiting in the source topics.

faust-streaming 0.15 ends a recovery by resuming the stream partitions, then seeking them to their committed
offsets, then resuming flow control, which empties every stream queue. Records fetched in between reach a
queue and are marked read, the queue is emptied, and their refetch is dropped as already read. So a worker
that starts or rebalances with a backlog can lose messages: the lost offset either blocks every later commit
of its partition, or is committed as if the log had a gap there (faust-streaming issue #596). It was seen
in tests/e2e/test_crash.py, in two runs of twenty: a ticket's reply never merged after the restart, and in a
rebalance with a backlog and the seek slowed to 3 s (tests/integration/test_recovery_order.py), two thirds of
the records were lost.

Faust's method already empties the queues before it resumes the consumer's flow. So the flow is stopped
before that method starts: a fetch that returns while it is stopped reaches no queue, and Faust drops it and
seeks its partitions back to their committed offsets. The first record a queue receives then comes after it
was emptied (tests/integration/test_recovery_order.py). If the method returns early because another
rebalance started, the flow stays stopped until that rebalance's recovery resumes it, which it always does.

The seek back to the committed offsets also skips partitions that have none: see
OrderedRecovery._rewind_never_committed.
"""

from __future__ import annotations

from faust.tables import TableManager
from faust.tables.recovery import Recovery


class OrderedRecovery(Recovery):
    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        self.app.consumer.stop_flow()
        await self._rewind_never_committed()
        await super().on_recovery_completed(generation_id)

    async def _rewind_never_committed(self) -> None:
        """Seek the source partitions that have no committed offset to their first record.

        Faust's seek back to the committed offsets, after dropping what was fetched while the flow was
        stopped, is aiokafka's `seek_to_committed`, which leaves a partition without a committed offset (or
        with 0) where the fetch left it. Those records were then never read again, and the first offset
        processed after them was taken as the start of the partition and committed: a worker given a
        never-committed partition in a rebalance lost the poll it had fetched during its recovery
        (tests/integration/test_recovery_order.py, with bounded polls). The consumer group starts a new
        partition at its beginning (`consumer_auto_offset_reset`), so that is where it goes back to."""
        consumer = self.app.consumer
        committed = await consumer.seek_to_committed()  # type: ignore[attr-defined]  # missing from ConsumerT
        never = [tp for tp in consumer.assignment()
                 if self.app.topics.acks_enabled_for(tp.topic) and not committed.get(tp)]
        if never:
            await consumer.seek_wait(await consumer.earliest_offsets(*never))


class OrderedTableManager(TableManager):
    """Faust's table manager with OrderedRecovery; set as the app's `TableManager`."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = OrderedRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
