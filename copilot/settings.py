"""Configuration: one frozen settings class per component, each field read from a named environment variable.

`COPILOT_ENV` picks a per-environment file under config/ (development, test, production); real environment
variables override it. Secrets are `SecretStr` so they never print.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from copilot.feedback import RerankPolicy

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


def _env_files() -> tuple[Path, ...]:
    env = os.environ.get("COPILOT_ENV", "development")
    path = CONFIG_DIR / f"{env}.env"
    return (path,) if path.exists() else ()


class _Base(BaseSettings):
    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_file=_env_files())


class StackSettings(_Base):
    """Where the locally provisioned services keep their state and listen."""

    data_dir: Path = Field(Path("var"), alias="COPILOT_DATA_DIR")
    cache_dir: Path = Field(Path.home() / ".cache" / "freshdesk-copilot", alias="COPILOT_CACHE")
    kafka_version: str = Field("3.9.1", alias="COPILOT_KAFKA_VERSION")
    kafka_port: int = Field(9092, alias="COPILOT_KAFKA_PORT")
    kafka_controller_port: int = Field(9093, alias="COPILOT_KAFKA_CONTROLLER_PORT")
    kafka_heap: str = Field("512m", alias="COPILOT_KAFKA_HEAP")
    redis_port: int = Field(6379, alias="COPILOT_REDIS_PORT")
    milvus_port: int = Field(19530, alias="COPILOT_MILVUS_PORT")
    milvus_lite_scoring: Literal["array", "upstream"] = Field(
        "array", alias="COPILOT_MILVUS_LITE_SCORING",
        description="array: score with copilot.stack.lite_kernels; upstream: with Milvus Lite's own code")


class KafkaSettings(_Base):
    bootstrap_servers: str = Field("127.0.0.1:9092", alias="COPILOT_KAFKA_BOOTSTRAP")
    namespace: str = Field("copilot", alias="COPILOT_NAMESPACE", pattern=r"^[a-z][a-z0-9_]{0,40}$")
    partitions: int = Field(4, alias="COPILOT_KAFKA_PARTITIONS", ge=1)
    replication_factor: int = Field(1, alias="COPILOT_KAFKA_REPLICATION", ge=1)


class RedisSettings(_Base):
    url: str = Field("redis://127.0.0.1:6379/0", alias="COPILOT_REDIS_URL")
    max_connections: int = Field(64, alias="COPILOT_REDIS_MAX_CONNECTIONS", ge=1,
                                 description="connections per process; beyond, callers wait for a free one")
    pool_timeout_seconds: float = Field(20.0, alias="COPILOT_REDIS_POOL_TIMEOUT", gt=0,
                                        description="how long a caller waits for a free connection before failing")


class MilvusSettings(_Base):
    uri: str = Field("http://127.0.0.1:19530", alias="COPILOT_MILVUS_URI")
    token: SecretStr = Field(SecretStr(""), alias="COPILOT_MILVUS_TOKEN")
    index_version: str = Field("v1", alias="COPILOT_INDEX_VERSION", pattern=r"^[a-z0-9_]{1,16}$")
    seal_after_seconds: float = Field(5.0, alias="COPILOT_MILVUS_SEAL_SECONDS", ge=0,
                                      description="flush written collections once writes pause this long (0: never)")
    seal_within_seconds: float = Field(300.0, alias="COPILOT_MILVUS_SEAL_MAX_SECONDS", gt=0,
                                       description="flush anyway once the oldest unflushed write is this old")


class ProviderSettings(_Base):
    """LLM and embeddings. Offline (local) unless an OpenAI key or an OpenAI-compatible base URL is set."""

    openai_api_key: SecretStr = Field(SecretStr(""), alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    summarizer: str = Field("auto", alias="COPILOT_SUMMARIZER", pattern="^(auto|local|openai)$")
    embedder: str = Field("auto", alias="COPILOT_EMBEDDER", pattern="^(auto|local|openai)$")
    chat_model: str = Field("gpt-4o-mini", alias="COPILOT_CHAT_MODEL")
    embedding_model: str = Field("text-embedding-3-small", alias="COPILOT_EMBEDDING_MODEL")
    embedding_dim: int = Field(1536, alias="COPILOT_EMBEDDING_DIM")
    max_concurrent_llm_calls: int = Field(4, alias="COPILOT_LLM_CONCURRENCY", ge=1)
    max_concurrent_llm_calls_per_tenant: int = Field(
        2, alias="COPILOT_LLM_TENANT_CONCURRENCY", ge=1,
        description="LLM calls in flight for one tenant, so a tenant's backfill cannot take every slot")
    llm_timeout_seconds: float = Field(30.0, alias="COPILOT_LLM_TIMEOUT", gt=0,
                                       description="how long one chat call may take before it is retried")
    llm_retries: int = Field(3, alias="COPILOT_LLM_RETRIES", ge=0,
                             description="retries of a failed or timed-out chat call, with the client's backoff")
    llm_breaker_failures: int = Field(
        5, alias="COPILOT_LLM_BREAKER_FAILURES", ge=1,
        description="chat calls failing in a row (after the client's retries) before summaries stop waiting on "
                    "the LLM and use the local summarizer, marked as a fallback")
    llm_breaker_seconds: float = Field(30.0, alias="COPILOT_LLM_BREAKER_SECONDS", gt=0,
                                       description="how long they do so before one call tries the LLM again")
    embed_batch_size: int = Field(64, alias="COPILOT_EMBED_BATCH", ge=1,
                                  description="texts per OpenAI embeddings request")
    local_embed_batch_size: int = Field(
        16, alias="COPILOT_LOCAL_EMBED_BATCH", ge=1,
        description="texts per forward pass of the local model; each pass pads its texts to its longest, which "
                    "costs the index agent's calls of mixed lengths less in small passes (bench.embed_batches)")
    embed_threads: int = Field(0, alias="COPILOT_EMBED_THREADS", ge=0,
                               description="torch threads for local embeddings (0: torch's default, one per CPU "
                                           "the process may run on)")

    @cached_property
    def openai_configured(self) -> bool:
        return bool(self.openai_api_key.get_secret_value() or self.openai_base_url)

    def use_openai(self, choice: str) -> bool:
        return choice == "openai" or (choice == "auto" and self.openai_configured)


class SecuritySettings(_Base):
    """Fernet keys for API keys at rest: comma-separated, newest first (MultiFernet rotation)."""

    fernet_keys: SecretStr = Field(SecretStr(""), alias="COPILOT_FERNET_KEYS")
    environment: str = Field("development", alias="COPILOT_ENV")


class PollerSettings(_Base):
    interval_seconds: float = Field(5.0, alias="COPILOT_POLL_INTERVAL", gt=0)
    kb_interval_seconds: float = Field(300.0, alias="COPILOT_KB_INTERVAL", gt=0)
    request_timeout_seconds: float = Field(30.0, alias="COPILOT_HTTP_TIMEOUT", gt=0)
    max_retries: int = Field(6, alias="COPILOT_HTTP_RETRIES", ge=0)
    rate_reserve_share: float = Field(0.1, alias="COPILOT_RATE_RESERVE", ge=0, lt=1,
                                      description="share of the account's per-minute limit left to the customer")


class ApiSettings(_Base):
    host: str = Field("127.0.0.1", alias="COPILOT_API_HOST")
    port: int = Field(8080, alias="COPILOT_API_PORT")
    max_body_bytes: int = Field(64 * 1024, alias="COPILOT_API_MAX_BODY")
    signing: Literal["off", "optional", "required"] = Field(
        "optional", alias="COPILOT_API_SIGNING",
        description="HMAC request signing: required, checked when sent (optional), or ignored (off)")
    signing_window_seconds: int = Field(300, alias="COPILOT_API_SIGNING_WINDOW", ge=1)
    init_query_chars: int = Field(
        600, alias="COPILOT_INIT_QUERY_CHARS", ge=50, le=20000,
        description="how much of the open ticket's text /init searches BM25 with (its time grows with it; "
                    "600 ranked best with the subject's rankings on ../shared/eval, BENCHMARKS.md)")
    agent_scope_seconds: int = Field(300, alias="COPILOT_API_AGENT_SCOPE_SECONDS", ge=1,
                                     description="how long an agent's ticket scope from the helpdesk is trusted")
    result_cache_seconds: int = Field(60, alias="COPILOT_API_CACHE_SECONDS", ge=0,
                                      description="how long /query results are cached (0: off): a change to "
                                                  "an item they list drops them at once, and this bounds how "
                                                  "long a newly matching ticket can be missing from them")
    neighbourhood_seconds: int = Field(
        900, alias="COPILOT_API_NEIGHBOURHOOD_SECONDS", ge=0,
        description="how long a ticket's /init searches are cached (0: off); a change to the ticket or to "
                    "anything listed invalidates them at once, a newly similar ticket appears within this")


class FeedbackSettings(_Base):
    """How votes rerank results (see copilot.feedback for what each knob does)."""

    half_life_days: float = Field(30.0, alias="COPILOT_FEEDBACK_HALF_LIFE_DAYS", gt=0)
    prior_votes: float = Field(3.0, alias="COPILOT_FEEDBACK_PRIOR_VOTES", gt=0)
    max_boost: float = Field(0.25, alias="COPILOT_FEEDBACK_MAX_BOOST", ge=0, lt=1)
    context_floor: float = Field(0.35, alias="COPILOT_FEEDBACK_CONTEXT_FLOOR", ge=-1, lt=1)
    query_ttl_seconds: int = Field(7 * 86400, alias="COPILOT_FEEDBACK_QUERY_TTL", ge=60,
                                   description="how long a shown result can still be voted on")

    def policy(self) -> RerankPolicy:
        return RerankPolicy(half_life_days=self.half_life_days, prior_votes=self.prior_votes,
                            max_boost=self.max_boost, context_floor=self.context_floor)


class WorkerSettings(_Base):
    retry_give_up_seconds: float = Field(
        300.0, alias="COPILOT_RETRY_GIVE_UP_SECONDS", gt=0,
        description="how long a stage retries a failing write (Milvus, Redis) before it dead-letters the batch")
    merge_batch_size: int = Field(256, alias="COPILOT_MERGE_BATCH", ge=1,
                                  description="source records the merge agent joins at once")
    merge_batch_seconds: float = Field(0.05, alias="COPILOT_MERGE_BATCH_SECONDS", gt=0,
                                       description="how long the merge agent waits to fill a batch")
    index_batch_size: int = Field(64, alias="COPILOT_INDEX_BATCH", ge=1)
    index_batch_seconds: float = Field(0.2, alias="COPILOT_INDEX_BATCH_SECONDS", gt=0)
    session_timeout_seconds: float = Field(30.0, alias="COPILOT_KAFKA_SESSION_TIMEOUT", ge=6,
                                           description="how long a dead worker holds its partitions")
    bounded_polls: Literal["auto", "on", "off"] = Field(
        "auto", alias="COPILOT_BOUNDED_POLLS",
        description="polls small enough that one stalled agent cannot stop the others (streams.app.poll_records); "
                    "auto: when summaries come from an LLM")
    producer_linger_ms: float = Field(
        10.0, alias="COPILOT_PRODUCER_LINGER_MS", ge=0, le=1000,
        description="how long the worker's Kafka producer waits to fill a batch before sending it (Faust's "
                    "0 was slower in the backlog bench: BENCHMARKS.md, session 19)")
    metrics_host: str = Field("127.0.0.1", alias="COPILOT_METRICS_HOST")
    metrics_port: int = Field(0, alias="COPILOT_METRICS_PORT", ge=0, description="0 disables /metrics")


class Settings:
    """Every component's settings, read once from the environment (and the COPILOT_ENV file)."""

    def __init__(self) -> None:
        self.stack = StackSettings()
        self.kafka = KafkaSettings()
        self.redis = RedisSettings()
        self.milvus = MilvusSettings()
        self.providers = ProviderSettings()
        self.security = SecuritySettings()
        self.poller = PollerSettings()
        self.api = ApiSettings()
        self.worker = WorkerSettings()
        self.feedback = FeedbackSettings()
