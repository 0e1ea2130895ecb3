"""The backfill bar's share of history: time the cursor has walked from its first commit towards now."""

from datetime import UTC, datetime, timedelta

from connectors.backfill_progress import history_done

START = datetime(2025, 1, 1, tzinfo=UTC)
NOW = START + timedelta(days=100)


def test_nothing_is_done_before_the_first_commit():
    assert history_done(None, START, NOW, finished=False) == 0.0


def test_the_share_is_the_time_walked_from_the_first_cursor_towards_now():
    assert history_done(START, START, NOW, finished=False) == 0.0
    assert history_done(START, START + timedelta(days=25), NOW, finished=False) == 0.25
    assert history_done(START, NOW + timedelta(seconds=5), NOW, finished=False) == 1.0  # clock skew: capped


def test_a_complete_poll_is_all_done_even_when_the_newest_ticket_is_old():
    assert history_done(START, START + timedelta(days=10), NOW, finished=True) == 1.0


async def test_a_restarted_tenant_loop_keeps_one_bar():
    from io import StringIO

    from rich.console import Console

    from connectors.backfill_progress import BackfillProgress
    from connectors.freshdesk.client import RateLimitState

    progress = BackfillProgress(Console(file=StringIO()))
    for _ in range(2):  # the tenant's loop ends with an error and sync_service starts it again
        progress.add("acme.freshdesk.com", state=None, rate=RateLimitState())  # type: ignore[arg-type]
    assert len(progress._progress.tasks) == 1
