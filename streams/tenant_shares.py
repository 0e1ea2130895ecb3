"""How many documents each tenant has in the summarize agent, against a cap per tenant.

Without a cap, one tenant's backlog fills every slot the agent has, and another tenant's document behind it in
the partition waits for all of it, however few LLM calls that tenant's slots let through at a time.
"""

from __future__ import annotations

from collections import Counter


class TenantShares:
    def __init__(self, cap: int | None) -> None:
        self._cap = cap  # None: every tenant is admitted
        self._held: Counter[str] = Counter()

    def admits(self, tenant: str) -> bool:
        return self._cap is None or self._held[tenant] < self._cap

    def started(self, tenant: str) -> None:
        self._held[tenant] += 1

    def finished(self, tenant: str) -> None:
        self._held[tenant] -= 1
        if not self._held[tenant]:
            del self._held[tenant]
