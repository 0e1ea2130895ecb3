"""The `copilot` command line: the stack, the simulator, tenants, the pipeline processes and their status."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import sys
from pathlib import Path

import click

from copilot.settings import Settings

log = logging.getLogger("copilot")
DEMO_DOMAIN = "demo.freshdesk.test"


def _logging() -> None:
    logging.basicConfig(level=os.environ.get("COPILOT_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group()
def main() -> None:
    """freshdesk-copilot: Freshdesk -> Kafka -> Faust -> Milvus -> the sidebar API."""
    _logging()


# -- stack ----------------------------------------------------------------------------------------------------
@main.group()
def stack() -> None:
    """Kafka (KRaft), Redis and Milvus Lite on 127.0.0.1, state under COPILOT_DATA_DIR."""


def _local_stack():  # type: ignore[no-untyped-def]
    from copilot.stack.local import LocalStack

    return LocalStack(Settings().stack)


@stack.command("up")
def stack_up() -> None:
    """Start whatever is not running and wait until each service answers (idempotent)."""
    s = _local_stack()
    s.up()
    _print_stack(s)


@stack.command("down")
def stack_down() -> None:
    """Stop the services this data directory started; leaves their data in place."""
    stopped = _local_stack().down()
    click.echo(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@stack.command("status")
def stack_status() -> None:
    s = _local_stack()
    _print_stack(s)
    if not all(st.healthy for st in s.status()):
        sys.exit(1)


def _print_stack(s) -> None:  # type: ignore[no-untyped-def]
    for st in s.status():
        state = "healthy" if st.healthy else ("running, not answering" if st.pid else "stopped")
        click.echo(f"{st.name:7} {st.address:28} pid={st.pid or '-':<8} {state}")


# -- simulator and demo data ----------------------------------------------------------------------------------
@main.command()
@click.option("--port", type=int, default=8090, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--domain", required=True)
@click.option("--api-key", envvar="COPILOT_SIMULATOR_API_KEY", required=True)
@click.option("--tickets", "tickets_file", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--articles", "articles_file", type=click.Path(exists=True, path_type=Path))
@click.option("--rate-limit", type=int, default=400, show_default=True, help="calls per minute")
@click.option("--error-rate", type=float, default=0.0, help="share of calls answered 503")
@click.option("--archive-after-days", type=int, help="archive closed tickets idle this long (off by default)")
def simulator(port: int, host: str, domain: str, api_key: str, tickets_file: Path, articles_file: Path | None,
              rate_limit: int, error_rate: float, archive_after_days: int | None) -> None:
    """Serve a Freshdesk API v2 account from JSONL files."""
    from datetime import timedelta

    from aiohttp import web

    from connectors.freshdesk.simulator.account import SimulatedAccount
    from connectors.freshdesk.simulator.server import SimulatorConfig, create_simulator_app

    archive_after = timedelta(days=archive_after_days) if archive_after_days else None
    account = SimulatedAccount.from_files(tickets_file, articles_file, archive_after=archive_after)
    config = SimulatorConfig(domain=domain, api_key=api_key, rate_limit_per_minute=rate_limit,
                             error_rate=error_rate)
    web.run_app(create_simulator_app(account, config), host=host, port=port, access_log=None,
                print=lambda _: click.echo(f"simulator for {domain} on http://{host}:{port}"))


@main.command("demo-data")
@click.option("--tickets", "tickets_out", type=click.Path(path_type=Path), required=True)
@click.option("--articles", "articles_out", type=click.Path(path_type=Path))
@click.option("--count", type=int, default=120, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def demo_data(tickets_out: Path, articles_out: Path | None, count: int, seed: int) -> None:
    """Write deterministic demo tickets (and KB articles) as simulator JSONL."""
    _write_demo(tickets_out, articles_out, count, seed)


def _write_demo(tickets_out: Path, articles_out: Path | None, count: int, seed: int) -> None:
    from datetime import UTC, datetime

    from connectors.freshdesk.simulator.demo import generate_articles, generate_tickets

    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    tickets_out.parent.mkdir(parents=True, exist_ok=True)
    tickets_out.write_text("".join(json.dumps(t) + "\n" for t in generate_tickets(count, seed, now)))
    if articles_out:
        articles_out.write_text("".join(json.dumps(a) + "\n" for a in generate_articles(seed)))


# -- tenants --------------------------------------------------------------------------------------------------
@main.group()
def tenant() -> None:
    """Register Freshdesk accounts (API keys are stored encrypted)."""


async def _registry_call(action):  # type: ignore[no-untyped-def]
    from copilot.redis_client import connect
    from copilot.tenants import TenantRegistry
    from copilot.vault import KeyVault

    s = Settings()
    redis = connect(s.redis)
    try:
        vault = KeyVault.from_settings(s.security.fernet_keys, s.security.environment, s.stack.data_dir)
        return await action(TenantRegistry(redis, vault, s.kafka.namespace))
    finally:
        await redis.aclose()


@tenant.command("add")
@click.option("--domain", required=True)
@click.option("--api-key", envvar="FRESHDESK_API_KEY", required=True)
@click.option("--base-url", default=None, help="explicit API base URL (proxies, the simulator)")
def tenant_add(domain: str, api_key: str, base_url: str | None) -> None:
    t, webhook_secret = asyncio.run(_registry_call(lambda r: r.add(domain, api_key, base_url)))
    click.echo(f"registered {t.tenant_id} ({t.base_url})")
    click.echo("Freshdesk automation rule (optional, for near-real-time sync): Trigger Webhook, POST to\n"
               f"  <API base URL>/webhooks/freshdesk/{t.tenant_id}\n"
               f"  with the header X-Copilot-Webhook-Secret: {webhook_secret}\n"
               "This secret is shown only now; `tenant add` again makes a new one.")


@tenant.command("list")
def tenant_list() -> None:
    for t in asyncio.run(_registry_call(lambda r: r.all())):
        click.echo(f"{t.tenant_id}\t{t.base_url}\t{json.dumps(t.retrieval.dump())}")


@tenant.command("config")
@click.option("--domain", required=True)
@click.option("--embed", type=click.Choice(["text", "summary", "both"]),
              help="what the dense vector represents: the ticket's text, its summary, or both")
@click.option("--dense-weight", type=float, help="weight of the dense ranking in the fusion")
@click.option("--bm25-weight", type=float, help="weight of the BM25 ranking in the fusion")
@click.option("--subject-weight", type=float,
              help="weight of the two rankings by a ticket's subject when /init looks for similar tickets")
@click.option("--rrf-k", type=int, help="reciprocal-rank fusion constant (smaller trusts the top ranks more)")
@click.option("--max-results", type=int, help="the largest limit a request may ask for (1-50)")
def tenant_config(domain: str, embed: str | None, dense_weight: float | None, bm25_weight: float | None,
                  subject_weight: float | None, rrf_k: int | None, max_results: int | None) -> None:
    """Show or change a tenant's retrieval settings; they apply to the next request."""
    from copilot.errors import TenantError
    from copilot.retrieval_config import RetrievalConfigError

    try:
        config = asyncio.run(_registry_call(lambda r: r.configure(
            domain, embed=embed, dense_weight=dense_weight, bm25_weight=bm25_weight, subject_weight=subject_weight,
            rrf_k=rrf_k, max_results=max_results)))
    except RetrievalConfigError as exc:
        raise click.BadParameter(str(exc), param_hint=f"--{exc.field.replace('_', '-')}") from exc
    except TenantError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(config.dump()))
    if embed is not None:
        click.echo(f"tickets indexed before are re-embedded by `copilot reindex --tenant {domain}`")


# -- pipeline processes ---------------------------------------------------------------------------------------
@main.command()
@click.option("--progress/--no-progress", default=None,
              help="progress bars per tenant (tickets, calls, calls left, ETA); default: when on a terminal")
def sync(progress: bool | None) -> None:
    """Poll every registered tenant and publish changes to Kafka."""
    from rich.console import Console

    from connectors.backfill_progress import BackfillProgress
    from connectors.sync_service import SyncService

    bars = None
    if progress or (progress is None and sys.stdout.isatty()):
        bars = BackfillProgress(Console(force_terminal=True))
        logging.getLogger("connectors").setLevel(logging.WARNING)  # the bars say it; logs would tear them

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await SyncService(Settings(), bars).run(stop)

    asyncio.run(run())


@main.command()
def worker() -> None:
    """Run the Faust agents: join, summarize, embed and index."""
    from faust import Worker

    from copilot.topics import ensure_topics
    from streams.app import create_app

    settings = Settings()
    ensure_topics(settings.kafka)
    if settings.worker.metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker.metrics_port, addr=settings.worker.metrics_host)
    level = os.environ.get("COPILOT_LOG_LEVEL", "INFO").lower()
    Worker(create_app(settings), loglevel=level, redirect_stdouts=False).execute_from_commandline()


@main.command()
@click.option("--port", type=int, default=None, help="default: COPILOT_API_PORT")
def api(port: int | None) -> None:
    """Serve the sidebar API."""
    from aiohttp import web

    from api.app import create_app

    settings = Settings()
    host, port = settings.api.host, port or settings.api.port
    web.run_app(create_app(settings), host=host, port=port,
                print=lambda _: click.echo(f"API on http://{host}:{port}"))


@main.command()
@click.option("--api-port", type=int, default=None)
@click.option("--demo", is_flag=True, help="serve generated demo data from the simulator as a demo tenant")
@click.option("--simulator-port", type=int, default=8090, show_default=True)
def run(api_port: int | None, demo: bool, simulator_port: int) -> None:
    """Run the poller, the worker and the API together (and the simulator with --demo)."""
    from copilot.supervisor import Child, supervise

    settings = Settings()
    api_port = api_port or settings.api.port
    registered = asyncio.run(_registry_call(lambda r: r.all()))
    children = [Child("sync", ["sync"]), Child("worker", ["worker"]), Child("api", ["api", "--port", str(api_port)])]
    if demo or not registered:
        children.insert(0, _demo_simulator(settings, simulator_port))
    base = f"http://{settings.api.host}:{api_port}"
    key_file = settings.stack.data_dir.resolve() / "demo" / "api_key"
    click.echo(f"\nAPI: {base}\nTry (once the worker has indexed the demo tickets, see `copilot status`):\n"
               f"  curl -s -H 'X-Freshdesk-Domain: {DEMO_DOMAIN}' -H \"X-Freshdesk-Api-Key: $(cat {key_file})\" "
               f"{base}/init/1 | python3 -m json.tool\n")
    sys.exit(asyncio.run(supervise(children, env={})))


def _demo_simulator(settings: Settings, port: int):  # type: ignore[no-untyped-def]
    from copilot.supervisor import Child

    demo_dir = settings.stack.data_dir.resolve() / "demo"
    tickets, articles, key_file = demo_dir / "tickets.jsonl", demo_dir / "articles.jsonl", demo_dir / "api_key"
    if not tickets.exists():
        _write_demo(tickets, articles, count=120, seed=7)
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(24))
    api_key = key_file.read_text().strip()
    asyncio.run(_registry_call(lambda r: r.add(DEMO_DOMAIN, api_key, f"http://127.0.0.1:{port}")))
    os.environ["COPILOT_SIMULATOR_API_KEY"] = api_key  # passed to the child, never on its command line
    return Child("simulator", ["simulator", "--port", str(port), "--domain", DEMO_DOMAIN,
                               "--tickets", str(tickets), "--articles", str(articles)])


@main.command()
@click.option("--json", "as_json", is_flag=True)
def status(as_json: bool) -> None:
    """Per tenant: tickets seen, documents merged and indexed, cursor, last poll; consumer lag."""
    from copilot.status import pipeline_status

    report = asyncio.run(pipeline_status(Settings()))
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    for tenant_id, t in report["tenants"].items():
        click.echo(f"{tenant_id}: seen {t['tickets_seen']}, merged {t['documents_merged']}, "
                   f"indexed {t['documents_indexed']}, cursor {t['cursor']}, last poll {t['last_poll']}, "
                   f"last successful poll {t['last_success']} (lag {t['lag_seconds']} s)")
    click.echo(f"consumer lag: {report['total_lag']}")


@main.command("eval")
@click.option("--tickets", "tickets_file", type=click.Path(exists=True, path_type=Path), required=True)
@click.option("--queries", "queries_file", type=click.Path(exists=True, path_type=Path), required=True)
def evaluate(tickets_file: Path, queries_file: Path) -> None:
    """Recall@1/5/10 and MRR@10 of the full system and of BM25-only and dense-only baselines."""
    from copilot.evaluation import run_evaluation, table

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind, so the sandboxed stack is stopped
    click.echo(table(run_evaluation(tickets_file, queries_file)))


@main.group()
def dlq() -> None:
    """The dead-letter topic: what failed, where, and why; re-drive it once the cause is fixed."""


@dlq.command("list")
@click.option("--json", "as_json", is_flag=True)
def dlq_list(as_json: bool) -> None:
    from copilot.deadletters import read_dead_letters

    for entry in read_dead_letters(Settings().kafka):
        row = {"dlq_offset": entry.offset, "stage": entry.letter.stage, "source": entry.source,
               "error": entry.letter.error, "failed_at": entry.letter.failed_at.isoformat(),
               "key": (entry.letter.key or b"").decode(errors="replace")}
        click.echo(json.dumps(row) if as_json else "  ".join(str(v) for v in row.values()))


@dlq.command("replay")
@click.option("--stage", default=None, help="only letters of this stage")
def dlq_replay(stage: str | None) -> None:
    """Publish each dead letter's original message to its source topic again (each letter at most once)."""
    from copilot.deadletters import replay_dead_letters

    replayed = asyncio.run(replay_dead_letters(Settings(), stage))
    click.echo(f"replayed {replayed} message(s)")


@main.command("replay")
@click.option("--stage", type=click.Choice(["merge", "summarize", "index"]), required=True)
@click.option("--from", "since", default="earliest", show_default=True,
              help="'earliest' or an ISO 8601 time: re-drive what the stage's source topic got since then")
def replay_stage(stage: str, since: str) -> None:
    """Re-drive one stage from its source topic (idempotent: unchanged input gives unchanged results)."""
    from datetime import datetime

    from copilot.replay import replay

    start = None if since == "earliest" else datetime.fromisoformat(since)
    count = asyncio.run(replay(Settings().kafka, stage, start))
    click.echo(f"re-published {count} message(s) for the {stage} stage")


@main.command()
@click.option("--index-version", help="the new collections' suffix, e.g. v2; without it, --tenant is rebuilt in place")
@click.option("--tenant", "tenant_domain", help="only this tenant's documents (other tenants' rows carried over)")
@click.option("--dry-run", is_flag=True, help="only report what would be reprocessed and what it would cost")
def reindex(index_version: str | None, tenant_domain: str | None, dry_run: bool) -> None:
    """Rebuild the index from the topics into new collections and switch the aliases to them, or rebuild
    one tenant in place."""
    import re

    from copilot.reindex import Reindexer
    from copilot.tenants import normalize_domain

    if index_version is not None and not re.fullmatch(r"[a-z0-9_]{1,16}", index_version):
        raise click.BadParameter("letters, digits and _ only, at most 16", param_hint="--index-version")
    if index_version is None and tenant_domain is None:
        raise click.UsageError("give --index-version (everything into a new version) or --tenant (in place)")
    tenant_id = normalize_domain(tenant_domain) if tenant_domain else None
    settings = Settings()
    report = asyncio.run(Reindexer(settings, index_version, tenant_id).run(dry_run))
    model = settings.providers.chat_model
    cost = report.cost(model) if settings.providers.use_openai(settings.providers.summarizer) else 0.0
    where = f"into version {index_version}" if index_version else "in place"
    click.echo(f"{'would reprocess' if dry_run else 'reprocessed'} {report.documents} ticket(s) and "
               f"{report.articles} article(s) {where}{f' for {tenant_id}' if tenant_id else ''}")
    click.echo(f"summaries to compute: {report.resummarized} (about {report.input_tokens:,} input tokens); "
               f"estimated cost: {'unknown for ' + model if cost is None else f'${cost:.4f}'}")
    if not dry_run and index_version:
        click.echo(f"{report.copied} row(s) of other tenants carried over; aliases switched to {index_version}; "
                   f"{report.caught_up} change(s) made meanwhile caught up; the old collections are kept "
                   "(switch back with another reindex, or drop them)")
    elif not dry_run:
        click.echo(f"{report.caught_up} change(s) made meanwhile caught up")


@main.command()
def topics() -> None:
    """Create the project's Kafka topics (idempotent)."""
    from copilot.topics import ensure_topics

    created = ensure_topics(Settings().kafka)
    click.echo(f"created: {', '.join(created) or 'none, all exist'}")
