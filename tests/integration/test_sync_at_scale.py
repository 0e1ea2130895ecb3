"""A 30,600-ticket account synced by `copilot sync`, across Freshdesk's 300-page cap and through SIGKILLs.

The account holds a 500-ticket burst sharing one `updated_at` second (a bulk update), placed so that page 300
of an uninterrupted backfill ends inside it and the next listing window starts inside that second. Two
tenants read the account: one whose `copilot sync` is SIGKILLed at random points and restarted (each restart
opens a new window at the committed cursor), and one backfilled without interruption, through the cap.
Afterwards every ticket and conversation of both is in Kafka with exactly the account's content, by id and
content hash.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import os
import random
import signal
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from connectors.freshdesk.adapter import conversation_event, ticket_event
from connectors.freshdesk.simulator.account import system_clock
from connectors.freshdesk.simulator.demo import generate_tickets
from connectors.sync_state import EPOCH, SyncState
from copilot.domain import ConversationEvent, TicketEvent, to_record
from copilot.sandbox import Sandbox
from copilot.topics import TopicNames
from copilot.wire import deserialize
from tests.helpers import free_port, read_topic, wait_for

TICKETS = 30_600  # 306 pages of 100: past the 300-page cap
BURST = 500
BURST_START = 29_750  # positions 29,750-30,249 in listing order: page 300 ends inside the burst
KILLS = 3
KILLED, UNINTERRUPTED = "scale-killed.freshdesk.test", "scale-capped.freshdesk.test"


def _account() -> list[dict[str, Any]]:
    tickets = generate_tickets(TICKETS, seed=30, now=system_clock() - timedelta(days=1))
    ordered = sorted(tickets, key=lambda t: (t["updated_at"], t["id"]))
    second = ordered[BURST_START]["updated_at"]
    for t in ordered[BURST_START:BURST_START + BURST]:
        t["updated_at"] = second
    return tickets


def _content_hash(event: TicketEvent | ConversationEvent) -> str:
    """What a ticket or conversation says, leaving out when the poller happened to see it."""
    record = {k: v for k, v in to_record(event).items() if k != "seen_at"}
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def _expected(tenant: str, tickets: list[dict[str, Any]]) -> tuple[dict[int, str], dict[int, str]]:
    by_ticket, by_conversation = {}, {}
    for raw in tickets:
        conversations = [conversation_event(tenant, raw["id"], c, EPOCH) for c in raw["conversations"]]
        event = ticket_event(tenant, raw, EPOCH)
        event = dataclasses.replace(event, conversation_ids=tuple(c.conversation_id for c in conversations))
        by_ticket[raw["id"]] = _content_hash(event)
        by_conversation.update({c.conversation_id: _content_hash(c) for c in conversations})
    return by_ticket, by_conversation


def _sync_summary(env: dict[str, str], tenant: str) -> dict[str, object]:
    async def read() -> dict[str, object]:
        redis = Redis.from_url(env["COPILOT_REDIS_URL"], decode_responses=True)
        try:
            return await SyncState(redis, env["COPILOT_NAMESPACE"], tenant).summary()
        finally:
            await redis.aclose()

    return asyncio.run(read())


@pytest.mark.timeout(900)
def test_a_30600_ticket_account_syncs_completely_through_the_page_cap_and_random_kills(services, namespace,
                                                                                      tmp_path: Path):
    tickets = _account()
    env = {**os.environ, **services, "COPILOT_ENV": "test", "COPILOT_NAMESPACE": namespace,
           "COPILOT_DATA_DIR": str(tmp_path), "COPILOT_FERNET_KEYS": _fernet_key(),
           "COPILOT_KAFKA_PARTITIONS": "2", "COPILOT_POLL_INTERVAL": "1", "COPILOT_KB_INTERVAL": "3600",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "COLUMNS": "160"}
    procs = Sandbox(tmp_path, env)
    port = free_port()
    data = procs.write_jsonl("tickets.jsonl", tickets)
    procs.start("simulator", "simulator", "--port", str(port), "--domain", KILLED, "--tickets", str(data),
                "--rate-limit", "100000000", extra={"COPILOT_SIMULATOR_API_KEY": "k"})
    wait_for(lambda: _answering(port), 60, what="the simulator")
    rng = random.Random(2026)
    kill_points = sorted(rng.randrange(TICKETS // 20, TICKETS * 19 // 20) for _ in range(KILLS))
    try:
        _register(procs, KILLED, port)
        procs.start("sync", "sync", "--progress")
        for point in kill_points:  # a SIGKILL whenever the backfill passes a random point, then a restart
            wait_for(lambda: _reached(env, point) or _died(procs), 600, interval=0.05,  # noqa: B023 - called now
                     what=f"{point} tickets synced")
            os.killpg(procs.procs["sync"].pid, signal.SIGKILL)
            procs.procs["sync"].wait(timeout=10)
            procs.start("sync", "sync", "--progress")
        wait_for(lambda: _finished(env, KILLED) or _died(procs), 600, interval=0.5, what="the backfill to finish")
        _register(procs, UNINTERRUPTED, port)  # the running sync picks it up and backfills it in one go
        wait_for(lambda: _finished(env, UNINTERRUPTED) or _died(procs), 600, interval=0.5,
                 what="the second backfill to finish")
    finally:
        procs.stop()

    names = TopicNames(namespace)
    bootstrap = services["COPILOT_KAFKA_BOOTSTRAP"]
    ticket_records = [deserialize(TicketEvent, v) for _, v in read_topic(bootstrap, names.tickets)]
    conversation_records = [deserialize(ConversationEvent, v) for _, v in read_topic(bootstrap, names.conversations)]
    for tenant in (KILLED, UNINTERRUPTED):
        assert _sync_summary(env, tenant)["tickets_seen"] == TICKETS
        want_tickets, want_conversations = _expected(tenant, tickets)
        got_tickets = {t.ticket_id: _content_hash(t) for t in ticket_records if t.tenant == tenant}
        got_conversations = {c.conversation_id: _content_hash(c) for c in conversation_records
                             if c.tenant == tenant}
        assert got_tickets.keys() == want_tickets.keys(), tenant
        assert [i for i in want_tickets if got_tickets[i] != want_tickets[i]] == [], tenant
        assert got_conversations == want_conversations, tenant
    # only what was in flight at a kill is published twice, one page of tickets per kill at most; the
    # uninterrupted tenant publishes the tickets its new window lists again at the burst second only once
    published = Counter(t.tenant for t in ticket_records)
    assert published[UNINTERRUPTED] == TICKETS
    assert TICKETS <= published[KILLED] <= TICKETS + 100 * KILLS
    log = (tmp_path / "sync.log").read_text(errors="replace")
    assert "left this minute" in log and f"{TICKETS:,} tickets" in log


def _register(procs: Sandbox, tenant: str, port: int) -> None:
    procs.run("tenant", "add", "--domain", tenant, "--api-key", "k", "--base-url", f"http://127.0.0.1:{port}")


def _fernet_key() -> str:
    from cryptography.fernet import Fernet

    return Fernet.generate_key().decode()


def _answering(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _reached(env: dict[str, str], tickets: int) -> bool:
    return int(str(_sync_summary(env, KILLED)["tickets_seen"])) >= tickets


def _finished(env: dict[str, str], tenant: str) -> dict[str, object] | None:
    summary = _sync_summary(env, tenant)
    return summary if summary["last_poll"] and not summary["last_error"] else None


def _died(procs: Sandbox) -> None:
    if not procs.alive("sync"):
        raise AssertionError(f"copilot sync died:\n{procs.tail()}")
