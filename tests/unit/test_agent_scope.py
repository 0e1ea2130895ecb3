"""Freshdesk's ticket scopes turned into the filter the index applies, and the same rule for one ticket."""

import pytest

from copilot.agent_scope import GLOBAL, GROUP, RESTRICTED, AgentScope, UnknownScopeError


def test_freshdesk_scopes_map_to_kinds_and_keep_the_groups():
    assert AgentScope.from_freshdesk({"id": 7, "ticket_scope": 1, "group_ids": [5]}).kind == GLOBAL
    group = AgentScope.from_freshdesk({"id": 7, "ticket_scope": 2, "group_ids": [9, 5]})
    assert (group.kind, group.group_ids) == (GROUP, (5, 9))
    assert AgentScope.from_freshdesk({"id": 7, "ticket_scope": 3, "group_ids": None}).kind == RESTRICTED


def test_an_unknown_scope_is_refused_rather_than_treated_as_global():
    with pytest.raises(UnknownScopeError, match="ticket_scope 4"):
        AgentScope.from_freshdesk({"id": 7, "ticket_scope": 4})
    with pytest.raises(UnknownScopeError):
        AgentScope.from_freshdesk({"id": 7})


def test_conditions_per_kind():
    assert AgentScope(7, GLOBAL).condition() == ""
    assert AgentScope(7, RESTRICTED, (5,)).condition() == "responder_id == 7"
    assert AgentScope(7, GROUP, (5, 9)).condition() == "(responder_id == 7 or group_id in [5, 9])"
    assert AgentScope(7, GROUP).condition() == "responder_id == 7"  # a group agent in no group


def test_allows_follows_the_same_rule():
    group = AgentScope(7, GROUP, (5,))
    assert group.allows(5, 0) and group.allows(0, 7) and not group.allows(6, 8)
    assert not group.allows(0, 0)  # unassigned and in no group: only global agents see it
    restricted = AgentScope(7, RESTRICTED, (5,))
    assert restricted.allows(6, 7) and not restricted.allows(5, 8)
    assert AgentScope(7, GLOBAL).allows(None, None)


def test_global_agents_share_cached_results_and_others_do_not():
    assert AgentScope(7, GLOBAL).cache_identity() is None
    assert AgentScope(7, GROUP, (5,)).cache_identity() != AgentScope(8, GROUP, (5,)).cache_identity()
    scope = AgentScope(7, GROUP, (5, 9))
    assert AgentScope.load(scope.dump()) == scope
