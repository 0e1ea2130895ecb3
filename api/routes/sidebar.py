"""GET /sidebar: the agent's sidebar page. The page itself is public; every call it makes is authenticated.

It renders ticket text with textContent only, and the Content-Security-Policy allows no script but its own
(pinned by hash), so HTML in a ticket can never run in the agent's browser.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import cache
from pathlib import Path

from aiohttp import web

PAGE = Path(__file__).resolve().parents[1] / "static" / "sidebar.html"


@cache
def _page() -> tuple[str, str]:
    html = PAGE.read_text()
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.DOTALL)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    policy = (f"default-src 'none'; script-src {hashes}; style-src 'unsafe-inline'; connect-src 'self'; "
              "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self' https://*.freshdesk.com")
    return html, policy


async def sidebar(request: web.Request) -> web.Response:
    html, policy = _page()
    return web.Response(text=html, content_type="text/html",
                        headers={"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff",
                                 "Referrer-Policy": "no-referrer"})
