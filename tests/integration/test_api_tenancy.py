"""Property, through the API: with many tenants whose ticket ids overlap, no response to any of a few hundred
random requests (endpoints, content types, limits, agents' scopes) contains another tenant's item."""

import random

from api.keys import AGENT_SCOPES, EMBEDDER, INDEX
from copilot.agent_scope import GLOBAL, GROUP, RESTRICTED, AgentScope
from tests.integration.harness import serving_api, ticket_row

TENANTS = [f"co{n}.freshdesk.test" for n in range(8)]
TICKETS = range(1, 13)  # every tenant has tickets 1..12
AREAS = ["SSO login fails with a SAML error", "Invoice charged twice, refund wanted", "CSV export times out",
         "iOS app crashes on launch", "Emails land in spam, SPF record"]
WORDS = "sso saml login invoice refund charged export csv timeout ios crash email spf screenshot log pdf".split()


async def test_no_response_ever_holds_another_tenants_item(service_env):
    async with serving_api({tenant: f"key-{tenant}" for tenant in TENANTS}) as (api, _):
        app = api.server.app
        await _index(app)
        scopes = {agent: AgentScope(agent, kind, (1,)) for agent, kind in ((101, GLOBAL), (102, GROUP),
                                                                            (103, RESTRICTED))}
        for tenant in TENANTS:  # as the helpdesk would report them (it is not reachable here)
            for scope in scopes.values():
                await app[AGENT_SCOPES].remember(tenant, scope)
        rng = random.Random(20261129)
        checked = 0
        for _ in range(240):
            tenant = rng.choice(TENANTS)
            headers = {"X-Freshdesk-Domain": tenant, "X-Freshdesk-Api-Key": f"key-{tenant}"}
            agent = rng.choice([None, *scopes])
            if agent is not None:
                headers["X-Freshdesk-Agent-Id"] = str(agent)
            if rng.random() < 0.5:
                response = await api.get(f"/init/{rng.choice(TICKETS)}?limit={rng.randint(1, 12)}", headers=headers)
            else:
                body = {"query": " ".join(rng.sample(WORDS, rng.randint(1, 4))), "limit": rng.randint(1, 20),
                        "types": rng.sample(["tickets", "solutions", "attachments"], rng.randint(1, 3))}
                response = await api.post("/query", json=body, headers=headers)
            payload = await response.json()
            if response.status == 403:  # a restricted agent opening a ticket that is not theirs
                assert payload["error"] == "outside_agent_scope"
                continue
            assert response.status == 200, payload
            items = (payload.get("similar_tickets", []) + payload.get("tickets", [])
                     + payload.get("related_solutions", []) + payload.get("solutions", []))
            attachments = payload.get("attachments", [])
            names = [i.get("subject") or i["title"] for i in items] + [a["name"] for a in attachments]
            assert all(f"[{tenant}]" in name for name in names), (tenant, names)
            shown = [i["ticket_id"] for i in items if "ticket_id" in i] + [a["ticket_id"] for a in attachments]
            if agent is not None:  # and only tickets the agent may open (group 1 is tid % 3, 103 owns tid % 4 == 0)
                assert all(scopes[agent].allows(tid % 3, 103 if tid % 4 == 0 else 0) for tid in shown), shown
            checked += len(names)
        assert checked > 1000  # the requests really returned items to check


async def _index(app) -> None:
    tickets, articles = [], []
    for tenant in TENANTS:
        for tid in TICKETS:
            area = AREAS[(tid + TENANTS.index(tenant)) % len(AREAS)]
            tickets.append((tenant, tid, f"[{tenant}] {area}"))
        for aid, area in enumerate(AREAS, start=1):
            articles.append((tenant, aid, f"[{tenant}] How to fix: {area}"))
    vectors = await app[EMBEDDER].embed([text for *_, text in tickets] + [text for *_, text in articles])
    index = app[INDEX]
    await index.upsert_tickets([ticket_row(
        tenant, tid, text, vector, solution="see the article", group_id=tid % 3,
        responder_id=103 if tid % 4 == 0 else 0,
        attachments=[{"name": f"[{tenant}] screenshot-{tid}.png", "content_type": "image/png", "size": 1}])
        for (tenant, tid, text), vector in zip(tickets, vectors, strict=False)])
    await index.upsert_articles([{
        "pk": f"{tenant}/article/{aid}", "tenant": tenant, "article_id": aid, "title": text, "text": text,
        "status": 2, "updated_at": 1, "indexed_at": 1, "dense": vector}
        for (tenant, aid, text), vector in zip(articles, vectors[len(tickets):], strict=True)])
