"""Freshdesk REST API v2: client, adapter and a faithful simulator."""
