import pytest
from cryptography.fernet import Fernet

from copilot.errors import TenantError
from copilot.retrieval_config import RetrievalConfig, RetrievalConfigError
from copilot.tenants import TenantRegistry, retrieval_of
from copilot.vault import KeyVault


async def test_keys_are_encrypted_at_rest_and_checked_exactly(redis, namespace):
    registry = TenantRegistry(redis, KeyVault([Fernet.generate_key().decode()]), namespace)
    await registry.add("Acme.Freshdesk.com", "key-of-acme-123")
    raw = await redis.hget(f"{namespace}:tenants", "acme.freshdesk.com")
    assert "key-of-acme-123" not in raw
    tenant = await registry.authenticate("acme.freshdesk.com", "key-of-acme-123")
    assert tenant.tenant_id == "acme.freshdesk.com" and tenant.base_url == "https://acme.freshdesk.com"
    for domain, key in [("acme.freshdesk.com", "wrong"), ("other.freshdesk.com", "key-of-acme-123"),
                        ("acme.freshdesk.com", None), ('x" or tenant != "', "k")]:
        with pytest.raises(TenantError):
            await registry.authenticate(domain, key)


async def test_rotation_reads_old_keys_and_reencrypts_with_the_new_one(redis, namespace):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    await TenantRegistry(redis, KeyVault([old]), namespace).add("acme.freshdesk.com", "secret-1")
    rotated = KeyVault([new, old])
    registry = TenantRegistry(redis, rotated, namespace)
    assert (await registry.authenticate("acme.freshdesk.com", "secret-1")).tenant_id == "acme.freshdesk.com"
    token = rotated.rotate(rotated.encrypt("secret-1"))
    assert KeyVault([new]).decrypt(token).get_secret_value() == "secret-1"


async def test_retrieval_settings_are_per_tenant_and_survive_a_key_change(redis, namespace):
    registry = TenantRegistry(redis, KeyVault([Fernet.generate_key().decode()]), namespace)
    await registry.add("acme.freshdesk.com", "k1")
    await registry.add("bravo.freshdesk.com", "k2")
    assert await registry.configure("acme.freshdesk.com", embed="summary", bm25_weight=0.5) == RetrievalConfig(
        embed="summary", bm25_weight=0.5)
    await registry.add("acme.freshdesk.com", "k3")  # a new API key keeps the settings
    acme = await registry.authenticate("acme.freshdesk.com", "k3")
    assert (acme.retrieval.embed, acme.retrieval.bm25_weight) == ("summary", 0.5)
    assert (await registry.authenticate("bravo.freshdesk.com", "k2")).retrieval == RetrievalConfig()
    assert (await retrieval_of(redis, namespace, "acme.freshdesk.com")).embed == "summary"  # the worker's view
    with pytest.raises(RetrievalConfigError):
        await registry.configure("acme.freshdesk.com", rrf_k=0)
    with pytest.raises(TenantError):
        await registry.configure("nobody.freshdesk.com", embed="text")
