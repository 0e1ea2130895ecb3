"""What the stack costs at rest: the CPU each process uses with nothing to do, first with no client at all,
then with an idle worker connected; for the Kafka broker also by thread (the JVM names its threads).

On a small machine this is CPU the pipeline cannot use, and on CI it is spent for the whole test run.

    python -m bench.idle_cost --settle 60 --seconds 30
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from bench.pipeline import cpu_seconds, thread_cpu_seconds, worker_ready
from copilot.sandbox import free_port, machine, poll, sandbox


def share_of_a_core(seconds: float) -> tuple[Counter[str], Counter[str]]:
    """(per role, per broker thread name): the CPU used over the next `seconds`, in cores."""
    roles_before, broker_before = Counter(cpu_seconds()), thread_cpu_seconds("Kafka broker")
    time.sleep(seconds)
    roles, broker = Counter(cpu_seconds()), thread_cpu_seconds("Kafka broker")
    return (Counter({k: (v - roles_before[k]) / seconds for k, v in roles.items()}),
            Counter({k: (v - broker_before[k]) / seconds for k, v in broker.items()}))


def report(label: str, roles: Counter[str], broker: Counter[str]) -> None:
    print(f"{label}: " + ", ".join(f"{role} {share:.1%}" for role, share in roles.most_common() if share >= 0.0005)
          + " of a core")
    print("  broker threads: " + ", ".join(f"{name} {share:.1%}" for name, share in broker.most_common(6)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settle", type=float, default=60.0, help="seconds after the stack starts, before measuring "
                                                                    "(the JVM compiles the broker's hot code first)")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with sandbox() as r:
        time.sleep(args.settle)
        report("no client", *share_of_a_core(args.seconds))
        metrics_port = free_port()
        r.start("worker", "worker", extra={"COPILOT_METRICS_PORT": str(metrics_port)})
        poll(lambda: worker_ready(f"http://127.0.0.1:{metrics_port}/metrics"), timeout=300, interval=0.5)
        time.sleep(10)  # its group joined and its first fetches answered
        report("an idle worker", *share_of_a_core(args.seconds))


if __name__ == "__main__":
    main()
