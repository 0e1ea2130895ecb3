"""Which tickets an agent may see, after the helpdesk's own rule, as a filter the index can apply.

Freshdesk gives every agent a ticket scope: global (1) sees every ticket, group (2) the tickets of the groups
the agent belongs to and those assigned to the agent, restricted (3) only the tickets assigned to the agent.
A ticket without a group or responder is stored with 0 there, which no agent or group id equals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from copilot.errors import CopilotError

GLOBAL, GROUP, RESTRICTED = "global", "group", "restricted"
_FRESHDESK_SCOPES = {1: GLOBAL, 2: GROUP, 3: RESTRICTED}


class UnknownScopeError(CopilotError):
    """The helpdesk reported a ticket scope this project does not know: refuse rather than guess wider."""


@dataclass(frozen=True)
class AgentScope:
    agent_id: int
    kind: str
    group_ids: tuple[int, ...] = ()

    @classmethod
    def from_freshdesk(cls, agent: dict[str, Any]) -> AgentScope:
        kind = _FRESHDESK_SCOPES.get(agent.get("ticket_scope"))  # type: ignore[arg-type]
        if kind is None:
            raise UnknownScopeError(f"agent {agent.get('id')} has unknown ticket_scope {agent.get('ticket_scope')!r}")
        return cls(int(agent["id"]), kind, tuple(sorted(int(g) for g in agent.get("group_ids") or ())))

    def condition(self) -> str:
        """The Milvus filter on ticket rows ("" for global scope). Only integers reach the expression."""
        if self.kind == GLOBAL:
            return ""
        mine = f"responder_id == {int(self.agent_id)}"
        if self.kind == RESTRICTED or not self.group_ids:
            return mine
        return f"({mine} or group_id in [{', '.join(str(int(g)) for g in self.group_ids)}])"

    def allows(self, group_id: int | None, responder_id: int | None) -> bool:
        """The same rule as `condition`, for one ticket in hand."""
        if self.kind == GLOBAL or (responder_id and responder_id == self.agent_id):
            return True
        return self.kind == GROUP and bool(group_id) and group_id in self.group_ids

    def cache_identity(self) -> dict[str, Any] | None:
        """What a cached result depends on: none for global scope, so every global agent shares results."""
        if self.kind == GLOBAL:
            return None
        return {"agent": self.agent_id, "kind": self.kind, "groups": list(self.group_ids)}

    def dump(self) -> dict[str, Any]:
        return {"agent_id": self.agent_id, "kind": self.kind, "group_ids": list(self.group_ids)}

    @classmethod
    def load(cls, data: dict[str, Any]) -> AgentScope:
        return cls(int(data["agent_id"]), str(data["kind"]), tuple(int(g) for g in data["group_ids"]))
