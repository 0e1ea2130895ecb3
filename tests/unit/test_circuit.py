"""The circuit breaker's states, on a clock the test moves."""

from copilot.circuit import CircuitBreaker


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_after_failures_in_a_row_and_a_success_in_between_resets_the_count():
    breaker = CircuitBreaker(failures=3, cooldown=10, clock=Clock())
    breaker.failed()
    breaker.failed()
    breaker.succeeded()
    breaker.failed()
    breaker.failed()
    assert breaker.allow() and not breaker.is_open
    breaker.failed()
    assert breaker.is_open and not breaker.allow()


def test_after_the_cooldown_one_trial_goes_out_and_its_outcome_decides():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown=10, clock=clock)
    breaker.failed()
    clock.now = 9.9
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.allow()  # the trial
    assert not breaker.allow()  # no second call while it is out
    breaker.failed()
    clock.now = 19.9
    assert not breaker.allow()  # a failed trial starts a new cool-down
    clock.now = 20.0
    assert breaker.allow()
    breaker.succeeded()
    assert not breaker.is_open and breaker.allow() and breaker.allow()


def test_a_trial_that_never_reports_back_is_followed_by_another_after_a_cooldown():
    clock = Clock()
    breaker = CircuitBreaker(failures=1, cooldown=10, clock=clock)
    breaker.failed()
    clock.now = 10.0
    assert breaker.allow()  # cancelled, say: neither outcome is reported
    clock.now = 19.0
    assert not breaker.allow()
    clock.now = 20.0
    assert breaker.allow()
