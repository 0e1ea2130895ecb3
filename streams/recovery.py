"""Faust's table recovery, ending in an order that cannot lose the records waiting in the source topics.

faust-streaming 0.15 ends a recovery by resuming the stream partitions, then seeking them to their committed
offsets, then resuming flow control, which empties every stream queue. Records fetched in between reach a
queue and are marked read, the queue is emptied, and their refetch is dropped as already read. So a worker
that starts or rebalances with a backlog can lose messages: the lost offset either blocks every later commit
of its partition, or is committed as if the log had a gap there (faust-streaming issue #596). It was seen
in tests/e2e/test_crash.py, about one run in ten: a ticket's reply never merged after the restart, and in a
rebalance with a backlog and the seek slowed to 3 s (tests/integration/test_recovery_order.py), two thirds of
the records were lost.

Here the consumer's flow is stopped before the stream partitions resume, and started again only after the
seek and the emptying. A fetch that returns while it is stopped reaches no queue: Faust drops it and seeks
its partitions back to their committed offsets. So the first record a queue receives comes after it was
emptied (tests/integration/test_recovery_order.py).
"""

from __future__ import annotations

import asyncio
from typing import Any

from faust.tables import TableManager
from faust.tables.recovery import Recovery


class OrderedRecovery(Recovery):
    async def on_recovery_completed(self, generation_id: int = 0) -> None:
        app: Any = self.app  # the private `_fetcher` below is what Faust's own method starts too
        consumer = app.consumer
        self.log.info("Restore complete!")
        await app.on_rebalance_complete.send()
        self._set_recovery_ended()
        callbacks = [asyncio.ensure_future(table.on_recovery_completed(self.actives_for_table[table],
                                                                       self.standbys_for_table[table]))
                     for table in self.tables.values()]
        if callbacks:
            await asyncio.wait(callbacks)
        if app.consumer_generation_id != generation_id:
            self.log.warning("Recovery rebalancing again app id %s param %s", app.consumer_generation_id,
                             generation_id)
            return
        assignment = consumer.assignment()
        consumer.stop_flow()  # until the queues are emptied, a fetch is dropped and its partitions sought back
        consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
        if assignment:
            self.log.info("Seek stream partitions to committed offsets.")
            await self._wait(consumer.perform_seek(), timeout=app.conf.broker_request_timeout)
        self.completed.set()
        app.flow_control.resume()  # empties the stream queues
        consumer.resume_flow()
        await app._fetcher.maybe_start()
        self.tables.on_actives_ready()
        if not app.assignor.assigned_standbys():
            self.tables.on_standbys_ready()
        app.on_rebalance_end()
        self.log.info("Worker ready")


class OrderedTableManager(TableManager):
    """Faust's table manager with OrderedRecovery; set as the app's `TableManager`."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = OrderedRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
