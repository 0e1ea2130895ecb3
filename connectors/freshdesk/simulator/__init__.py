"""An aiohttp server that behaves like Freshdesk's API v2 for the endpoints this project uses."""
