"""HMAC request signing: the body and target of a request cannot be altered, and a request cannot be replayed.

A client signs `METHOD\\nPATH?QUERY\\nTIMESTAMP\\nSHA256(BODY)` with HMAC-SHA256, keyed by the tenant's
Freshdesk API key, and sends the Unix timestamp in `X-Copilot-Timestamp` and the hex digest in
`X-Copilot-Signature`. The API accepts a timestamp within the window around its clock and each signature
once (remembered in Redis for twice the window, so no replay can outlive it).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from redis.asyncio import Redis

TIMESTAMP_HEADER = "X-Copilot-Timestamp"
SIGNATURE_HEADER = "X-Copilot-Signature"


class SignatureError(Exception):
    """Why a signed request is refused; the message is safe to return."""


def signature(key: str, method: str, target: str, timestamp: str, body: bytes) -> str:
    """Hex HMAC-SHA256 over the canonical request; `target` is the path with its query string."""
    canonical = "\n".join((method.upper(), target, timestamp, hashlib.sha256(body).hexdigest()))
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def signed_headers(key: str, method: str, target: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """The two headers a client adds to sign a request."""
    stamp = str(int(time.time() if now is None else now))
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(key, method, target, stamp, body)}


def check_signature(key: str, method: str, target: str, body: bytes, timestamp: str | None,
                    given: str | None, window_seconds: int, now: float | None = None) -> None:
    """Raise SignatureError unless the headers sign this very request within the window."""
    if not timestamp or not given:
        raise SignatureError(f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required")
    try:
        stamp = int(timestamp)
    except ValueError as exc:
        raise SignatureError(f"{TIMESTAMP_HEADER} must be Unix seconds") from exc
    if abs((time.time() if now is None else now) - stamp) > window_seconds:
        raise SignatureError(f"{TIMESTAMP_HEADER} is outside the {window_seconds}-second window")
    if not hmac.compare_digest(signature(key, method, target, timestamp, body), given.lower()):
        raise SignatureError("the signature does not match the request")


class ReplayGuard:
    """Each valid signature is accepted once per tenant."""

    def __init__(self, redis: Redis, namespace: str, window_seconds: int) -> None:
        self._redis = redis
        self._namespace = namespace
        self._ttl = 2 * window_seconds

    async def first_use(self, tenant_id: str, given: str) -> None:
        key = f"{self._namespace}:signatures:{tenant_id}:{given.lower()}"
        if not await self._redis.set(key, "1", nx=True, ex=self._ttl):
            raise SignatureError("this signed request was already used (replay)")
