"""The state of one simulated Freshdesk account and the rules that change it (no HTTP here).

Times come from an injected clock and are kept at whole seconds, as Freshdesk's are, so many tickets can
share one `updated_at` second.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.freshdesk.timefmt import format_ts, parse

Clock = Callable[[], datetime]
ARCHIVE_AFTER = timedelta(days=120)  # Freshdesk's default once an account turns archiving on


def system_clock() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class SimulatedAccount:
    clock: Clock = system_clock
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    articles: dict[int, dict[str, Any]] = field(default_factory=dict)
    archived: set[int] = field(default_factory=set)
    agents: dict[int, dict[str, Any]] = field(default_factory=dict)
    archive_after: timedelta | None = None  # archiving is an account setting, off unless enabled
    _next_id: int = 1
    _archive_checked: datetime | None = None

    # -- loading -----------------------------------------------------------------------------------------
    def load_tickets(self, lines: Iterable[dict[str, Any]]) -> None:
        for raw in lines:
            ticket = dict(raw)
            convs = ticket.pop("conversations", []) or []
            ticket.setdefault("deleted", False)
            ticket.setdefault("spam", False)
            ticket.setdefault("attachments", [])
            ticket.setdefault("tags", [])
            for stamp in ("created_at", "updated_at"):  # one format, so stamps compare as strings
                ticket[stamp] = format_ts(parse(ticket[stamp]))
            self.tickets[int(ticket["id"])] = ticket
            self.conversations[int(ticket["id"])] = [dict(c) for c in convs]
        self._next_id = max([self._next_id, *(t + 1 for t in self.tickets)])

    def load_articles(self, lines: Iterable[dict[str, Any]]) -> None:
        for raw in lines:
            self.articles[int(raw["id"])] = dict(raw)

    @classmethod
    def from_files(cls, tickets: Path, articles: Path | None = None, clock: Clock = system_clock,
                   archive_after: timedelta | None = None) -> SimulatedAccount:
        account = cls(clock=clock, archive_after=archive_after)
        account.load_tickets(_read_jsonl(tickets))
        if articles:
            account.load_articles(_read_jsonl(articles))
        return account

    # -- reads -------------------------------------------------------------------------------------------
    def ticket(self, ticket_id: int, archived: bool = False) -> dict[str, Any] | None:
        """A ticket as GET /tickets/{id} shows it (archived=False) or GET /tickets/archived/{id} (True);
        None when unknown or on the other side of the archive."""
        if (ticket_id in self.archived) != archived:
            return None
        ticket = self.tickets.get(ticket_id)
        return copy.deepcopy(ticket) if ticket else None

    def conversations_of(self, ticket_id: int) -> list[dict[str, Any]]:
        return copy.deepcopy(self.conversations.get(ticket_id, []))

    def list_tickets(self, filter_name: str | None) -> list[dict[str, Any]]:
        """Tickets a list call can see: deleted and spam only through their filters, never archived ones.
        The account's own objects, for reading: copy what leaves the simulator."""
        def visible(t: dict[str, Any]) -> bool:
            if int(t["id"]) in self.archived:
                return False
            if filter_name == "deleted":
                return bool(t.get("deleted"))
            if filter_name == "spam":
                return bool(t.get("spam"))
            return not t.get("deleted") and not t.get("spam")

        return [t for t in self.tickets.values() if visible(t)]

    def archive_idle_closed(self) -> None:
        """Closed tickets idle for `archive_after` leave the lists and GET /tickets/{id} (checked once a minute)."""
        if self.archive_after is None:
            return
        now = self.clock()
        if self._archive_checked and now - self._archive_checked < timedelta(minutes=1):
            return
        self._archive_checked = now
        for tid, t in self.tickets.items():
            if t.get("status") == 5 and not t.get("deleted") and now - parse(t["updated_at"]) >= self.archive_after:
                self.archived.add(tid)

    # -- writes (what agents and customers do) -----------------------------------------------------------
    def _touch(self, ticket: dict[str, Any]) -> str:
        stamp = format_ts(self.clock())
        ticket["updated_at"] = stamp
        return stamp

    def create_ticket(self, body: dict[str, Any]) -> dict[str, Any]:
        tid = self._next_id
        self._next_id += 1
        stamp = format_ts(self.clock())
        description = str(body.get("description", ""))
        ticket = {
            "id": tid, "subject": body["subject"], "description": description,
            "description_text": _strip_html(description), "status": int(body.get("status", 2)),
            "priority": int(body.get("priority", 1)), "source": int(body.get("source", 2)),
            "type": body.get("type"), "tags": list(body.get("tags", [])), "requester_id": body.get("requester_id"),
            "responder_id": body.get("responder_id"), "group_id": body.get("group_id"),
            "created_at": stamp, "updated_at": stamp, "deleted": False, "spam": False, "attachments": [],
        }
        self.tickets[tid] = ticket
        self.conversations[tid] = []
        return copy.deepcopy(ticket)

    def update_ticket(self, ticket_id: int, body: dict[str, Any]) -> dict[str, Any] | None:
        ticket = self.tickets.get(ticket_id)
        if ticket is None or ticket_id in self.archived:
            return None
        for name in ("subject", "status", "priority", "type", "tags", "responder_id", "group_id"):
            if name in body:
                ticket[name] = body[name]
        if "description" in body:
            ticket["description"] = body["description"]
            ticket["description_text"] = _strip_html(body["description"])
        self._touch(ticket)
        return copy.deepcopy(ticket)

    def add_conversation(self, ticket_id: int, body: str, *, private: bool, incoming: bool,
                         user_id: int | None = None) -> dict[str, Any] | None:
        """A reply or note; like Freshdesk, it bumps the ticket's updated_at."""
        ticket = self.tickets.get(ticket_id)
        if ticket is None or ticket_id in self.archived:
            return None
        stamp = self._touch(ticket)
        conv_id = ticket_id * 1000 + len(self.conversations[ticket_id]) + 1
        conv = {
            "id": conv_id, "ticket_id": ticket_id, "body": body, "body_text": _strip_html(body),
            "incoming": incoming, "private": private, "user_id": user_id, "source": 2 if private else 0,
            "created_at": stamp, "updated_at": stamp, "last_edited_at": None, "attachments": [],
        }
        self.conversations[ticket_id].append(conv)
        return copy.deepcopy(conv)

    def create_agent(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /agents as Freshdesk answers it; ids are large, like real agent ids, so they never look like
        ticket ids."""
        agent_id = 60_000_000_000 + len(self.agents) + 1
        stamp = format_ts(self.clock())
        self.agents[agent_id] = {
            "id": agent_id, "available": False, "occasional": bool(body.get("occasional", False)),
            "ticket_scope": int(body["ticket_scope"]), "signature": None,
            "group_ids": [int(g) for g in body.get("group_ids", [])], "role_ids": list(body.get("role_ids", [])),
            "skill_ids": [], "available_since": None, "type": "support_agent", "focus_mode": True,
            "contact": {"active": False, "email": body["email"], "job_title": None, "language": "en",
                        "last_login_at": None, "mobile": None, "name": body.get("name") or body["email"],
                        "phone": None, "time_zone": "Eastern Time (US & Canada)",
                        "created_at": stamp, "updated_at": stamp},
            "created_at": stamp, "updated_at": stamp,
        }
        return copy.deepcopy(self.agents[agent_id])

    def update_agent(self, agent_id: int, body: dict[str, Any]) -> dict[str, Any] | None:
        agent = self.agents.get(agent_id)
        if agent is None:
            return None
        for name in ("ticket_scope", "group_ids", "occasional"):
            if name in body:
                agent[name] = body[name]
        agent["updated_at"] = format_ts(self.clock())
        return copy.deepcopy(agent)

    def set_deleted(self, ticket_id: int, deleted: bool) -> bool:
        ticket = self.tickets.get(ticket_id)
        if ticket is None:
            return False
        ticket["deleted"] = deleted
        self._touch(ticket)
        return True


def _strip_html(html: str) -> str:
    from html import unescape
    from re import sub

    return unescape(sub(r"<[^>]+>", " ", html.replace("<br>", "\n"))).strip()


def _read_jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open() as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)
