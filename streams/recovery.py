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
"""

from __future__ import annotations

from faust.tables import TableManager
from faust.tables.recovery import Recovery


class OrderedRecovery(Recovery):
    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        self.app.consumer.stop_flow()
        await super().on_recovery_completed(generation_id)


class OrderedTableManager(TableManager):
    """Faust's table manager with OrderedRecovery; set as the app's `TableManager`."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = OrderedRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
