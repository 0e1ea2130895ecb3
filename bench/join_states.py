"""The merge agent's CPU for one ticket whose conversations arrive one by one, by conversation count: decoding
and encoding the whole join state for every record (before) against the kept states of streams.join_states.

The work timed is the agent's own, without Kafka: decode the event, load the state, apply, build the document
once every conversation is in, store the state. Medians of --repeats, CPU time of this process.

    python -m bench.join_states --conversations 4,20,50,100 --repeats 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import replace

from connectors.freshdesk.adapter import conversation_event, ticket_event
from connectors.freshdesk.simulator.demo import generate_tickets
from copilot.domain import ConversationEvent, TicketEvent, utcnow
from copilot.sandbox import machine
from copilot.wire import deserialize, serialize
from streams.join_states import JoinStates
from streams.merging import JoinState, apply_event, decode_state, emit, encode_state

KEY = b"bench.freshdesk.test:1"
Load = Callable[[bytes | None], JoinState]
Dump = Callable[[JoinState], bytes]


def records(conversations: int) -> list[tuple[type, bytes]]:
    """A generated ticket listing `conversations` conversations (its own, repeated), then each of them."""
    raw = next(t for t in generate_tickets(20, seed=3) if t["conversations"])
    convs = [dict(raw["conversations"][n % len(raw["conversations"])], id=1000 + n) for n in range(conversations)]
    seen = utcnow()
    ticket = replace(ticket_event("bench.freshdesk.test", raw, seen), conversation_ids=tuple(c["id"] for c in convs))
    return [(TicketEvent, serialize(ticket))] + [
        (ConversationEvent, serialize(conversation_event("bench.freshdesk.test", int(raw["id"]), c, seen)))
        for c in convs]


def join(events: list[tuple[type, bytes]], load: Load, dump: Dump) -> None:
    """The merge agent's handling of each record (streams.agents.merge), without Kafka."""
    stored, doc_sent = None, False
    for cls, value in events:
        state, doc = emit(apply_event(load(stored), deserialize(cls, value)))
        if doc is not None:
            serialize(doc)
            doc_sent = True
        stored = dump(state)
    assert doc_sent, "the document was built"


def cpu_ms(run: Callable[[], None], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", default="4,20,50,100")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}; CPU per ticket, median of {args.repeats}")
    for count in map(int, args.conversations.split(",")):
        events = records(count)
        states = JoinStates()
        every_record = cpu_ms(lambda e=events: join(e, decode_state, encode_state), args.repeats)
        kept = cpu_ms(lambda e=events, s=states: join(e, lambda raw: s.load(KEY, raw), lambda st: s.dump(KEY, st)),
                      args.repeats)
        print(f"{count} conversations: whole state every record {every_record:.1f} ms, kept states {kept:.1f} ms "
              f"({every_record / kept:.1f}x)")


if __name__ == "__main__":
    main()
