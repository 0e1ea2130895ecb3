"""The project's exception tree: one root, so callers can tell our failures from a library's."""


class CopilotError(Exception):
    """Root of every error this project raises on purpose."""


class ConfigurationError(CopilotError):
    """A setting is missing or inconsistent; the process cannot start correctly."""


class SerializationError(CopilotError):
    """A message could not be encoded or decoded with the Avro contracts in schemas/."""


class StackError(CopilotError):
    """A local service (Kafka, Redis, Milvus) could not be provisioned, started or reached."""


class UpstreamError(CopilotError):
    """A remote API (Freshdesk, an LLM) failed in a way retries did not fix."""


class TenantError(CopilotError):
    """A tenant is unknown, or the credentials given for it do not match."""
