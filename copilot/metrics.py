"""Prometheus metrics shared by the processes (each process exposes its own registry)."""

from prometheus_client import Counter, Gauge, Histogram

FRESHNESS = Histogram(
    "copilot_freshness_seconds", "From the poller seeing a change to the document being searchable",
    ["stage"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 300),
)
KAFKA_TRANSIT = Histogram(
    "copilot_kafka_transit_seconds", "From a record's Kafka timestamp (its producer sending it) to an agent reading it",
    ["stage"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 300),
)
BATCH_EVENTS = Histogram(
    "copilot_batch_events", "Events a batch agent took in one batch (up to COPILOT_MERGE_BATCH, COPILOT_INDEX_BATCH)",
    ["stage"], buckets=(1, 2, 4, 8, 16, 32, 48, 64, 128, 256, 512),
)
DOCUMENTS = Counter("copilot_documents_total", "Documents through a stage", ["stage", "outcome"])
DEAD_LETTERS = Counter("copilot_dead_letters_total", "Messages sent to the dead-letter topic", ["stage"])
LLM_CALLS = Counter("copilot_llm_calls_total", "Summaries computed by a summarizer", ["summarizer"])
LLM_TOKENS = Counter("copilot_llm_tokens_total", "Tokens the chat model reported using", ["model", "kind"])
HTTP_REQUESTS = Histogram("copilot_http_request_seconds", "API latency", ["route", "status"])
FEEDBACK_VOTES = Counter("copilot_feedback_votes_total", "Votes counted into the rerank table", ["rating"])
NEIGHBOURHOOD_LOOKUPS = Counter("copilot_neighbourhood_lookups_total",
                                "/init lookups of a ticket's cached neighbourhood (hit, miss, shallow, scoped_search)",
                                ["outcome"])
NEIGHBOURHOODS_WARMED = Counter("copilot_neighbourhoods_warmed_total",
                                "Neighbourhoods the worker searched ahead of /init (stored, raced, failed)",
                                ["outcome"])
SHARED_SEARCHES = Counter("copilot_shared_searches_total",
                          "Requests that waited for an identical cache miss another request was already searching",
                          ["route"])
WORKER_READY = Gauge("copilot_worker_ready",
                     "1 once the worker has loaded its embedding model and opened its index, which it does at start")
LLM_CIRCUIT_OPEN = Gauge("copilot_llm_circuit_open",
                         "1 while summaries skip the LLM after repeated failures (copilot.circuit)")
