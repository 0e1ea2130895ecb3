"""The sidebar API (aiohttp): /init, /query, /health, behind tenant authentication."""
