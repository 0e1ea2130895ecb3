"""freshdesk-copilot: shared settings, domain types, providers, the Milvus index and the command line."""
