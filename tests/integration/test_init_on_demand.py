"""/init for a ticket the pipeline has not indexed: fetched, merged and summarized on demand."""

from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis

from api.app import create_app
from api.keys import EMBEDDER, INDEX
from connectors.freshdesk.simulator.account import SimulatedAccount
from connectors.freshdesk.simulator.demo import generate_tickets
from connectors.freshdesk.simulator.server import SimulatorConfig, create_simulator_app
from copilot.settings import Settings
from copilot.tenants import TenantRegistry
from copilot.vault import KeyVault

TENANT = "fresh.freshdesk.test"


async def test_a_ticket_not_indexed_yet_is_answered_on_demand(service_env):
    settings = Settings()
    account = SimulatedAccount()
    tickets = generate_tickets(12, seed=8)
    account.load_tickets(tickets)
    simulator = TestServer(create_simulator_app(account, SimulatorConfig(TENANT, "k")))
    await simulator.start_server()
    redis = Redis.from_url(settings.redis.url, decode_responses=True)
    vault = KeyVault.from_settings(settings.security.fernet_keys, "test", settings.stack.data_dir)
    await TenantRegistry(redis, vault, settings.kafka.namespace).add(TENANT, "k", str(simulator.make_url("")))
    api = TestClient(TestServer(create_app(settings)))
    await api.start_server()
    try:
        app = api.server.app
        past = [t for t in tickets if "sso" in t["tags"]][1:] + [t for t in tickets if "billing" in t["tags"]]
        vectors = await app[EMBEDDER].embed([f"{t['subject']}\n{t['description_text']}" for t in past])
        await app[INDEX].upsert_tickets([_row(t, v) for t, v in zip(past, vectors, strict=True)])
        new = next(t for t in tickets if "sso" in t["tags"])  # on the helpdesk, not in the index
        headers = {"X-Freshdesk-Domain": TENANT, "X-Freshdesk-Api-Key": "k"}

        response = await api.get(f"/init/{new['id']}?limit=2", headers=headers)
        body = await response.json()
        assert response.status == 200, body
        assert body["indexed"] is None
        assert body["ticket_summary"]["problem"].startswith(new["subject"])
        assert body["ticket_summary"]["solution"] != "No solution recorded yet."
        assert body["similar_tickets"][0]["tags"] == ["sso", "login"]  # the only other SSO ticket comes first
        assert {s["ticket_id"] for s in body["similar_tickets"]} <= {t["id"] for t in past}

        missing = await api.get("/init/424242", headers=headers)
        assert missing.status == 404 and (await missing.json())["error"] == "ticket_not_found"

        metrics = await (await api.get("/metrics")).text()  # latency by route pattern, never by raw path
        assert 'copilot_http_request_seconds_count{route="/init/{ticket_id}",status="200"}' in metrics
        assert 'route="/init/{ticket_id}",status="404"' in metrics and "/init/424242" not in metrics
    finally:
        await api.close()
        await simulator.close()
        await redis.aclose()


def _row(ticket: dict, vector: list[float]) -> dict:
    text = f"{ticket['subject']}\n{ticket['description_text']}"
    return {"pk": f"{TENANT}/ticket/{ticket['id']}", "tenant": TENANT, "ticket_id": ticket["id"],
            "subject": ticket["subject"], "text": text, "status": ticket["status"], "priority": 1, "problem": text,
            "cause": "", "solution": "s", "result": "", "summarizer": "local", "tags": ticket["tags"],
            "attachments": [], "content_hash": "h", "source_updated_at": 1, "seen_at": 1, "indexed_at": 1,
            "dense": vector, "subject_dense": vector}
