"""A circuit breaker: after repeated failures of an upstream, stop waiting on it for a while.

An LLM that hangs or fails costs every document its timeout and the client's retries before the local fallback
answers, and the documents behind it wait that long too. Once `failures` calls in a row have failed, calls are
refused for `cooldown` seconds (the caller falls back at once); then one trial call is let through, and its
outcome closes the circuit or opens it again.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(self, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._threshold = failures
        self._cooldown = cooldown
        self._clock = clock
        self._failures = 0
        self._open_until: float | None = None

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allow(self) -> bool:
        """Whether a call may go out now. Once a cool-down is over, one caller gets True (the trial) and the
        next cool-down starts, so a trial that never reports back only delays the one after it."""
        if self._open_until is None:
            return True
        if self._clock() < self._open_until:
            return False
        self._open_until = self._clock() + self._cooldown
        return True

    def succeeded(self) -> None:
        self._failures, self._open_until = 0, None

    def failed(self) -> None:
        self._failures += 1
        if self.is_open or self._failures >= self._threshold:
            self._open_until = self._clock() + self._cooldown
