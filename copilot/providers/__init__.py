"""LLM and embedding providers: OpenAI (or any compatible server) when configured, local models otherwise."""
