"""HTTP helpers for talking to the pipeline's processes (copilot.sandbox.Sandbox runs them)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def http(method: str, url: str, headers: dict[str, str] | None = None, body: Any = None,
         raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method,  # noqa: S310 - http://127.0.0.1 only
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - 127.0.0.1 only
            payload = resp.read()
            status = resp.status
    except urllib.error.HTTPError as exc:
        payload, status = exc.read(), exc.code
    return status, json.loads(payload) if payload else None


def answering(url: str) -> bool:
    """True once an HTTP server answers at url (connection refused while it starts is not an error)."""
    try:
        return http("GET", url)[0] == 200
    except urllib.error.URLError:
        return False


def http_text(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=30) as resp:  # noqa: S310 - http://127.0.0.1 only
        return resp.status, resp.read().decode()


def server_sent_events(url: str, headers: dict[str, str], body: Any) -> list[tuple[str, Any]]:
    """POST and read a text/event-stream reply to its end: (event name, decoded JSON data) in order."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",  # noqa: S310 - 127.0.0.1
                                     headers={"Content-Type": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=30) as resp:  # noqa: S310 - http://127.0.0.1 only
        assert resp.headers["Content-Type"].startswith("text/event-stream")
        text = resp.read().decode()
    events = []
    for block in filter(None, text.split("\n\n")):
        fields = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((fields["event"], json.loads(fields["data"])))
    return events
