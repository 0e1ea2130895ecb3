"""Helpdesk connectors: the platform-adapter interface, Freshdesk's client, simulator and poller."""
