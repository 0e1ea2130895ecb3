"""TenantShares: each tenant is admitted up to its cap, counted apart from the others."""

from streams.tenant_shares import TenantShares


def test_a_tenant_at_its_cap_is_refused_while_others_are_admitted_and_again_once_one_finishes():
    shares = TenantShares(2)
    for _ in range(2):
        assert shares.admits("acme")
        shares.started("acme")
    assert not shares.admits("acme")
    assert shares.admits("bravo")
    shares.finished("acme")
    assert shares.admits("acme")


def test_without_a_cap_every_tenant_is_admitted():
    shares = TenantShares(None)
    for _ in range(100):
        shares.started("acme")
    assert shares.admits("acme")
